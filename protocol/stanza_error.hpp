#pragma once
/// @file
/// Stanza errors (RFC 6120 §8.3): conditions, types, and the error reply to a stanza.

#include "protocol/element.hpp"

#include <string_view>

namespace fedgate::protocol {

/// Every defined stanza error condition (RFC 6120 §8.3.3).
enum class stanza_condition {
    bad_request,
    conflict,
    feature_not_implemented,
    forbidden,
    gone,
    internal_server_error,
    item_not_found,
    jid_malformed,
    not_acceptable,
    not_allowed,
    not_authorized,
    policy_violation,
    recipient_unavailable,
    redirect,
    registration_required,
    remote_server_not_found,
    remote_server_timeout,
    resource_constraint,
    service_unavailable,
    subscription_required,
    undefined_condition,
    unexpected_request,
};
/// The last stanza_condition (the metrics show a bounce count for each at start).
inline constexpr stanza_condition last_stanza_condition = stanza_condition::unexpected_request;

/// The error type (RFC 6120 §8.3.2): what the sender may do about it.
enum class stanza_error_type { auth, cancel, continue_, modify, wait };

[[nodiscard]] std::string_view wire_name(stanza_condition c) noexcept;
[[nodiscard]] std::string_view wire_name(stanza_error_type t) noexcept;
/// The type RFC 6120 §8.3.3 gives each condition in its examples.
[[nodiscard]] stanza_error_type default_type(stanza_condition c) noexcept;

/// Whether an error reply may be sent for `stanza`: never for a stanza of type
/// "error" (RFC 6120 §8.3.1: no error loops).
[[nodiscard]] bool may_bounce(element const& stanza) noexcept;

/// The error reply to `stanza` (RFC 6120 §8.3.1): same name, namespace and id, `to`
/// and `from` swapped, type "error", the original payload kept, and an <error/>
/// with the condition and, if given, a <text/>. Precondition: may_bounce(stanza).
[[nodiscard]] element make_error_reply(element const& stanza, stanza_condition condition,
                                       std::string_view text = {});

}  // namespace fedgate::protocol
