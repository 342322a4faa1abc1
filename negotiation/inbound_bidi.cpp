// inbound_session (inbound_session.hpp): the receiving side of XEP-0288. The
// peer asks for a bidirectional stream before it authenticates; once it has,
// the stream may carry our stanzas for the pair back to it (bidi_ready), and
// the router hands them to it instead of opening a stream of ours.
#include "negotiation/bidi.hpp"
#include "negotiation/inbound_session.hpp"
#include "negotiation/session_terms.hpp"

namespace fedgate::negotiation {

bool inbound_session::offers_bidi() const
{
    // Before authentication only: the request must come before SASL or
    // dialback (XEP-0288 §2.2), and a partner that turned it off is not asked.
    return partner_ != nullptr && partner_->extensions.bidi && authenticated_.empty() && !bidi_;
}

std::vector<action> inbound_session::on_bidi_request()
{
    if (bidi_)
        return {};
    if (!offers_bidi())
        // Harmless: our stanzas simply go on a stream of our own.
        return {discarded{"<bidi/> that was not offered" +
                          std::string{authenticated_.empty() ? "" : " (after authentication)"} + ": ignored"}};
    bidi_ = true;
    return {};
}

void inbound_session::offer_reverse(std::vector<action>& out, domain_pair const& pair)
{
    if (!bidi_ || reverse_ != reverse_state::none || state_ != state::open)
        return;
    reverse_pair_ = pair;
    out.emplace_back(bidi_ready{pair});
    if (offers_stream_management() && !sm_enabled_) {
        // The peer may enable XEP-0198 (Prosody does, right after the stanzas
        // it had waiting): ours then go after <enabled/>, where its count of
        // them begins. Until then they wait, and no stream of ours is made.
        reverse_ = reverse_state::pending;
        return;
    }
    decide_reverse(out, sm_enabled_);
}

void inbound_session::decide_reverse(std::vector<action>& out, bool counted)
{
    reverse_ = reverse_state::ready;
    reverse_counted_ = counted;
    out.emplace_back(bidi_counting{reverse_pair_, counted});
}

}  // namespace fedgate::negotiation
