#include "contacts/contact_rules.hpp"

#include "protocol/stanza_error.hpp"

namespace fedgate::contacts {

std::optional<subscription_event> subscription_event_of(protocol::element const& stanza)
{
    if (stanza.name() != "presence")
        return std::nullopt;
    auto const type = stanza.type();
    if (type == "subscribe")
        return subscription_event::subscribe;
    if (type == "subscribed")
        return subscription_event::subscribed;
    if (type == "unsubscribe")
        return subscription_event::unsubscribe;
    if (type == "unsubscribed")
        return subscription_event::unsubscribed;
    if (type == "probe")
        return subscription_event::probe;
    return std::nullopt;
}

std::optional<relationship> relationship_of(protocol::stanza_addresses const& addresses, bool inbound)
{
    auto const& [from, to] = addresses;
    if (from.local().empty() || to.local().empty())
        return std::nullopt;
    auto local = (inbound ? to : from).bare().to_string();
    auto remote = (inbound ? from : to).bare().to_string();
    return relationship{std::move(local), std::move(remote)};
}

relationship_state next_state(relationship_state s, subscription_event event, bool outbound) noexcept
{
    // RFC 6121 §3.1-§3.3 as seen from the local user's side.
    switch (event) {
    case subscription_event::subscribe:
        if (outbound)
            s.asked = !s.to;  // an invitation (re-sent when already subscribed: nothing new)
        break;
    case subscription_event::subscribed:
        if (outbound)
            s.from = true;  // the user let the contact see its presence
        else if (s.asked || s.to) {
            s.to = true;  // the contact accepted the user's invitation
            s.asked = false;
        }
        break;
    case subscription_event::unsubscribe:
        if (outbound) {
            s.to = false;
            s.asked = false;
        } else {
            s.from = false;
        }
        break;
    case subscription_event::unsubscribed:
        if (outbound) {
            s.from = false;
        } else {
            s.to = false;
            s.asked = false;
        }
        break;
    case subscription_event::probe:
        // A server probes the contacts its user is subscribed to (RFC 6121 §4.3).
        if (outbound)
            s.to = true;
        break;
    }
    return s;
}

std::string stanza_kind(protocol::element const& stanza)
{
    auto const type = stanza.type();
    return type.empty() ? stanza.name() : stanza.name() + " " + std::string{type};
}

contact_decision judge_inbound(policy::partner_type type, protocol::element const& stanza, bool related)
{
    if (type != policy::partner_type::public_unverified || related)
        return {};
    // These only take access away (RFC 6121 §3.2, §3.3): a contact whose
    // relationship just ended must still be able to say so, and go offline.
    if (stanza.name() == "presence" &&
        (stanza.type() == "unavailable" || stanza.type() == "unsubscribe" || stanza.type() == "unsubscribed"))
        return {};
    contact_decision refused{.pass = false, .reply = std::nullopt, .reason = {}, .code = {}};
    bool const uninvited = stanza_kind(stanza) == "presence subscribe";
    refused.reason = uninvited ? "a subscription request the local user did not invite (public_unverified partner)"
                               : "no relationship with the local user (public_unverified partner)";
    refused.code = uninvited ? refusal_code::uninvited_subscription : refusal_code::no_relationship;
    auto const kind = stanza.type();
    // Presence is dropped; message and iq requests get <forbidden/>; results and
    // errors are never answered (RFC 6120 §8.2.3, §8.3.1).
    bool const answerable = stanza.name() == "message" ? kind != "error"
                            : stanza.name() == "iq"    ? kind == "get" || kind == "set"
                                                       : false;
    if (answerable && protocol::may_bounce(stanza))
        refused.reply = protocol::make_error_reply(stanza, protocol::stanza_condition::forbidden,
                                                   "the recipient has not accepted contact from you");
    return refused;
}

}  // namespace fedgate::contacts
