// inbound_session (inbound_session.hpp): the receiving side of XEP-0198 stream
// management, acknowledgements only: the peer enables it once authenticated,
// asks with <r/>, and we answer with the stanzas handled on the stream. On a
// bidi stream (XEP-0288) that carries ours, its <a/> count them.
#include "negotiation/inbound_session.hpp"

#include "negotiation/session_terms.hpp"
#include "negotiation/stream_management.hpp"

namespace fedgate::negotiation {

bool inbound_session::offers_stream_management() const
{
    // Offered before authentication too (XEP-0198 §2 allows it: enabling waits
    // for it), so that dialback streams, which get no features afterwards, can
    // use it.
    return partner_ != nullptr && partner_->extensions.stream_management;
}

std::vector<action> inbound_session::on_stream_management(element const& e)
{
    using protocol::stanza_condition;
    if (e.name() == "enable") {
        if (sm_enabled_ || authenticated_.empty())
            // §3: not twice, and not before authentication.
            return {send_element{sm::failed(stanza_condition::unexpected_request)}};
        if (!offers_stream_management())
            return {send_element{sm::failed(stanza_condition::feature_not_implemented)}};
        sm_enabled_ = true;
        handled_ = 0;
        std::vector<action> out{send_element{sm::enabled()}};
        if (reverse_ == reverse_state::pending)
            decide_reverse(out, true);  // XEP-0288: ours go after <enabled/>, counted
        return out;
    }
    if (e.name() == "resume")
        // §5: nothing to resume; the peer starts a new stream and sends again.
        return {send_element{sm::failed(stanza_condition::item_not_found)}};
    if (e.name() == "r" && sm_enabled_)
        return {send_ack{handled_}};
    if (e.name() == "a" && sm_enabled_) {
        auto const handled = sm::handled_count(e);
        if (reverse_counted_ && handled)
            return {acknowledged{*handled}};  // XEP-0288: of our stanzas on this stream
        if (reverse_counted_)
            return close(stream_error::invalid_xml, close_reason::bad_input,
                         "<a/> without a valid 'h' ('" + std::string{e.attribute_or_empty("h")} + "')");
        // Enabled after our stanzas began on a bidi stream: they are not counted.
        if (reverse_ == reverse_state::ready)
            return {};
        // No stanza of ours on this stream, so the peer can only have handled
        // none; a count above that is an error of §6.
        if (handled && *handled == 0)
            return {};
        return close(stream_error::undefined_condition, close_reason::bad_input,
                     "the peer acknowledged stanzas this stream never sent ('" +
                         std::string{e.attribute_or_empty("h")} + "')");
    }
    return close(stream_error::unsupported_stanza_type, close_reason::bad_input,
                 "unexpected <" + e.name() + " xmlns='" + e.ns() + "'/>" +
                     (sm_enabled_ ? "" : " (stream management is not enabled)"));
}

}  // namespace fedgate::negotiation
