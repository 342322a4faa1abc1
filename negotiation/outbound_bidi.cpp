// outbound_session (outbound_session.hpp): XEP-0288 on a stream we opened.
// Once we have authenticated, the peer may send its stanzas for our pair the
// other way; they are checked as an inbound stream checks them, for the one
// pair (pair.remote -> pair.local), and counted for XEP-0198 like ours.
//
// Why the peer is authenticated for that pair: we reached it through the DNS
// of pair.remote and checked its certificate for pair.remote. With SASL the
// certificate was valid (PKIX, as good as SASL EXTERNAL inbound); with
// dialback it rests on DNS, exactly what a dialback verification of its key
// would rest on, and the partner's policy allowed dialback for this stream.
#include "negotiation/outbound_session.hpp"
#include "negotiation/session_terms.hpp"
#include "negotiation/stanza_addressing.hpp"

namespace fedgate::negotiation {

bool outbound_session::carries_theirs() const noexcept
{
    return bidi_ && (state_ == state::established || state_ == state::awaiting_stream_management);
}

std::vector<action> outbound_session::on_peer_stanza(element&& stanza)
{
    // Counted from <enabled/> on, where the peer's queue begins (XEP-0198 §4).
    handled_ += sm_enabled_ ? 1 : 0;
    auto const& pair = context_.pair;
    auto verdict = check_addressing(std::move(stanza),
                                    {.local = [&](std::string_view d) { return d == pair.local; },
                                     .authenticated = [&](domain_pair const& p) { return p == pair; },
                                     .stream_local = pair.local});
    if (auto* ending = std::get_if<close_stream>(&verdict)) {
        handled_ -= sm_enabled_ ? 1 : 0;  // refused with the stream: not in the last count
        return close(ending->condition, ending->reason, std::move(ending->detail));
    }
    return std::visit([](auto& a) { return only(std::move(a)); }, verdict);
}

std::vector<action> outbound_session::on_peer_db_request(element const& request)
{
    if (!carries_theirs())
        return {discarded{"db:result from " + std::string{request.from()} + " to " + std::string{request.to()} +
                          " on an outbound stream"}};
    // A dialback error (XEP-0288 §2.2 requires the connecting server to handle
    // them): the peer reaches that domain pair on a stream of its own.
    return {send_element{wire::db_error(db_kind::result, request.to(), request.from(), {},
                                        protocol::stanza_condition::feature_not_implemented)},
            discarded{"dialback for " + std::string{request.from()} + " -> " + std::string{request.to()} +
                      " asked on our bidirectional stream: refused, we authenticate a peer's domains on its streams"}};
}

}  // namespace fedgate::negotiation
