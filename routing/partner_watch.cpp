#include "routing/partner_watch.hpp"

#include "dns/error.hpp"
#include "network/connection.hpp"
#include "network/connector.hpp"
#include "network/tls_contexts.hpp"
#include "operations/metric_names.hpp"
#include "routing/partner_advice.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace fedgate::routing {

namespace metric = operations::metric;
namespace ng = fedgate::negotiation;
namespace pf = operations::partner_failure;
using operations::federation_stage;
using operations::partner_direction;
using operations::wall_time;

namespace {

wall_time now()
{
    return std::chrono::system_clock::now();
}

double seconds_of(wall_time t)
{
    return static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

/// "192.0.2.1:5269" is IPv4, "[2001:db8::1]:5269" and "2001:db8::1" IPv6; a
/// v4-mapped "::ffff:192.0.2.1" is the IPv4 it carries.
bool is_ipv6(std::string_view address)
{
    return address.find(':') != address.rfind(':') && address.find("::ffff:") == std::string_view::npos;
}

/// Inbound: the TCP stage is the accepted connection itself.
operations::tcp_facts tcp_of(network::connection const& source)
{
    auto const& io = source.io();
    return {io.peer(), is_ipv6(io.peer_ip())};
}

}  // namespace

void partner_watch::configure(conf::config const& cfg)
{
    std::vector<operations::known_partner> partners;
    for (auto const& p : cfg.partners)
        partners.push_back({p.domain, p.additional_domains});
    sasl_only_.clear();
    for (auto const& p : cfg.partners) {
        auto const methods = p.policy.applied();
        if (!methods.contains(ng::auth_method::tls_dialback) && !methods.contains(ng::auth_method::tcp_dialback))
            sasl_only_.insert(p.domain);
    }
    std::set<std::string> before;
    for (auto const& [domain, row] : state_.rows())
        before.insert(domain);
    state_.set_partners(std::move(partners));
    for (auto const& p : cfg.partners)
        if (!before.contains(p.domain))
            show_series(p.domain);
    expiry_warning_ = cfg.tls.expiry_warning;
}

void partner_watch::show_series(std::string const& partner)
{
    for (auto d : operations::every_direction)
        for (auto stage : operations::every_stage) {
            if (d == partner_direction::inbound && stage == federation_stage::dns)
                continue;  // an inbound stream resolves nothing
            for (auto reason : operations::reasons_of(stage))
                metrics_.count(metric::partner_failures,
                               {{"direction", std::string{label_of(d)}},
                                {"partner", partner},
                                {"reason", std::string{reason}},
                                {"stage", std::string{label_of(stage)}}},
                               0);
        }
}

void partner_watch::fail(std::string_view domain, partner_direction d, federation_stage stage, std::string_view reason,
                         std::string advice, wall_time at)
{
    auto const* partner = state_.partner_of(domain);
    if (partner == nullptr)
        return;
    metrics_.count(metric::partner_failures, {{"direction", std::string{label_of(d)}},
                                              {"partner", *partner},
                                              {"reason", std::string{operations::counted_reason(stage, reason)}},
                                              {"stage", std::string{label_of(stage)}}});
    state_.stage_failed(domain, d, stage, reason, std::move(advice), at);
}

void partner_watch::attempt_started(std::string_view domain)
{
    state_.attempt_started(domain, partner_direction::outbound, now());
}

void partner_watch::resolved(std::string_view domain, dns::resolution const& answer)
{
    auto const at = now();
    if (answer.candidates.empty()) {
        fail(domain, partner_direction::outbound, federation_stage::dns, dns::code_of(answer.error),
             dns_advice(domain, answer.error), at);
        return;
    }
    operations::dns_facts facts;
    std::set<std::string> seen;
    for (auto const& c : answer.candidates) {
        auto target = c.host + ":" + std::to_string(c.port) + (c.direct_tls ? " (direct TLS)" : " (STARTTLS)");
        if (!answer.used_fallback && seen.insert(target).second)
            facts.srv_answers.push_back(std::move(target));
        facts.addresses.push_back(c.addr.ip);
    }
    state_.resolved(domain, std::move(facts), at);
}

void partner_watch::connected(std::string_view domain, network::connect_result const& attempt)
{
    auto const at = now();
    if (!attempt.socket) {
        auto const reason = attempt.refused     ? pf::connection_refused
                            : attempt.timed_out ? pf::connection_timeout
                                                : pf::unreachable;
        fail(domain, partner_direction::outbound, federation_stage::tcp, reason, connect_advice(domain, reason, attempt.error),
             at);
        return;
    }
    if (auto row = state_.snapshot(domain); row && row->outbound.dns) {
        auto facts = *row->outbound.dns;
        facts.target = attempt.used.host + ":" + std::to_string(attempt.used.port);
        facts.direct_tls = attempt.used.direct_tls;
        state_.resolved(domain, std::move(facts), row->outbound.stage(federation_stage::dns).at);
    }
    bool const v6 = attempt.used.addr.kind == dns::address::family::ipv6;
    auto const address = (v6 ? "[" + attempt.used.addr.ip + "]" : attempt.used.addr.ip) + ":" +
                         std::to_string(attempt.used.port);
    state_.connected(domain, partner_direction::outbound, {address, v6}, at);
}

void partner_watch::record_tls(std::string_view domain, partner_direction d, network::connection const& source,
                               wall_time at)
{
    auto const* tls = source.tls();
    if (tls == nullptr)
        return;  // a plaintext stream (TCP dialback): no TLS, no certificate
    state_.tls_up(domain, d, {tls->version, tls->cipher, tls->alpn, tls->direct_tls}, at);
    operations::certificate_check_facts check;
    auto const* presented = tls->certificate_facts ? &*tls->certificate_facts : nullptr;
    if (tls->certificate == nullptr) {
        check.verdict = pf::no_certificate;
    } else {
        auto const verdict = tls->certificate->check(domain);
        check.verdict = certificate_verdict_of(verdict.result, presented, at);
        if (verdict.matched)
            check.matched_identity = ng::display_name(*verdict.matched);
        check.detail = verdict.reason;
    }
    if (presented != nullptr)
        check.fingerprint = presented->fingerprint;
    auto advice = certificate_advice(domain, check.verdict, check.detail, presented);
    state_.certificate_checked(domain, d, std::move(check), std::move(advice), at);
    if (presented == nullptr)
        return;
    auto const& facts = *presented;
    auto const* partner = state_.partner_of(domain);
    std::optional<ng::certificate_facts> previous;
    if (auto row = state_.snapshot(domain); row && !row->certificates.empty())
        previous = row->certificates.front().facts;
    auto const news = state_.certificate_seen(domain, d, facts, at);
    if (partner == nullptr || news == operations::certificate_news::known)
        return;
    if (news == operations::certificate_news::changed)
        spdlog::warn("[tls] partner {} presented another certificate: {}; before: {}", *partner, describe(facts),
                     describe(*previous));
    else
        spdlog::info("[tls] partner {} presented the certificate {}", *partner, describe(facts));
    if (expiry_warning_.count() > 0 && operations::expires_within(facts.not_after, at, expiry_warning_))
        spdlog::warn("[tls] the certificate partner {} presented {}", *partner, expiry_text(facts, at));
}

void partner_watch::authenticated(std::string_view domain, partner_direction d, network::connection const& source,
                                  ng::auth_method method)
{
    auto const at = now();
    if (d == partner_direction::inbound) {
        state_.attempt_started(domain, d, at);
        state_.connected(domain, d, tcp_of(source), at);
    }
    record_tls(domain, d, source, at);
    state_.stream_up(domain, d, metric_name(method), at);
}

void partner_watch::stream_down(std::string_view domain, partner_direction d)
{
    state_.stream_down(domain, d, now());
}

void partner_watch::failed(std::string_view domain, partner_direction d, network::connection const& source,
                           ng::close_stream const& why)
{
    if (why.reason == ng::close_reason::done)
        return;  // ended by us (shutdown, reload, a verification done): not a failure
    auto const at = now();
    if (d == partner_direction::inbound) {
        state_.attempt_started(domain, d, at);
        state_.connected(domain, d, tcp_of(source), at);
    }
    record_tls(domain, d, source, at);
    auto cause = close_cause_of(domain, d, why, source.tls_failed());
    if (auto row = state_.snapshot(domain); row && blame_certificate(*row, d, why.reason)) {
        auto const& check = row->of(d).stage(federation_stage::certificate);
        cause = {federation_stage::certificate, check.reason,
                 check.advice + (why.reason == ng::close_reason::certificate_invalid
                                     ? std::string{}
                                     : " (the stream ended with " + std::string{ng::metric_name(why.reason)} +
                                           (why.detail.empty() ? "" : ": " + why.detail) + ")")};
    }
    fail(domain, d, cause.stage, cause.reason, std::move(cause.advice), at);
}

bool partner_watch::blame_certificate(operations::partner_state_row const& row, partner_direction d,
                                      ng::close_reason reason) const
{
    if (row.of(d).stage(federation_stage::certificate).result != operations::stage_record::outcome::failed)
        return false;
    switch (reason) {
    case ng::close_reason::certificate_invalid:
        return true;
    // A partner that may only authenticate by SASL EXTERNAL cannot get far with
    // a certificate that is not valid for it: the peer gives up (or fails
    // EXTERNAL, or runs out of time) for that reason, whatever it says.
    case ng::close_reason::peer_closed:
    case ng::close_reason::stream_error_received:
    case ng::close_reason::transport_closed:
    case ng::close_reason::timeout:
    case ng::close_reason::sasl_failed:
    case ng::close_reason::too_many_failures:
    case ng::close_reason::no_common_method:
        return sasl_only_.contains(row.partner);
    default:
        return false;
    }
}

void partner_watch::check_expiry(network::tls_contexts const& ours)
{
    next_expiry_check_ = std::chrono::steady_clock::now() + std::chrono::days{1};
    if (expiry_warning_.count() == 0)
        return;
    auto const at = now();
    for (auto const& w : state_.expiring(at, expiry_warning_))
        spdlog::warn("[tls] the certificate partner {} presented last {}", w.partner, expiry_text(w.facts, at));
    for (auto const& [domain, facts] : ours.local_certificates())
        if (operations::expires_within(facts.not_after, at, expiry_warning_))
            spdlog::warn("[tls] the certificate of local domain {} {}: renew it", domain, expiry_text(facts, at));
}

void partner_watch::gauges(std::vector<operations::metrics::sample>& out) const
{
    for (auto const& [partner, row] : state_.rows()) {
        for (auto d : operations::every_direction) {
            auto const& s = row.of(d);
            operations::metric_labels labels{{"direction", std::string{label_of(d)}}, {"partner", partner}};
            out.push_back({metric::partner_up, labels, s.up ? 1.0 : 0.0});
            out.push_back({metric::partner_last_success, labels, s.last_success ? seconds_of(s.last_success->at) : 0.0});
            out.push_back({metric::partner_last_failure, labels, s.last_failure ? seconds_of(s.last_failure->at) : 0.0});
        }
        out.push_back({metric::peer_certificate_expiry,
                       {{"partner", partner}},
                       row.certificates.empty() ? 0.0 : seconds_of(row.certificates.front().facts.not_after)});
    }
}

}  // namespace fedgate::routing
