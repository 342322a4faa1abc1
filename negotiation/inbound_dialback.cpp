// inbound_session (inbound_session.hpp): the receiving side of dialback,
// db:result judged per pair and db:verify answered as the authoritative server.
#include "negotiation/inbound_session.hpp"

#include "negotiation/session_terms.hpp"
#include "negotiation/wire.hpp"
#include "protocol/jid.hpp"
#include "protocol/namespaces.hpp"

#include <algorithm>

namespace fedgate::negotiation {

// ---- dialback (XEP-0220 §2.2) --------------------------------------------------------

std::vector<action> inbound_session::on_db_result(element const& request)
{
    if (!request.type().empty())
        return {discarded{"unsolicited db:result type='" + std::string{request.type()} + "' on an inbound stream"}};
    auto const from = canonical_domain(request.from());
    auto const to = canonical_domain(request.to());
    if (from.empty() || to.empty())
        return close(stream_error::improper_addressing, close_reason::bad_input, "db:result without a valid from and to");
    auto error = [&](protocol::stanza_condition condition, std::string detail) {
        return count_failure({send_element{wire::db_error(db_kind::result, to, from, {}, condition)}},
                             "dialback for " + from + " -> " + to + " refused: " + detail);
    };
    if (!context_.domains->is_local(to))
        return error(protocol::stanza_condition::item_not_found, to + " is not served here");
    // A blocked sender ends a stream that spoke for no domain yet; on another
    // domain's stream (an additional domain blocked by name) only its pair is refused.
    if (partner_ != nullptr && from != remote_ && context_.blocklist) {
        if (auto const* entry = context_.blocklist->match(from, context_.domains->find_listed_partner(from) != nullptr))
            return error(protocol::stanza_condition::not_allowed, policy::blocked_text(from, *entry));
    } else if (auto refused = refuse_if_blocked(from)) {
        return std::move(*refused);
    }
    // A stream opened with 'from' speaks for that domain's server; other senders
    // may be multiplexed (XEP-0220 §4.3), each checked on its own.
    auto const* partner = context_.domains->find_partner(from);
    if (partner == nullptr)
        return error(protocol::stanza_condition::policy_violation, from + " is not a federation partner");
    if (peer_domain_.empty())
        peer_domain_ = from;  // a header without 'from': the first db:result says whose stream it is
    // The header's 'from' chose the partner: only its own domains share the
    // stream. An unlisted domain's stream carries that domain alone, also one
    // whose header named nobody (its first db:result chose); such a stream
    // may still multiplex listed partners (XEP-0220 §4.3).
    auto const& stream_domain = partner_ != nullptr ? remote_ : peer_domain_;
    auto const* stream_partner = partner_ != nullptr ? partner_ : context_.domains->find_partner(peer_domain_);
    bool const one_partner = partner_ != nullptr || (stream_partner != nullptr && (!stream_partner->listed || !partner->listed));
    if (one_partner && stream_partner != nullptr && !same_partner(*stream_partner, stream_domain, *partner, from))
        return error(protocol::stanza_condition::policy_violation,
                     from + " belongs to " + partner_name(*partner, from) + ", not to " +
                         partner_name(*stream_partner, stream_domain) + ", whose stream this is");
    if (!partner->methods.contains(dialback_method()))
        return error(protocol::stanza_condition::policy_violation,
                     std::string{display_name(dialback_method())} + " is not allowed for " + partner_name(*partner, from) +
                         " (allowed: " + describe(partner->methods) + ")");
    domain_pair pair{to, from};
    if (authenticated_.contains(pair))
        return {send_element{wire::db_answer(db_kind::result, to, from, {}, true)}};
    if (pending_dialback_.contains(pair))
        return {discarded{"a second db:result for " + from + " -> " + to + " while the first is being verified"}};
    if (tls_ && certificate_ != nullptr && certificate_->check(from).valid()) {
        // XEP-0344 §2.4 "dialback without dialback": the TLS peer already proved
        // it holds a trusted certificate for the sender domain, which is stronger
        // than anything the Authoritative Server could tell us.
        authenticated_.insert(pair);
        std::vector<action> out{send_element{wire::db_answer(db_kind::result, to, from, {}, true)},
                                authenticated{pair, auth_method::tls_dialback}};
        offer_reverse(out, pair);
        return out;
    }
    pending_dialback_.emplace(pair, stream_id_);
    return {ask_dialback{pair, stream_id_, request.text()}};
}

std::vector<action> inbound_session::on_dialback_answer(dialback_answer const& answer)
{
    // After the SASL restart and before the peer's new header, our new header is
    // not out: nothing may be written on the stream yet (RFC 6120 §4.3.1).
    bool const before_header = state_ == state::awaiting_header;
    auto out = answer_dialback(answer);
    if (!before_header)
        return out;
    std::vector<action> now;
    bool const closing = std::any_of(out.begin(), out.end(),
                                     [](action const& a) { return std::holds_alternative<close_stream>(a); });
    for (auto& a : out) {
        if (!std::holds_alternative<send_element>(a))
            now.push_back(std::move(a));
        else if (!closing)  // a closing stream says why in its stream error instead
            after_header_.push_back(std::move(a));
    }
    return now;
}

std::vector<action> inbound_session::answer_dialback(dialback_answer const& answer)
{
    auto it = pending_dialback_.find(answer.pair);
    if (it == pending_dialback_.end() || it->second != answer.stream_id)
        return {discarded{"a dialback answer for " + answer.pair.remote + " -> " + answer.pair.local +
                          " that this stream did not ask for"}};
    pending_dialback_.erase(it);
    auto const& [local, remote] = answer.pair;
    if (answer.outcome == dialback_outcome::valid) {
        authenticated_.insert(answer.pair);
        std::vector<action> out{send_element{wire::db_answer(db_kind::result, local, remote, {}, true)},
                                authenticated{answer.pair, dialback_method()}};
        offer_reverse(out, answer.pair);
        return out;
    }
    if (answer.outcome == dialback_outcome::invalid) {
        // XEP-0220 §2.2.1: a spoofing attempt; answer invalid and close the stream.
        std::vector<action> out{send_element{wire::db_answer(db_kind::result, local, remote, {}, false)}};
        state_ = state::closed;
        out.emplace_back(close_stream{stream_error::not_authorized, close_reason::dialback_invalid,
                                      "the dialback key for " + remote + " -> " + local + " is invalid"});
        return out;
    }
    return count_failure({send_element{wire::db_error(db_kind::result, local, remote, {},
                                                      wire::dialback_error_for(answer.outcome))}},
                         "the authoritative server of " + remote + " could not verify the key");
}

std::vector<action> inbound_session::on_db_verify(element const& request)
{
    // XEP-0220 §3.1: a typed db:verify is an answer, and answers never arrive on
    // inbound streams: we send no db:verify on a peer's stream, bidi or not
    // (XEP-0288 §2.2 forbids it on the stream the request came on).
    if (!request.type().empty())
        return {discarded{"unsolicited db:verify type='" + std::string{request.type()} + "' on an inbound stream"}};
    asked_verify_ = true;
    auto const asking = canonical_domain(request.from());  // the Receiving Server
    auto const ours = canonical_domain(request.to());      // the domain whose key it checks
    auto const id = request.id();
    if (asking.empty() || ours.empty() || id.empty())
        return close(stream_error::improper_addressing, close_reason::bad_input, "db:verify without from, to and id");
    // The asking domain's partner counts too: a header without 'from' must not
    // bypass its TLS requirement.
    for (auto const* partner : {partner_, context_.domains->find_partner(asking)})
        if (partner != nullptr && partner->settings.tls == requirement::required && !tls_)
            return close(stream_error::policy_violation, close_reason::policy,
                         "db:verify before TLS from " + partner->domain + ", whose policy requires TLS");
    if (!context_.domains->is_local(ours))
        return {send_element{wire::db_error(db_kind::verify, ours, asking, id, protocol::stanza_condition::item_not_found)}};
    // XEP-0185: stateless, so any instance sharing the secret answers the same.
    bool valid = context_.secret->verify(request.text(), asking, ours, id);
    return {send_element{wire::db_answer(db_kind::verify, ours, asking, id, valid)}};
}

}  // namespace fedgate::negotiation
