// Open federation in the router ([default_partner], issue 23): the domains no
// partner lists are served on demand under the default partner's terms, and
// at most [default_partner] max_domains of them have streams at once. Using one
// more closes every stream of the least recently used one (what they held
// bounces with <resource-constraint/>); it comes back on its next stanza.
#include "routing/router.hpp"

#include "operations/metric_names.hpp"
#include "routing/outbound_link.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace fedgate::routing {

namespace metric = operations::metric;
namespace ng = fedgate::negotiation;

void router::use_unlisted(ng::partner_rules const& partner, std::string const& domain,
                          network::connection* source)
{
    if (partner.listed)
        return;
    // What a stream closed for the bound still brings (in flight, or waiting
    // in its mailbox) does not bring its domain back, which would close the
    // newcomer's streams at once. (Asked only of a domain not kept: a kept one
    // is merely made the most recent, the stanza path's usual case.)
    auto const closed_for_bound = [source](auto const& streams) {
        auto it = streams.find(source);
        return it != streams.end() && it->second.closed_for_bound;
    };
    if (source != nullptr && !unlisted_.contains(domain) &&
        (closed_for_bound(inbound_) || closed_for_bound(internal_inbound_)))
        return;
    auto pushed_out = unlisted_.use(domain);
    if (!pushed_out)
        return;
    close_unlisted(*pushed_out, fmt::format("{} unlisted domains have streams, the most [default_partner] max_domains "
                                            "allows; {} was the least recently used, and {} needs one",
                                            unlisted_.capacity(), *pushed_out, domain));
}

void router::resize_unlisted()
{
    auto const& open = rt_->cfg.default_partner;
    if (!open) {
        unlisted_.clear();  // their streams end as those of partners that are gone
        return;
    }
    for (auto const& domain : unlisted_.resize(open->max_domains))
        close_unlisted(domain, fmt::format("[default_partner] max_domains is now {}, and {} was among the least "
                                           "recently used",
                                           open->max_domains, domain));
}

void router::close_unlisted(std::string const& domain, std::string const& why)
{
    spdlog::info("closing the streams of unlisted domain {}: {}", domain, why);
    metrics_.count(metric::unlisted_domains_closed, {});
    auto const condition = protocol::stream_error::resource_constraint;
    auto const bounce = protocol::stanza_condition::resource_constraint;
    // What the links held bounces once every one of them has stopped: on a
    // fresh link each way (to the domain's senders, and to local senders on the
    // internal leg), not into a link of the domain that stops next, which could
    // only drop an error stanza. Those fresh links carry the bounces and end
    // when idle; they do not count as the domain's use.
    std::vector<std::pair<bounced, std::string>> held;
    {
        auto* const outer = std::exchange(bounces_held_back_, &held);
        struct restore {
            router& r;
            decltype(outer) previous;
            ~restore() { r.bounces_held_back_ = previous; }
        } const restored{*this, outer};
        for (auto* map : {&internal_links_, &internal_verifiers_, &links_, &verifiers_})
            for (auto& [pair, link] : *map)
                if (pair.remote == domain && !link->stopped())
                    link->stop(condition, why, bounce);
    }
    for (auto& [b, text] : held)
        deliver_bounces(std::move(b), text);
    for (auto& [raw, in] : inbound_)
        for (auto const& pair : in.authenticated)
            if (pair.remote == domain) {
                in.closed_for_bound = true;
                in.c->close(condition, ng::close_reason::unlisted_domains_full, why);
                break;
            }
    // The internal server's streams to that domain (their pairs are the
    // internal leg's: local is the remote domain fedgate speaks for).
    for (auto& [raw, in] : internal_inbound_)
        for (auto const& pair : in.authenticated)
            if (pair.local == domain) {
                in.closed_for_bound = true;
                in.c->close(condition, ng::close_reason::unlisted_domains_full, why);
                break;
            }
}

std::size_t router::unlisted_with_streams() const
{
    if (!rt_->domains.open_federation())
        return 0;
    std::set<std::string_view> domains;
    auto const unlisted = [this](std::string const& domain) {
        auto const* partner = rt_->domains.find_partner(domain);
        return partner != nullptr && !partner->listed;
    };
    for (auto const* map : {&links_, &internal_links_})
        for (auto const& [pair, link] : *map)
            if (link->connected() && unlisted(pair.remote))
                domains.insert(pair.remote);
    for (auto const& [raw, in] : inbound_)
        for (auto const& pair : in.authenticated)
            if (unlisted(pair.remote))
                domains.insert(pair.remote);
    return domains.size();
}

}  // namespace fedgate::routing
