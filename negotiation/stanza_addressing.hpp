#pragma once
/// @file
/// The addressing check every stanza from a peer goes through, whichever side
/// opened the stream (RFC 6120 §8.1.1.2, §8.1.2.2): an inbound stream checks it
/// against the pairs the peer authenticated on it, an outbound stream with
/// XEP-0288 against its one pair, the other way round.

#include "negotiation/session_types.hpp"

#include <functional>
#include <string_view>
#include <variant>

namespace fedgate::negotiation {

/// Whether `e` is a message, presence or iq of jabber:server.
[[nodiscard]] bool is_stanza(protocol::element const& e);

/// What becomes of a stanza from the peer: routed with its parsed addresses,
/// bounced (a 'to' that is no JID), dropped with a word, or the stream ends.
using addressing_verdict = std::variant<route_stanza, bounce_stanza, discarded, close_stream>;

/// How a stream judges a stanza's domains: `local` names ours, `authenticated`
/// the pairs (ours, theirs) the peer may send for on this stream, and
/// `stream_local` is our domain on the stream, the sender of a bounce.
struct addressing_rules {
    std::function<bool(std::string_view)> local;
    std::function<bool(domain_pair const&)> authenticated;
    std::string_view stream_local;
};

/// RFC 6120 §8.1.1.2 and §8.1.2.2 for one stanza: 'from' and 'to' present and
/// valid, 'to' one of our domains, and (to domain, from domain) an authenticated pair.
[[nodiscard]] addressing_verdict check_addressing(protocol::element&& stanza, addressing_rules const& rules);

}  // namespace fedgate::negotiation
