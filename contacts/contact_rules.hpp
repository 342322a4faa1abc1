#pragma once
/// @file
/// The partner types' contact rules (seed 000 step 10; shared/DESIGN.md "Partner
/// types: contact rules") and the subscription bookkeeping they rest on, without
/// I/O: which relationship a relayed stanza is about, what it teaches (RFC 6121
/// §3), and whether an inbound stanza may reach the local user.

#include "policy/partner.hpp"
#include "protocol/element.hpp"
#include "protocol/jid.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fedgate::contacts {

/// A local user and a remote contact, as normalised bare JIDs.
struct relationship {
    std::string local;
    std::string remote;
    friend bool operator==(relationship const&, relationship const&) = default;
    friend auto operator<=>(relationship const&, relationship const&) = default;
};

/// What fedgate has seen pass between the two (RFC 6121 §3 states).
struct relationship_state {
    bool to = false;     ///< the local user receives the contact's presence
    bool from = false;   ///< the contact receives the local user's presence
    bool asked = false;  ///< the local user asked (an invitation), no answer yet
    /// Any relationship at all: what lets a public_unverified contact in.
    [[nodiscard]] bool any() const noexcept { return to || from || asked; }
    friend bool operator==(relationship_state const&, relationship_state const&) = default;
};

/// The subscription-related presence types (RFC 6121 §3), and probes.
enum class subscription_event : std::uint8_t { subscribe, subscribed, unsubscribe, unsubscribed, probe };

/// The event a presence stanza carries, if any.
[[nodiscard]] std::optional<subscription_event> subscription_event_of(protocol::element const& stanza);

/// The relationship a stanza with these addresses is about: `inbound` stanzas go
/// from a remote contact to a local user, outbound ones the other way. nullopt
/// when an address is not a user's JID (a server, a service).
[[nodiscard]] std::optional<relationship> relationship_of(protocol::stanza_addresses const& addresses, bool inbound);

/// The state after `event` passed, sent by the local user (`outbound`) or by the
/// contact. An outbound probe shows that the user's roster holds the contact.
[[nodiscard]] relationship_state next_state(relationship_state s, subscription_event event, bool outbound) noexcept;

/// Why the contact rules refuse a stanza, as metric labels
/// (fedgate_refusals_total{reason}); `every` for the series shown at start.
namespace refusal_code {
inline constexpr std::string_view uninvited_subscription = "uninvited_subscription";
inline constexpr std::string_view no_relationship = "no_relationship";
inline constexpr std::string_view commit_wait_full = "commit_wait_full";  ///< an invitation's commit gate
inline constexpr std::string_view every[] = {uninvited_subscription, no_relationship, commit_wait_full};
}  // namespace refusal_code

/// Whether an inbound stanza reaches the local user.
struct contact_decision {
    bool pass = true;
    std::optional<protocol::element> reply;  ///< <forbidden/> for a refused message or iq get/set
    std::string reason;                      ///< why it was refused, for the log
    std::string_view code;                   ///< the same as a metric label: "no_relationship", ...
};

/// @param related whether the local user has any relationship with the sender
[[nodiscard]] contact_decision judge_inbound(policy::partner_type type, protocol::element const& stanza, bool related);

/// "message", "presence subscribe", "iq get", ...: the kind of a stanza for logs.
[[nodiscard]] std::string stanza_kind(protocol::element const& stanza);

}  // namespace fedgate::contacts
