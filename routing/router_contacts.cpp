// The router's side of the partner types' contact rules (router.hpp): it asks
// contacts::contact_policy about every stanza between a partner and a local
// user, and is its owner: what waited for the store leaves through here.
#include "routing/router.hpp"

#include "operations/metric_names.hpp"
#include "routing/outbound_link.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;

namespace ng = fedgate::negotiation;

void router::learn_and_send(ng::route_stanza&& routed, connection* source)
{
    auto decision = contacts_.outbound(routed.pair, std::move(routed.stanza), routed.addresses);
    if (auto* now = std::get_if<contacts::contact_policy::release>(&decision))
        link_for(routed.pair).deliver(std::move(now->stanza), source);  // refuse_out has refused what may not go out
}

void router::release(ng::domain_pair const& pair, std::vector<protocol::element> stanzas)
{
    auto const* partner = rt_->domains.find_partner(pair.remote);  // the world may have changed while the write ran
    for (auto& s : stanzas)
        if (!refuse_out(pair, partner, s))
            link_for(pair).deliver(std::move(s), nullptr);
}

void router::bounce(protocol::element reply, std::string_view why)
{
    deliver_bounces({.replies = {std::move(reply)}}, why);
}

void router::log(contacts::contact_owner::severity l, std::string_view summary_key, std::string const& line)
{
    auto const as = l == contacts::contact_owner::severity::error ? spdlog::level::err : spdlog::level::info;
    if (summary_key.empty())
        spdlog::log(as, "{}", line);
    else
        log_quietly(as, summary_key, 1, line);
}

std::uint64_t& router::refusal_counter(std::string_view partner, std::string_view reason)
{
    return metrics_.slot(metric::refusals, {{"partner", std::string{partner}}, {"reason", std::string{reason}}});
}

void router::from_remote(ng::route_stanza&& routed, connection& source)
{
    ++taken_from_partners_;
    auto const& pair = routed.pair;
    auto const* partner = rt_->domains.find_partner(pair.remote);
    auto const type = partner ? partner->type : policy::partner_type::federated;
    auto const& name = partner ? partner->domain : pair.remote;
    if (refused_as_blocked(routed, partner != nullptr && partner->listed, source))
        return;
    if (partner && partner->rate_limit.any() && !within_rate(routed, *partner, source))
        return;
    if (partner)
        use_unlisted(*partner, pair.remote, &source);
    auto verdict = contacts_.inbound(type, name, routed.stanza, routed.addresses);
    if (auto* refused = std::get_if<contacts::contact_policy::refuse>(&verdict)) {
        if (refused->reply)
            to_remote(pair, std::move(*refused->reply), &source);
        return;
    }
    ++stanza_counter(true, name);
    // The session checked that 'from' is in pair.remote's domain and 'to' in
    // pair.local: the link of the pair.
    to_internal(pair, std::move(routed.stanza), &source);
}

}  // namespace fedgate::routing
