// The router's numbers (router.hpp): the per-partner counters the stanza path
// keeps a reference to, and the gauges read from the streams and links at
// scrape time.
#include "dns/error.hpp"
#include "operations/metric_names.hpp"
#include "policy/partner_policy.hpp"
#include "protocol/stanza_error.hpp"
#include "routing/component_link.hpp"
#include "routing/outbound_link.hpp"
#include "routing/router.hpp"

#include <map>

namespace fedgate::routing {

namespace metric = operations::metric;
namespace ng = fedgate::negotiation;

std::uint64_t& router::stanza_counter(bool inbound, std::string_view partner)
{
    auto& counters = stanza_counters_[inbound ? 1 : 0];
    if (auto it = counters.find(partner); it != counters.end())  // no string made per stanza
        return *it->second;
    std::string name{partner};
    auto* slot = &metrics_.slot(metric::stanzas, {{"direction", inbound ? "in" : "out"}, {"partner", name}});
    return *counters.emplace(std::move(name), slot).first->second;
}

std::uint64_t& router::byte_counter(bool inbound, std::string const& domain)
{
    auto const* partner = rt_->domains.find_partner(domain);
    return metrics_.slot(metric::stanza_bytes,
                         {{"direction", inbound ? "in" : "out"}, {"partner", partner ? partner->domain : domain}});
}

std::string router::metric_partner(std::string const& domain) const
{
    auto const* partner = rt_->domains.find_partner(domain);
    return partner != nullptr && !partner->listed ? partner->domain : domain;
}

namespace {

/// Every value of an enumeration whose values run without gaps from `first` to `last`.
template <class Enum, class F>
void for_each_value(Enum first, Enum last, F f)
{
    for (auto v = static_cast<int>(first); v <= static_cast<int>(last); ++v)
        f(static_cast<Enum>(v));
}

/// The series `name` with `labels`, shown at zero (a no-op once it counts).
void zero(operations::metrics& m, std::string_view name, operations::metric_labels const& labels)
{
    m.count(name, labels, 0);
}

}  // namespace

void router::show_known_series()
{
    for (auto const* direction : {"in", "out"}) {
        for (auto m : {policy::auth_method::sasl_over_tls, policy::auth_method::tls_dialback,
                       policy::auth_method::tcp_dialback})
            zero(metrics_, metric::streams_authenticated, {{"direction", direction}, {"method", std::string{metric_name(m)}}});
        zero(metrics_, metric::bidi_streams, {{"direction", direction}});
    }
    for (auto const* direction : {"in", "out", "component"})
        for_each_value(ng::close_reason{}, ng::last_close_reason, [&](ng::close_reason r) {
            zero(metrics_, metric::stream_closes, {{"direction", direction}, {"reason", std::string{ng::metric_name(r)}}});
        });
    for_each_value(protocol::stanza_condition{}, protocol::last_stanza_condition, [&](protocol::stanza_condition c) {
        zero(metrics_, metric::bounces, {{"condition", std::string{protocol::wire_name(c)}}});
    });
    for (auto reason : undeliverable_reason::every)
        zero(metrics_, metric::bounces_undeliverable, {{"reason", std::string{reason}}});
    zero(metrics_, metric::error_stanzas_dropped, {});
    zero(metrics_, metric::connections_refused, {});
    for (auto const* direction : {"in", "out"})
        zero(metrics_, metric::blocked, {{"direction", direction}});
    for (auto const* result : {"ok", "error"})
        zero(metrics_, metric::blocklist_reads, {{"result", result}});
    zero(metrics_, metric::unlisted_domains_closed, {});
    for_each_value(ng::dialback_outcome{}, ng::last_dialback_outcome, [&](ng::dialback_outcome o) {
        zero(metrics_, metric::dialback_verifications, {{"result", std::string{ng::outcome_name(o)}}});
    });
    zero(metrics_, metric::dns_resolutions, {{"result", "ok"}});
    for_each_value(dns::error::nxdomain, dns::last_error_kind, [&](dns::error e) {
        zero(metrics_, metric::dns_resolutions, {{"result", std::string{dns::code_of(make_error_code(e))}}});
    });
    show_partner_series();
}

void router::show_partner_series()
{
    std::vector<conf::partner> shown = rt_->cfg.partners;
    if (rt_->cfg.default_partner) {
        shown.push_back(rt_->cfg.default_partner->terms);
        shown.back().domain = ng::default_partner_label;
    }
    for (auto const& p : shown) {
        // The primary domain names the partner in these; its links count by domain below.
        (void)stanza_counter(true, p.domain);
        (void)stanza_counter(false, p.domain);
        (void)byte_counter(true, p.domain);
        (void)byte_counter(false, p.domain);
        for (auto reason : contacts::refusal_code::every)
            zero(metrics_, metric::refusals, {{"partner", p.domain}, {"reason", std::string{reason}}});
        for (auto const* limit : {"stanzas", "bytes"})
            if ((limit[0] == 's' ? p.rate_limit.stanzas_per_second : p.rate_limit.bytes_per_second) > 0)
                for (auto const* action : {"slowed", "refused"})
                    zero(metrics_, metric::rate_limited, {{"partner", p.domain}, {"limit", limit}, {"action", action}});
    }
    auto domains = partner_domains(rt_->cfg);
    if (rt_->cfg.default_partner)
        domains.emplace(ng::default_partner_label);
    for (auto const& domain : domains) {
        zero(metrics_, metric::stanzas_possibly_lost, {{"partner", domain}});
        for (auto const* side : {"outbound", "internal"}) {
            zero(metrics_, metric::stanzas_resent, {{"partner", domain}, {"side", side}});
            zero(metrics_, metric::bounced_after_stream_loss, {{"partner", domain}, {"side", side}});
        }
    }
}

void router::gauges(std::vector<operations::metrics::sample>& out) const
{
    std::map<std::pair<std::string, std::string>, double> streams{
        {{"in", "negotiating"}, 0}, {{"in", "established"}, 0}, {{"out", "negotiating"}, 0},
        {{"out", "established"}, 0}, {{"component", "negotiating"}, 0}, {{"component", "established"}, 0},
        {{"internal", "negotiating"}, 0}, {{"internal", "established"}, 0}};
    for (auto const& [raw, in] : inbound_)
        ++streams[{"in", in.authenticated.empty() ? "negotiating" : "established"}];
    double queued_out = 0, queued_internal = 0, unacknowledged_out = 0, unacknowledged_internal = 0;
    for (auto const* map : {&links_, &verifiers_})
        for (auto const& [pair, link] : *map) {
            if (link->connected())
                ++streams[{"out", link->up() ? "established" : "negotiating"}];
            queued_out += static_cast<double>(link->queued());
            unacknowledged_out += static_cast<double>(link->unacknowledged());
        }
    for (auto const& [domain, link] : components_) {
        if (!link->closed())
            ++streams[{"component", link->ready() ? "established" : "negotiating"}];
        queued_internal += static_cast<double>(link->queued());
        unacknowledged_internal += static_cast<double>(link->unacknowledged());
    }
    // s2s mode: the internal server's streams, and ours to it.
    for (auto const& [raw, in] : internal_inbound_)
        ++streams[{"internal", in.authenticated.empty() ? "negotiating" : "established"}];
    for (auto const* map : {&internal_links_, &internal_verifiers_})
        for (auto const& [pair, link] : *map) {
            if (link->connected())
                ++streams[{"internal", link->up() ? "established" : "negotiating"}];
            queued_internal += static_cast<double>(link->queued());
            unacknowledged_internal += static_cast<double>(link->unacknowledged());
        }
    for (auto const& [key, value] : streams)
        out.push_back({metric::streams, {{"direction", key.first}, {"state", key.second}}, value});
    out.push_back({metric::queued_stanzas, {{"side", "outbound"}}, queued_out});
    out.push_back({metric::queued_stanzas, {{"side", "internal"}}, queued_internal});
    out.push_back({metric::unacknowledged_stanzas, {{"side", "outbound"}}, unacknowledged_out});
    out.push_back({metric::unacknowledged_stanzas, {{"side", "internal"}}, unacknowledged_internal});
    out.push_back({metric::store_up, {}, *rt_->store_up ? 1.0 : 0.0});
    for (auto kind : {"domain", "wildcard"})
        out.push_back({metric::blocklist_entries, {{"kind", kind}},
                       blocklist_ ? static_cast<double>(kind[0] == 'd' ? blocklist_->exact_count() : blocklist_->suffix_count())
                                : 0.0});
    out.push_back({metric::unlisted_domains, {}, static_cast<double>(unlisted_with_streams())});  // 0 when closed
    partners_.gauges(out);
}

std::map<std::string, operations::partner_queues, std::less<>> router::partner_queues() const
{
    std::map<std::string, operations::partner_queues, std::less<>> out;
    auto const primary = [this](std::string const& domain) {
        auto const* p = rt_->domains.find_partner(domain);
        return p ? p->domain : domain;
    };
    for (auto const* map : {&links_, &verifiers_})
        for (auto const& [pair, link] : *map)
            out[primary(pair.remote)].outbound += link->queued();
    for (auto const& [domain, link] : components_)
        out[primary(domain)].internal += link->queued();
    for (auto const& [pair, link] : internal_links_)
        out[primary(pair.remote)].internal += link->queued();
    return out;
}

}  // namespace fedgate::routing
