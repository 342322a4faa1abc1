// The rate limits on what remote servers send (router.hpp, inbound_limits.hpp):
// a partner over its rate is slowed (its streams stop reading until the debt
// is paid), and refused stanza by stanza, with an error to the sender, only
// when it overran by more than a burst while slowed.
#include "routing/router.hpp"

#include "operations/metric_names.hpp"
#include "protocol/serializer.hpp"
#include "protocol/stanza_error.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;
namespace ng = fedgate::negotiation;

bool router::within_rate(ng::route_stanza const& routed, ng::partner_rules const& partner, connection& source)
{
    auto const& limit = partner.rate_limit;
    // Bytes are measured only where they are limited: the size of a stanza is
    // known once it is written out again.
    auto const bytes = limit.bytes_per_second > 0 ? protocol::to_string(routed.stanza).size() : 0;
    // Each unlisted domain is limited on its own, as a partner of its own.
    auto const& limited = partner.listed ? partner.domain : routed.pair.remote;
    auto const charged = limits_.charge(limited, limit, bytes, rt_->cfg.limits.max_stanza_bytes, source, clock::now());
    if (charged.outcome == inbound_limits::verdict::pass)
        return true;
    bool const by_bytes = charged.limit == inbound_limits::charged::limit_kind::bytes;
    std::string const kind = by_bytes ? "bytes" : "stanzas";
    auto const rate = fmt::format("{} {}", static_cast<std::uint64_t>(by_bytes ? limit.bytes_per_second
                                                                                : limit.stanzas_per_second),
                                  kind);
    if (charged.outcome == inbound_limits::verdict::slow) {
        if (charged.newly_held) {
            metrics_.count(metric::rate_limited,
                           {{"partner", partner.domain}, {"limit", kind}, {"action", "slowed"}});
            log_quietly(spdlog::level::info, fmt::format("slowed: {} over its rate limit", limited), 1,
                        fmt::format("{} {} over its rate limit ({} a second): its streams stop reading for {} ms",
                                    source.id(), limited, rate,
                                    std::chrono::duration_cast<std::chrono::milliseconds>(charged.held).count()));
        }
        return true;
    }
    metrics_.count(metric::rate_limited,
                   {{"partner", partner.domain}, {"limit", kind}, {"action", "refused"}});
    auto const why = fmt::format("{} sends more than its rate limit ({} a second) allows", routed.pair.remote, rate);
    log_quietly(spdlog::level::warn, fmt::format("refused: {} over its rate limit", limited), 1,
                fmt::format("{} stanza from {} to {} refused: {}", source.id(), routed.stanza.from(), routed.stanza.to(), why));
    if (protocol::may_bounce(routed.stanza))
        to_remote(routed.pair,
                  protocol::make_error_reply(routed.stanza, protocol::stanza_condition::policy_violation, why), &source);
    return false;
}

}  // namespace fedgate::routing
