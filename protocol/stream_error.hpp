#pragma once
/// @file
/// Stream error conditions (RFC 6120 §4.9.3) as a std::error_code category, so
/// that readers and sessions report peer misbehaviour as values, not exceptions.

#include <string_view>
#include <system_error>

namespace fedgate::protocol {

/// Every defined stream error condition, named as on the wire (RFC 6120 §4.9.3).
enum class stream_error {
    bad_format = 1,
    bad_namespace_prefix,
    conflict,
    connection_timeout,
    host_gone,
    host_unknown,
    improper_addressing,
    internal_server_error,
    invalid_from,
    invalid_namespace,
    invalid_xml,
    not_authorized,
    not_well_formed,
    policy_violation,
    remote_connection_failed,
    reset,
    resource_constraint,
    restricted_xml,
    see_other_host,
    system_shutdown,
    undefined_condition,
    unsupported_encoding,
    unsupported_feature,
    unsupported_stanza_type,
    unsupported_version,
};

/// The category: name() is "xmpp.stream", message() the wire name.
[[nodiscard]] std::error_category const& stream_error_category() noexcept;

/// "not-well-formed", ...: the element name inside <stream:error/>.
[[nodiscard]] std::string_view wire_name(stream_error e) noexcept;

/// The condition whose wire name is `name`; undefined_condition if none is.
[[nodiscard]] stream_error stream_error_from_wire(std::string_view name) noexcept;

[[nodiscard]] inline std::error_code make_error_code(stream_error e) noexcept
{
    return {static_cast<int>(e), stream_error_category()};
}

}  // namespace fedgate::protocol

template <>
struct std::is_error_code_enum<fedgate::protocol::stream_error> : std::true_type {};
