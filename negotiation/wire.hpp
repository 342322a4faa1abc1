#pragma once
/// @file
/// Builders and readers for the negotiation elements of RFC 6120 (STARTTLS, SASL)
/// and XEP-0220 (dialback), so that the sessions read as protocol steps.

#include "negotiation/session_types.hpp"
#include "negotiation/sasl_external.hpp"
#include "protocol/element.hpp"
#include "protocol/stanza_error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace fedgate::negotiation::wire {

/// An element in the TLS namespace: "starttls", "proceed", "failure".
[[nodiscard]] protocol::element tls(std::string_view name);
/// <auth mechanism='EXTERNAL'>payload</auth>; the payload is already base64.
[[nodiscard]] protocol::element sasl_auth_external(std::string_view base64_payload);
/// <success/>, <challenge/> (empty, RFC 6120 §6.4.2 for a missing initial response).
[[nodiscard]] protocol::element sasl(std::string_view name);
/// <failure><CONDITION/></failure> (RFC 6120 §6.5).
[[nodiscard]] protocol::element sasl_failure(sasl_condition condition);
/// The SASL condition named in a received <failure/>, if any.
[[nodiscard]] std::optional<std::string_view> sasl_failure_condition(protocol::element const& failure);

/// Which dialback element: db:result (Initiating <-> Receiving) or db:verify
/// (Receiving <-> Authoritative).
enum class db_kind : std::uint8_t { result, verify };
/// A dialback request carrying a key (no type).
[[nodiscard]] protocol::element db_request(db_kind kind, std::string_view from, std::string_view to,
                                           std::string_view id, std::string_view key);
/// A dialback answer: type 'valid' or 'invalid'. `id` is written for db:verify only.
[[nodiscard]] protocol::element db_answer(db_kind kind, std::string_view from, std::string_view to,
                                          std::string_view id, bool valid);
/// A dialback error (XEP-0220 §2.4): type 'error' with a stanza error condition.
[[nodiscard]] protocol::element db_error(db_kind kind, std::string_view from, std::string_view to,
                                         std::string_view id, protocol::stanza_condition condition);
/// The element name of `kind`.
[[nodiscard]] std::string_view name(db_kind kind) noexcept;

/// The dialback error a Receiving Server sends for a failed verification
/// (XEP-0220 §2.4 table).
[[nodiscard]] protocol::stanza_condition dialback_error_for(dialback_outcome outcome) noexcept;

/// The condition of a received <stream:error/>: "system-shutdown", or "" when it has none.
[[nodiscard]] std::string stream_error_condition(protocol::element const& error);
/// "<system-shutdown/>: text" for a received <stream:error/>, for logs and bounces.
[[nodiscard]] std::string describe_stream_error(protocol::element const& error);

/// The canonical form of a domain attribute, or "" when it is not a domain name.
[[nodiscard]] std::string canonical_domain(std::string_view text);

/// Visitor helper for the sessions' std::visit over events.
template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
// C++20 deduces this for an aggregate by itself; clang before 17 does not (scripts/lint runs clang-tidy 14).
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

/// Reads the 'type' of a received dialback answer.
[[nodiscard]] std::optional<dialback_outcome> read_db_type(protocol::element const& answer);

}  // namespace fedgate::negotiation::wire
