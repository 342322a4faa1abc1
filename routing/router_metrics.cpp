// The router's numbers (router.hpp): the per-partner counters the stanza path
// keeps a reference to, and the gauges read from the streams and links at
// scrape time.
#include "operations/metric_names.hpp"
#include "routing/component_link.hpp"
#include "routing/outbound_link.hpp"
#include "routing/router.hpp"

#include <map>

namespace fedgate::routing {

namespace metric = operations::metric;

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

void router::gauges(std::vector<operations::metrics::sample>& out) const
{
    std::map<std::pair<std::string, std::string>, double> streams{
        {{"in", "negotiating"}, 0}, {{"in", "established"}, 0}, {{"out", "negotiating"}, 0},
        {{"out", "established"}, 0}, {{"component", "negotiating"}, 0}, {{"component", "established"}, 0}};
    for (auto const& [raw, in] : inbound_)
        ++streams[{"in", in.session->authenticated_pairs().empty() ? "negotiating" : "established"}];
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
    for (auto const& [key, value] : streams)
        out.push_back({metric::streams, {{"direction", key.first}, {"state", key.second}}, value});
    out.push_back({metric::queued_stanzas, {{"side", "outbound"}}, queued_out});
    out.push_back({metric::queued_stanzas, {{"side", "internal"}}, queued_internal});
    out.push_back({metric::unacknowledged_stanzas, {{"side", "outbound"}}, unacknowledged_out});
    out.push_back({metric::unacknowledged_stanzas, {{"side", "internal"}}, unacknowledged_internal});
    out.push_back({metric::store_up, {}, *rt_->store_up ? 1.0 : 0.0});
}

}  // namespace fedgate::routing
