#include "negotiation/inbound_session.hpp"

#include "negotiation/base64.hpp"
#include "negotiation/bidi.hpp"
#include "negotiation/session_terms.hpp"
#include "negotiation/stanza_addressing.hpp"
#include "negotiation/stream_management.hpp"
#include "negotiation/wire.hpp"
#include "protocol/namespaces.hpp"

#include <algorithm>

namespace fedgate::negotiation {

inbound_session::inbound_session(inbound_context context) : context_{std::move(context)}
{
    if (context_.direct_tls)
        state_ = state::awaiting_tls;
}

std::vector<action> inbound_session::start()
{
    return {};
}

std::vector<action> inbound_session::handle(event e)
{
    if (state_ == state::closed)
        return {};
    return std::visit(
        overloaded{
            [&](protocol::stream_opened const& opened) -> std::vector<action> {
                if (state_ != state::awaiting_header)
                    return close(stream_error::bad_format, close_reason::bad_input, "unexpected stream header");
                return on_header(opened.header);
            },
            [&](protocol::element_received& received) -> std::vector<action> {
                return on_element(std::move(received.stanza));
            },
            [&](protocol::stream_ended const&) -> std::vector<action> {
                return close(std::nullopt, close_reason::peer_closed, "the peer closed the stream");
            },
            [&](tls_established const& tls) { return on_tls(tls); },
            [&](dialback_answer const& answer) { return on_dialback_answer(answer); },
            [&](verify_request const&) -> std::vector<action> {
                return {discarded{"a verification request was routed to an inbound stream"}};
            },
            [&](deadline_passed const&) -> std::vector<action> {
                if (reverse_ == reverse_state::pending && state_ == state::open) {
                    // XEP-0198 was offered and the peer has not enabled it:
                    // our stanzas go uncounted rather than wait for ever.
                    std::vector<action> out;
                    decide_reverse(out, false);
                    return out;
                }
                if (!authenticated_.empty())
                    return {};
                return close(stream_error::connection_timeout, close_reason::timeout,
                             "negotiation did not complete in time");
            },
            [&](transport_closed const& closed) -> std::vector<action> {
                state_ = state::closed;
                return {close_stream{std::nullopt, close_reason::transport_closed, closed.why}};
            },
        },
        e);
}

// ---- stream header ---------------------------------------------------------------

std::vector<action> inbound_session::on_header(protocol::stream_header const& header)
{
    // RFC 6120 §4.7.5: without version 1.0 there are no stream features, so no TLS
    // and no SASL; fedgate federates with XMPP 1.0 servers only.
    if (header.version() != "1.0")
        return close(stream_error::unsupported_version, close_reason::bad_input,
                     "fedgate requires version='1.0', the peer sent '" + std::string{header.version()} + "'");
    local_ = canonical_domain(header.to());
    if (local_.empty() || !context_.domains->is_local(local_))
        return close(stream_error::host_unknown, close_reason::host_unknown,
                     "'" + std::string{header.to()} + "' is not a domain served here");
    remote_.clear();
    partner_ = nullptr;
    if (!header.from().empty()) {
        remote_ = canonical_domain(header.from());
        if (!remote_.empty())
            peer_domain_ = remote_;
        if (remote_.empty())
            return close(stream_error::invalid_from, close_reason::bad_input,
                         "'" + std::string{header.from()} + "' is not a domain name");
        if (auto refused = refuse_if_blocked(remote_))
            return std::move(*refused);
        partner_ = context_.domains->find_partner(remote_);
        if (partner_ == nullptr)
            return close(stream_error::policy_violation, close_reason::unknown_partner,
                         remote_ + " is not a federation partner of " + local_);
    }
    // After the SASL restart (the only one that keeps authenticated pairs) the
    // header must name the same partner (RFC 6120 §4.9.3.9).
    if (!authenticated_.empty()) {
        auto const* bound = context_.domains->find_partner(authenticated_.begin()->remote);
        if (partner_ == nullptr || bound == nullptr ||
            !same_partner(*partner_, remote_, *bound, authenticated_.begin()->remote))
            return close(stream_error::invalid_from, close_reason::not_authenticated,
                         "the restarted stream claims '" + remote_ + "', not the partner authenticated on it");
    }
    // RFC 6120 §4.7.3: a fresh, unpredictable id for every stream, restarts included.
    stream_id_ = context_.make_stream_id();
    state_ = state::open;
    std::vector<action> out;
    out.emplace_back(send_header{local_, remote_, stream_id_});
    out.emplace_back(send_element{features()});
    // Dialback answers that came while our header could not be sent yet.
    for (auto& held : std::exchange(after_header_, {}))
        out.push_back(std::move(held));
    if (!authenticated_.empty())  // after the SASL restart: the stream may carry ours (XEP-0288)
        offer_reverse(out, *authenticated_.begin());
    return out;
}

std::optional<std::vector<action>> inbound_session::refuse_if_blocked(std::string const& domain)
{
    if (!context_.blocklist)
        return std::nullopt;
    auto const* entry = context_.blocklist->match(domain, context_.domains->find_listed_partner(domain) != nullptr);
    if (entry == nullptr)
        return std::nullopt;
    return close(stream_error::policy_violation, close_reason::blocked, policy::blocked_text(domain, *entry));
}

bool inbound_session::offers_starttls() const
{
    // A header without 'from' gives no policy yet: offer TLS, decide at db:result.
    return !tls_ && authenticated_.empty() && (partner_ == nullptr || partner_->settings.tls != requirement::not_supported);
}

bool inbound_session::offers_external() const
{
    // XEP-0178 §2: EXTERNAL only when the certificate is valid for the 'from' domain.
    return tls_ && !sasl_done_ && partner_ != nullptr && partner_->methods.contains(auth_method::sasl_over_tls) &&
           certificate_ != nullptr && certificate_->check(remote_).valid();
}

bool inbound_session::offers_dialback() const
{
    return partner_ == nullptr || partner_->methods.contains(dialback_method());
}

auth_method inbound_session::dialback_method() const noexcept
{
    return tls_ ? auth_method::tls_dialback : auth_method::tcp_dialback;
}

element inbound_session::features() const
{
    element features{"features", std::string{ns::streams}};
    if (offers_starttls()) {
        auto& starttls = features.add_child(wire::tls("starttls"));
        if (partner_ != nullptr && partner_->settings.tls == requirement::required)
            starttls.add_child(wire::tls("required"));
    }
    if (offers_external()) {
        auto& mechanisms = features.add_child(element{"mechanisms", std::string{ns::sasl}});
        mechanisms.add_child(element{"mechanism", std::string{ns::sasl}}).add_text("EXTERNAL");
    }
    if (offers_stream_management())
        features.add_child(sm::feature());
    if (offers_bidi())
        features.add_child(bidi::feature());
    if (offers_dialback()) {
        // XEP-0220 §2.6: <errors/> announces dialback error handling, which we use.
        auto& dialback = features.add_child(element{"dialback", std::string{ns::dialback_feature}});
        dialback.add_child(element{"errors", std::string{ns::dialback_feature}});
    }
    return features;
}

// ---- elements --------------------------------------------------------------------

std::vector<action> inbound_session::on_element(element&& e)
{
    if (state_ != state::open && state_ != state::sasl_response)
        return close(stream_error::not_authorized, close_reason::bad_input,
                     "<" + e.name() + "/> while " + (state_ == state::tls_handshake ? "starting TLS" : "no stream is open"));
    if (state_ == state::sasl_response && !(e.ns() == ns::sasl && (e.name() == "response" || e.name() == "abort")))
        return close(stream_error::policy_violation, close_reason::bad_input,
                     "<" + e.name() + "/> in the middle of a SASL exchange");
    if (e.is("starttls", ns::tls))
        return on_starttls();
    if (e.ns() == ns::sasl) {
        if (e.name() == "auth")
            return on_auth(e);
        if (e.name() == "response" && state_ == state::sasl_response)
            return on_sasl_response(e);
        if (e.name() == "abort" && state_ == state::sasl_response) {
            state_ = state::open;
            return sasl_failed(sasl_condition::aborted, "the peer aborted SASL");
        }
        return close(stream_error::policy_violation, close_reason::bad_input, "unexpected SASL <" + e.name() + "/>");
    }
    if (e.ns() == ns::dialback && e.name() == "result")
        return on_db_result(e);
    if (e.ns() == ns::dialback && e.name() == "verify")
        return on_db_verify(e);
    if (is_stanza(e)) {
        // Handled, whatever happens to it next: routed, bounced or discarded.
        handled_ += sm_enabled_ ? 1 : 0;
        return on_stanza(std::move(e));
    }
    if (e.ns() == ns::sm)
        return on_stream_management(e);
    if (bidi::is_request(e))
        return on_bidi_request();
    if (e.is("error", ns::streams))
        return close(std::nullopt, close_reason::stream_error_received, "the peer sent " + describe_stream_error(e));
    return close(stream_error::unsupported_stanza_type, close_reason::bad_input,
                 "<" + e.name() + " xmlns='" + e.ns() + "'/> is not understood here");
}

// ---- STARTTLS (RFC 6120 §5) -----------------------------------------------------------

std::vector<action> inbound_session::on_starttls()
{
    if (!offers_starttls() || !pending_dialback_.empty()) {
        // §5.4.2.2: <failure/>, then close. A second STARTTLS, one on a direct-TLS
        // stream or one after authentication all land here.
        std::vector<action> out{send_element{wire::tls("failure")}};
        state_ = state::closed;
        out.emplace_back(close_stream{std::nullopt, close_reason::policy,
                                      tls_ ? "STARTTLS on a stream that is already encrypted"
                                           : "STARTTLS that was not offered"});
        return out;
    }
    state_ = state::tls_handshake;
    std::vector<action> out;
    out.emplace_back(send_element{wire::tls("proceed")});
    out.emplace_back(restart_stream{});
    out.emplace_back(begin_tls{tls_role::server, local_, {}});
    return out;
}

std::vector<action> inbound_session::on_tls(tls_established const& tls)
{
    if (state_ != state::tls_handshake && state_ != state::awaiting_tls)
        return close(stream_error::internal_server_error, close_reason::bad_input, "TLS completed unexpectedly");
    // RFC 6120 §5.4.3.3: everything learned before TLS is discarded.
    tls_ = true;
    certificate_ = tls.certificate;
    local_.clear();
    remote_.clear();
    partner_ = nullptr;
    authenticated_.clear();
    pending_dialback_.clear();
    bidi_ = false;  // XEP-0288 §2: asked for after TLS, on the new stream
    state_ = state::awaiting_header;
    return {};
}

// ---- SASL EXTERNAL (RFC 6120 §6, XEP-0178) -----------------------------------------

std::vector<action> inbound_session::on_auth(element const& auth)
{
    if (!tls_) {
        state_ = state::closed;
        return {send_element{wire::sasl_failure(sasl_condition::encryption_required)},
                close_stream{stream_error::policy_violation, close_reason::policy, "SASL before TLS"}};
    }
    if (sasl_done_)
        return close(stream_error::policy_violation, close_reason::policy, "SASL after SASL succeeded");
    if (reverse_ != reverse_state::none)
        // Its restart would put our stanzas (XEP-0288) before our next header.
        return close(stream_error::policy_violation, close_reason::policy,
                     "SASL on a bidirectional stream that already carries our stanzas");
    if (auth.attribute_or_empty("mechanism") != "EXTERNAL" || partner_ == nullptr ||
        !partner_->methods.contains(auth_method::sasl_over_tls))
        return sasl_failed(sasl_condition::invalid_mechanism,
                           "mechanism '" + std::string{auth.attribute_or_empty("mechanism")} + "' is not offered");
    auto payload = auth.text();
    if (payload.empty()) {
        // RFC 6120 §6.4.2: no initial response; ask for it with an empty challenge.
        state_ = state::sasl_response;
        return {send_element{wire::sasl("challenge")}};
    }
    return finish_external(payload);
}

std::vector<action> inbound_session::on_sasl_response(element const& response)
{
    state_ = state::open;
    auto payload = response.text();
    return finish_external(payload.empty() ? "=" : payload);
}

std::vector<action> inbound_session::finish_external(std::string_view base64_payload)
{
    auto authzid = sasl_base64_decode(base64_payload);
    if (!authzid)
        return sasl_failed(sasl_condition::incorrect_encoding, "the EXTERNAL payload is not base64");
    std::string requested = authzid->empty() ? std::string{} : canonical_domain(*authzid);
    if (!authzid->empty() && requested.empty())
        return sasl_failed(sasl_condition::invalid_authzid, "the authzid is not a domain name");
    auto verdict = certificate_ ? certificate_->check(remote_) : certificate_verdict{};
    if (!verdict.valid())
        return sasl_failed(sasl_condition::not_authorized,
                           "the certificate is not valid for " + remote_ + ": " + verdict.reason);
    auto result = context_.sasl->authenticate_external(requested, remote_);
    if (!result.ok())
        return sasl_failed(*result.failure, result.text);
    sasl_done_ = true;
    domain_pair pair{local_, remote_};
    authenticated_.insert(pair);
    // RFC 6120 §6.4.6: after <success/> both sides restart the stream.
    state_ = state::awaiting_header;
    std::vector<action> out;
    out.emplace_back(send_element{wire::sasl("success")});
    out.emplace_back(authenticated{pair, auth_method::sasl_over_tls});
    out.emplace_back(restart_stream{});
    return out;
}

std::vector<action> inbound_session::sasl_failed(sasl_condition condition, std::string detail)
{
    return count_failure({send_element{wire::sasl_failure(condition)}}, "SASL EXTERNAL failed: " + detail);
}

std::vector<action> inbound_session::count_failure(std::vector<action> out, std::string const& detail)
{
    out.emplace_back(discarded{detail});
    if (++failures_ >= context_.max_auth_failures) {
        state_ = state::closed;
        out.emplace_back(close_stream{stream_error::policy_violation, close_reason::too_many_failures,
                                      std::to_string(failures_) + " failed authentication attempts"});
    }
    return out;
}

// ---- stanzas (RFC 6120 §8.1.1.2, §8.1.2.2) -------------------------------------------

std::vector<action> inbound_session::on_stanza(element&& stanza)
{
    if (authenticated_.empty())
        return close(stream_error::not_authorized, close_reason::not_authenticated,
                     "<" + stanza.name() + "/> before authentication");
    auto verdict = check_addressing(std::move(stanza),
                                    {.local = [this](std::string_view d) { return context_.domains->is_local(d); },
                                     .authenticated = [this](domain_pair const& p) { return authenticated_.contains(p); },
                                     .stream_local = local_});
    if (auto* ending = std::get_if<close_stream>(&verdict)) {
        // Refused with the stream, not handled: the last count leaves it out,
        // so that the peer's stream management bounces it to its sender.
        handled_ -= sm_enabled_ ? 1 : 0;
        return close(ending->condition, ending->reason, std::move(ending->detail));
    }
    return std::visit([](auto& a) { return only(std::move(a)); }, verdict);
}

// ---- closing ---------------------------------------------------------------------

std::vector<action> inbound_session::close(std::optional<protocol::stream_error> condition, close_reason reason,
                                           std::string detail)
{
    state_ = state::closed;
    std::vector<action> out;
    // XEP-0198 §5: a last count before a clean close, or before an error of
    // ours, so that the peer neither sends again nor bounces what was passed
    // on. Not after the peer's own stream error: its stream has ended.
    if (sm_enabled_ && (reason == close_reason::peer_closed || condition))
        out.emplace_back(send_ack{handled_});
    out.emplace_back(close_stream{condition, reason, std::move(detail)});
    return out;
}

}  // namespace fedgate::negotiation
