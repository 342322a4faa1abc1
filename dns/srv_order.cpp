#include "dns/srv_order.hpp"

#include "dns/error.hpp"

#include <algorithm>
#include <map>

namespace fedgate::dns {
namespace {

template <class T, class Weight>
std::vector<T> weighted_order(std::vector<T> group, Weight weight_of, std::mt19937_64& rng)
{
    // RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in any order,
    // except that all those with weight 0 are placed at the beginning of the list."
    std::stable_partition(group.begin(), group.end(), [&](T const& r) { return weight_of(r) == 0; });
    std::vector<T> ordered;
    ordered.reserve(group.size());
    while (!group.empty()) {
        std::uint32_t total = 0;
        for (auto const& r : group)
            total += weight_of(r);
        std::uniform_int_distribution<std::uint32_t> pick{0, total};
        std::uint32_t const chosen = pick(rng);
        std::uint32_t running = 0;
        auto it = group.begin();
        for (; it != group.end(); ++it) {
            running += weight_of(*it);
            if (running >= chosen)
                break;
        }
        ordered.push_back(std::move(*it));
        group.erase(it);
    }
    return ordered;
}

bool is_dot(std::vector<srv_record> const& records)
{
    return records.size() == 1 && records.front().target == ".";
}

}  // namespace

std::vector<srv_record> order_srv(std::vector<srv_record> records, std::mt19937_64& rng)
{
    std::map<std::uint16_t, std::vector<srv_record>> by_priority;
    for (auto& r : records)
        by_priority[r.priority].push_back(std::move(r));
    std::vector<srv_record> out;
    for (auto& [priority, group] : by_priority)
        for (auto& r : weighted_order(std::move(group), [](srv_record const& x) { return x.weight; }, rng))
            out.push_back(std::move(r));
    return out;
}

srv_plan plan_targets(srv_answer const& direct_tls, srv_answer const& starttls, std::mt19937_64& rng)
{
    srv_plan plan;
    bool const direct_dot = is_dot(direct_tls.records);
    bool const starttls_dot = is_dot(starttls.records);
    std::vector<srv_target> all;
    if (!direct_dot)
        for (auto const& r : direct_tls.records)
            all.push_back({r, true});
    if (!starttls_dot)
        for (auto const& r : starttls.records)
            all.push_back({r, false});
    std::erase_if(all, [](srv_target const& t) { return t.record.target == "."; });

    if (all.empty()) {
        if (direct_dot || starttls_dot)
            plan.error = make_error_code(error::service_unavailable);
        else {
            plan.fallback = true;
            plan.error = starttls.error ? starttls.error : direct_tls.error;
        }
        return plan;
    }
    // One RRset for ordering (XEP-0368 §3 rule 1): priority first, then weights.
    std::map<std::uint16_t, std::vector<srv_target>> by_priority;
    for (auto& t : all)
        by_priority[t.record.priority].push_back(std::move(t));
    for (auto& [priority, group] : by_priority)
        for (auto& t : weighted_order(std::move(group), [](srv_target const& x) { return x.record.weight; }, rng))
            plan.targets.push_back(std::move(t));
    return plan;
}

}  // namespace fedgate::dns
