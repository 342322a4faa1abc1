#include "negotiation/outbound_session.hpp"

#include "negotiation/base64.hpp"
#include "negotiation/bidi.hpp"
#include "negotiation/session_terms.hpp"
#include "negotiation/stanza_addressing.hpp"
#include "negotiation/stream_management.hpp"
#include "negotiation/wire.hpp"
#include "protocol/namespaces.hpp"

#include <algorithm>

namespace fedgate::negotiation {

namespace {

bool offers_external(element const& features)
{
    auto const* mechanisms = features.child("mechanisms", ns::sasl);
    if (mechanisms == nullptr)
        return false;
    auto list = mechanisms->child_elements();
    return std::any_of(list.begin(), list.end(), [](element const* m) {
        return m->is("mechanism", ns::sasl) && m->text() == "EXTERNAL";
    });
}


}  // namespace

outbound_session::outbound_session(outbound_context context) : context_{std::move(context)} {}

std::vector<action> outbound_session::open_stream() const
{
    return {send_header{context_.pair.local, context_.pair.remote, {}}};
}

std::vector<action> outbound_session::start()
{
    if (context_.direct_tls) {
        // XEP-0368: TLS first, then the stream; STARTTLS is never negotiated.
        state_ = state::tls_handshake;
        return {begin_tls{tls_role::client, context_.pair.local, context_.pair.remote}};
    }
    return open_stream();
}

std::vector<action> outbound_session::handle(event e)
{
    if (state_ == state::closed)
        return {};
    return std::visit(
        overloaded{
            [&](protocol::stream_opened const& opened) { return on_header(opened.header); },
            [&](protocol::element_received& received) { return on_element(std::move(received.stanza)); },
            [&](protocol::stream_ended const&) {
                return close(std::nullopt, close_reason::peer_closed, "the peer closed the stream");
            },
            [&](tls_established const& tls) { return on_tls(tls); },
            [&](dialback_answer const&) -> std::vector<action> {
                return {discarded{"a dialback answer was routed to an outbound stream"}};
            },
            [&](verify_request const& request) { return on_verify_request(request); },
            [&](deadline_passed const&) -> std::vector<action> {
                if (state_ == state::established)
                    return {};
                return close(stream_error::connection_timeout, close_reason::timeout,
                             "negotiation with " + context_.pair.remote + " did not complete in time");
            },
            [&](transport_closed const& closed) { return close(std::nullopt, close_reason::transport_closed, closed.why); },
        },
        e);
}

std::vector<action> outbound_session::on_header(protocol::stream_header const& header)
{
    if (state_ != state::awaiting_header)
        return close(stream_error::bad_format, close_reason::bad_input, "unexpected stream header");
    if (header.version() != "1.0")
        return close(stream_error::unsupported_version, close_reason::bad_input,
                     "the peer does not speak XMPP 1.0 (version '" + std::string{header.version()} + "')");
    stream_id_ = header.id();
    state_ = state::awaiting_features;
    return {};
}

std::vector<action> outbound_session::on_element(element&& e)
{
    if (e.is("features", ns::streams)) {
        if (state_ != state::awaiting_features)
            return close(stream_error::policy_violation, close_reason::bad_input,
                         "stream features received twice on one stream");
        return on_features(e);
    }
    if (e.is("proceed", ns::tls) && state_ == state::awaiting_proceed)
        return on_proceed();
    if (e.is("failure", ns::tls) && state_ == state::awaiting_proceed)
        return close(std::nullopt, close_reason::tls_not_offered, context_.pair.remote + " refused STARTTLS");
    if (e.ns() == ns::sasl && state_ == state::awaiting_sasl_result)
        return on_sasl_answer(e);
    if (e.is("result", ns::dialback))
        return e.type().empty() ? on_peer_db_request(e) : on_db_result(e);
    if (e.is("verify", ns::dialback))
        return on_db_verify(e);
    if (e.ns() == ns::sm)
        return on_stream_management(e);
    if (e.is("error", ns::streams))
        return close(std::nullopt, close_reason::stream_error_received,
                     context_.pair.remote + " sent " + describe_stream_error(e));
    if (is_stanza(e) && carries_theirs())
        return on_peer_stanza(std::move(e));
    // RFC 6120 §4.1: a stream is unidirectional; without XEP-0288 the peer is not
    // authenticated to send anything else on ours.
    return close(stream_error::not_authorized, close_reason::bad_input,
                 "<" + e.name() + " xmlns='" + e.ns() + "'/> on an outbound stream");
}

// ---- features -----------------------------------------------------------------

std::vector<action> outbound_session::on_features(element const& features)
{
    sm_offered_ = sm::offered(features);
    if (sasl_done_) {
        // RFC 6120 §6.4.6: the features after the SASL restart end the negotiation.
        return become_ready(auth_method::sasl_over_tls);
    }
    auto const tls_policy = context_.partner.settings.tls;
    if (!tls_) {
        auto const* starttls = features.child("starttls", ns::tls);
        if (starttls != nullptr && tls_policy != requirement::not_supported) {
            state_ = state::awaiting_proceed;
            return {send_element{wire::tls("starttls")}};
        }
        if (starttls == nullptr && tls_policy == requirement::required)
            return close(stream_error::policy_violation, close_reason::tls_not_offered,
                         context_.pair.remote + " does not offer STARTTLS, which its policy requires");
        if (starttls != nullptr && starttls->child("required", ns::tls) != nullptr)
            return close(stream_error::policy_violation, close_reason::tls_refused,
                         context_.pair.remote + " requires TLS, which its policy says is not supported");
    }
    if (context_.purpose == outbound_purpose::verify_only) {
        ready_for_verify_ = true;
        state_ = state::established;
        return send_verifies({});
    }
    return authenticate(features);
}

std::vector<action> outbound_session::on_proceed()
{
    state_ = state::tls_handshake;
    return {restart_stream{}, begin_tls{tls_role::client, context_.pair.local, context_.pair.remote}};
}

std::vector<action> outbound_session::on_tls(tls_established const& tls)
{
    if (state_ != state::tls_handshake)
        return close(stream_error::internal_server_error, close_reason::bad_input, "TLS completed unexpectedly");
    tls_ = true;
    // RFC 7590 §3.2, RFC 6125: the certificate must name the domain we asked for,
    // never the SRV target host.
    certificate_ = tls.certificate ? tls.certificate->check(context_.pair.remote) : certificate_verdict{};
    if (certificate_->reason.empty() && !certificate_->valid())
        certificate_->reason = "no certificate was presented";
    // RFC 6120 §5.4.3.3: nothing from before TLS survives; open a new stream.
    stream_id_.clear();
    state_ = state::awaiting_header;
    return open_stream();
}

// ---- authentication --------------------------------------------------------------

std::vector<action> outbound_session::authenticate(element const& features)
{
    auto const& methods = context_.partner.methods;
    std::string why_not_sasl;
    if (!tls_ || !methods.contains(auth_method::sasl_over_tls))
        why_not_sasl = "SASL over TLS is not possible";
    else if (!certificate_->valid())
        why_not_sasl = "the certificate of " + context_.pair.remote + " is not valid: " + certificate_->reason;
    else if (!offers_external(features))
        why_not_sasl = context_.pair.remote + " does not offer SASL EXTERNAL";
    std::vector<action> steps;
    if (why_not_sasl.empty()) {
        auto response = context_.sasl->external_initial_response(context_.pair.local, context_.pair.remote);
        state_ = state::awaiting_sasl_result;
        steps.emplace_back(send_element{wire::sasl_auth_external(sasl_base64_encode(response))});
    } else {
        steps = try_dialback(why_not_sasl);
    }
    // XEP-0288 §2.2: bidi is asked for before authenticating, and after TLS
    // when there is TLS (this comes after it).
    if (state_ != state::closed && context_.purpose == outbound_purpose::route && context_.partner.extensions.bidi &&
        bidi::offered(features)) {
        bidi_ = true;
        steps.insert(steps.begin(), send_element{bidi::request()});
    }
    return steps;
}

auth_method outbound_session::dialback_method() const noexcept
{
    return tls_ ? auth_method::tls_dialback : auth_method::tcp_dialback;
}

std::vector<action> outbound_session::try_dialback(std::string const& why_not_sasl)
{
    if (!context_.partner.methods.contains(dialback_method())) {
        // An invalid certificate is the likelier story for an operator than "no
        // common method" when SASL was the only way.
        bool certificate_failed = tls_ && certificate_ && !certificate_->valid() &&
                                  context_.partner.methods.contains(auth_method::sasl_over_tls);
        return close(stream_error::policy_violation,
                     certificate_failed ? close_reason::certificate_invalid : close_reason::no_common_method,
                     why_not_sasl + ", and " + std::string{display_name(dialback_method())} +
                         " is not allowed (allowed: " + describe(context_.partner.methods) + ")");
    }
    if (stream_id_.empty())
        return close(stream_error::bad_format, close_reason::bad_input,
                     context_.pair.remote + " sent no stream id, which dialback needs");
    // XEP-0220 §2.1.1: the key binds receiving domain, originating domain and the
    // receiving server's stream id.
    auto key = context_.secret->key(context_.pair.remote, context_.pair.local, stream_id_);
    state_ = state::awaiting_dialback_result;
    return {send_element{wire::db_request(db_kind::result, context_.pair.local, context_.pair.remote, {}, key)}};
}

std::vector<action> outbound_session::on_sasl_answer(element const& answer)
{
    if (answer.name() == "success") {
        sasl_done_ = true;
        state_ = state::awaiting_header;
        stream_id_.clear();
        auto out = std::vector<action>{restart_stream{}};
        auto header = open_stream();
        out.insert(out.end(), header.begin(), header.end());
        return out;
    }
    if (answer.name() == "failure") {
        auto condition = wire::sasl_failure_condition(answer).value_or("no condition");
        if (context_.partner.methods.contains(dialback_method()))
            return try_dialback("EXTERNAL was refused");
        return close(std::nullopt, close_reason::sasl_failed,
                     context_.pair.remote + " refused SASL EXTERNAL: <" + std::string{condition} + "/>");
    }
    // EXTERNAL sends its only payload up front; a challenge has no answer.
    return close(stream_error::policy_violation, close_reason::bad_input,
                 "unexpected SASL <" + answer.name() + "/> from " + context_.pair.remote);
}

std::vector<action> outbound_session::on_db_result(element const& answer)
{
    // XEP-0220 §3.1: only an answer to our own request counts.
    bool ours = state_ == state::awaiting_dialback_result && !answer.type().empty() &&
                canonical_domain(answer.from()) == context_.pair.remote &&
                canonical_domain(answer.to()) == context_.pair.local;
    if (!ours)
        return {discarded{"unsolicited db:result from " + std::string{answer.from()} + " to " +
                          std::string{answer.to()}}};
    auto outcome = wire::read_db_type(answer);
    if (outcome == dialback_outcome::valid)
        return become_ready(dialback_method());
    if (outcome == dialback_outcome::invalid)
        return close(std::nullopt, close_reason::dialback_invalid,
                     context_.pair.remote + " found our dialback key invalid");
    return close(std::nullopt, close_reason::dialback_error,
                 context_.pair.remote + " could not complete dialback (type '" + std::string{answer.type()} + "')");
}

// ---- db:verify for the router (XEP-0220 §2.1.2) ------------------------------------

std::vector<action> outbound_session::on_verify_request(verify_request request)
{
    // This stream speaks to the authoritative server of context_.pair.remote
    // only: a key of another domain asked here would be answered by a server
    // that has no say over it.
    if (request.pair != context_.pair)
        return {dialback_verified{std::move(request), dialback_outcome::unreachable}};
    queued_verifies_.push_back(std::move(request));
    return ready_for_verify_ ? send_verifies({}) : std::vector<action>{};
}

std::vector<action> outbound_session::become_ready(auth_method method)
{
    method_ = method;
    ready_for_verify_ = true;
    if (sm_offered_ && context_.partner.extensions.stream_management) {
        // XEP-0198 §3: after authentication. Stanzas wait for the answer, so
        // that every one written is counted by the peer or none is.
        state_ = state::awaiting_stream_management;
        return send_verifies({send_element{sm::enable()}});
    }
    return established_with(false);
}

std::vector<action> outbound_session::established_with(bool stream_management)
{
    state_ = state::established;
    sm_enabled_ = stream_management;
    return send_verifies({authenticated{context_.pair, method_, stream_management, bidi_}});
}

// ---- stream management (XEP-0198) ---------------------------------------------------

std::vector<action> outbound_session::on_stream_management(element const& e)
{
    if (state_ == state::awaiting_stream_management && e.name() == "enabled")
        return established_with(true);
    if (state_ == state::awaiting_stream_management && e.name() == "failed") {
        auto out = established_with(false);
        out.emplace_back(discarded{context_.pair.remote + " refused to enable stream management"});
        return out;
    }
    if (state_ == state::established && sm_enabled_ && e.name() == "a") {
        if (auto handled = sm::handled_count(e))
            return {acknowledged{*handled}};
        return close(stream_error::invalid_xml, close_reason::bad_input,
                     "<a/> from " + context_.pair.remote + " without a valid 'h'");
    }
    if (state_ == state::established && sm_enabled_ && e.name() == "r")
        return {send_ack{handled_}};  // stanzas of the peer's only with XEP-0288, else 0
    return close(stream_error::unsupported_stanza_type, close_reason::bad_input,
                 "unexpected <" + e.name() + " xmlns='" + e.ns() + "'/> from " + context_.pair.remote);
}

std::vector<action> outbound_session::send_verifies(std::vector<action> out)
{
    for (auto& request : queued_verifies_) {
        out.emplace_back(send_element{wire::db_request(db_kind::verify, request.pair.local, request.pair.remote,
                                                       request.stream_id, request.key)});
        sent_verifies_.push_back(std::move(request));
    }
    queued_verifies_.clear();
    return out;
}

std::vector<action> outbound_session::on_db_verify(element const& answer)
{
    auto const from = canonical_domain(answer.from());
    auto const to = canonical_domain(answer.to());
    auto it = std::find_if(sent_verifies_.begin(), sent_verifies_.end(), [&](verify_request const& r) {
        return r.pair.remote == from && r.pair.local == to && r.stream_id == answer.id();
    });
    auto outcome = wire::read_db_type(answer);
    if (it == sent_verifies_.end() || !outcome)
        return {discarded{"unsolicited db:verify from " + std::string{answer.from()} + " to " +
                          std::string{answer.to()}}};
    std::vector<action> out{dialback_verified{std::move(*it), *outcome}};
    sent_verifies_.erase(it);
    if (context_.purpose == outbound_purpose::verify_only && sent_verifies_.empty() && queued_verifies_.empty()) {
        state_ = state::closed;
        out.emplace_back(close_stream{std::nullopt, close_reason::done, "verifications answered"});
    }
    return out;
}

// ---- closing ---------------------------------------------------------------------

std::vector<action> outbound_session::close(std::optional<protocol::stream_error> condition, close_reason reason,
                                            std::string detail)
{
    // XEP-0220 §2.1.2: requests pending when the stream goes are failed, so the
    // inbound streams waiting on them get an answer.
    std::vector<action> out;
    for (auto& request : sent_verifies_)
        out.emplace_back(dialback_verified{std::move(request), dialback_outcome::timeout});
    for (auto& request : queued_verifies_)
        out.emplace_back(dialback_verified{std::move(request), dialback_outcome::unreachable});
    sent_verifies_.clear();
    queued_verifies_.clear();
    // XEP-0198 §5: a last count of the peer's stanzas (XEP-0288) before a clean
    // close or an error of ours, so that it neither sends again nor bounces
    // what was passed on.
    if (bidi_ && sm_enabled_ && (reason == close_reason::peer_closed || condition))
        out.emplace_back(send_ack{handled_});
    state_ = state::closed;
    out.emplace_back(close_stream{condition, reason, std::move(detail)});
    return out;
}

}  // namespace fedgate::negotiation
