#include "negotiation/stanza_addressing.hpp"

#include "negotiation/session_terms.hpp"
#include "protocol/jid.hpp"

namespace fedgate::negotiation {

bool is_stanza(element const& e)
{
    return e.ns() == ns::server && (e.name() == "message" || e.name() == "presence" || e.name() == "iq");
}

addressing_verdict check_addressing(element&& stanza, addressing_rules const& rules)
{
    auto const from_text = stanza.from();
    auto const to_text = stanza.to();
    if (from_text.empty() || to_text.empty())
        return close_stream{stream_error::improper_addressing, close_reason::bad_input,
                            "<" + stanza.name() + "/> without " + (from_text.empty() ? "'from'" : "'to'")};
    auto from = protocol::jid::parse(from_text);
    if (!from)
        return close_stream{stream_error::invalid_from, close_reason::not_authenticated,
                            "'" + std::string{from_text} + "' is not a valid JID"};
    std::string why;
    auto to = protocol::jid::parse(to_text, &why);
    if (!to) {
        domain_pair pair{std::string{rules.stream_local}, from->domain()};
        if (!rules.authenticated(pair) || !protocol::may_bounce(stanza))
            return discarded{"<" + stanza.name() + "/> to an invalid JID: " + why};
        auto reply = make_error_reply(stanza, protocol::stanza_condition::jid_malformed, why);
        reply.set_attribute("from", pair.local);  // the invalid 'to' cannot be the sender
        return bounce_stanza{std::move(reply), std::move(pair)};
    }
    if (!rules.local(to->domain()))
        return close_stream{stream_error::host_unknown, close_reason::host_unknown,
                            to->domain() + " is not a domain served here"};
    domain_pair pair{to->domain(), from->domain()};
    if (!rules.authenticated(pair))
        return close_stream{stream_error::invalid_from, close_reason::not_authenticated,
                            from->domain() + " is not authenticated for " + to->domain() + " on this stream"};
    return route_stanza{std::move(stanza), std::move(pair), {std::move(*from), std::move(*to)}};
}

}  // namespace fedgate::negotiation
