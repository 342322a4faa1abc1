#pragma once
/// @file
/// Why a DNS lookup failed. Each kind is distinct because each becomes a different
/// bounce and log line (remote-server-not-found vs remote-server-timeout, ...).

#include <string_view>
#include <system_error>

namespace fedgate::dns {

enum class error {
    nxdomain = 1,         ///< the name does not exist
    no_data,              ///< the name exists, without records of the type asked
    timeout,              ///< no server answered in time
    server_failure,       ///< SERVFAIL
    refused,              ///< REFUSED, or the server's port is closed
    bad_reply,            ///< malformed or unparseable answer
    service_unavailable,  ///< SRV target "." (RFC 2782): decidedly not offered
    cancelled,            ///< the resolver went away first
    failed,               ///< anything else c-ares reports
};
/// The last error (the metrics show each, from nxdomain, at start).
inline constexpr error last_error_kind = error::failed;

[[nodiscard]] std::error_category const& error_category() noexcept;
[[nodiscard]] inline std::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

/// A short stable code for metric labels and alerts: "nxdomain", "no_data",
/// "timeout", "server_failure", "refused", "bad_reply", "service_unavailable",
/// "cancelled", "failed" (also for an error of another category).
[[nodiscard]] std::string_view code_of(std::error_code ec) noexcept;

/// Whether this failure means "no such records" (NXDOMAIN or NODATA), as opposed to
/// a failure to find out.
[[nodiscard]] bool is_negative_answer(std::error_code ec) noexcept;

}  // namespace fedgate::dns

template <>
struct std::is_error_code_enum<fedgate::dns::error> : std::true_type {};
