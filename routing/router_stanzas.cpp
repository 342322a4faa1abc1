// The router's stanza paths (router.hpp): out to a partner, in to the internal
// server, and bounces the way a reply would go, with their refusals and logs.
#include "routing/router.hpp"

#include "operations/metric_names.hpp"
#include "protocol/stanza_error.hpp"
#include "routing/bounce_route.hpp"
#include "routing/component_link.hpp"
#include "routing/outbound_link.hpp"

#include <spdlog/spdlog.h>

#include <variant>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;

namespace ng = fedgate::negotiation;
using protocol::stanza_condition;

void router::from_internal(ng::route_stanza&& routed, connection* source)
{
    ++taken_from_internal_;
    auto const* partner = rt_->domains.find_partner(routed.pair.remote);
    if (partner && !stopping_)
        ++stanza_counter(false, partner->domain);
    if (refuse_out(routed.pair, partner, routed.stanza))
        return;
    use_unlisted(*partner, routed.pair.remote, source);  // refuse_out let it go: a partner's, listed or not
    learn_and_send(std::move(routed), source);
}

bool router::refuse_out(ng::domain_pair const& pair, ng::partner_rules const* partner, protocol::element const& stanza)
{
    std::string why;
    auto condition = stanza_condition::service_unavailable;
    // The sessions check the senders they route, and route_of_bounce the
    // bounces; but a component link keeps the generation it started with, so
    // a local domain a reload removed is checked here.
    if (auto blocked_text = why_blocked(pair.remote, partner != nullptr && partner->listed)) {
        why = std::move(*blocked_text);
        condition = stanza_condition::not_allowed;
        metrics_.count(metric::blocked, {{"direction", "out"}});
    } else if (partner == nullptr) {
        why = pair.remote + " is not a federation partner";
    } else if (!rt_->domains.is_local(pair.local)) {
        why = pair.local + " is no longer served here";
    } else if (stopping_) {
        // Stopped links only close: one still up waits for its peer's last
        // count (XEP-0198) and takes nothing new, which would only add to
        // what the count must cover.
        if (auto link = links_.find(pair); link == links_.end() || !link->second->up() || link->second->stopped())
            why = "the gateway is shutting down";
    }
    if (why.empty())
        return false;
    if (!protocol::may_bounce(stanza)) {
        // Our own error replies among them: no bounce of a bounce, but never
        // without a word (bounces made at shutdown leave only on streams that
        // are still up).
        undeliverable(stanza, stopping_ ? undeliverable_reason::shutdown : undeliverable_reason::refused, "no stream to " + pair.remote + ": " + why);
        return true;
    }
    auto const line = fmt::format("stanza from {} to {} refused: {}", stanza.from(), stanza.to(), why);
    log_quietly(spdlog::level::info, fmt::format("refused: {}", why), 1, line);
    deliver_bounces({.replies = {protocol::make_error_reply(stanza, condition, why)}}, why);
    return true;
}

void router::to_internal(ng::domain_pair const& pair, protocol::element stanza, connection* source)
{
    if (s2s_internal()) {
        internal_link_for(pair).deliver(std::move(stanza), source);
        return;
    }
    auto link = components_.find(pair.remote);
    if (link == components_.end()) {
        spdlog::warn("stanza from {} to {} dropped: no component link for {}", stanza.from(), stanza.to(), pair.remote);
        return;
    }
    link->second->deliver(std::move(stanza), source);
}

void router::to_remote(ng::domain_pair const& pair, protocol::element reply, connection* source)
{
    // Our own replies teach the contact policy nothing and are not counted.
    if (!refuse_out(pair, rt_->domains.find_partner(pair.remote), reply))
        link_for(pair).deliver(std::move(reply), source);
}

void router::deliver_bounces(bounced b, std::string_view why)
{
    if (b.replies.empty() && b.dropped_errors == 0)
        return;
    if (bounces_held_back_ != nullptr) {
        bounces_held_back_->emplace_back(std::move(b), why);
        return;
    }
    auto const line = fmt::format("bouncing {} stanzas ({} error stanzas dropped without reply): {}", b.replies.size(),
                                  b.dropped_errors, why);
    log_quietly(spdlog::level::info, fmt::format("bouncing: {}", why), b.replies.size() + b.dropped_errors, line);
    if (b.dropped_errors > 0)
        metrics_.count(metric::error_stanzas_dropped, {}, b.dropped_errors);
    auto const is_local = [this](std::string_view domain) { return rt_->domains.is_local(domain); };
    for (auto& reply : b.replies) {
        count_bounce(reply);
        // The way is decided before the reply is moved (see bounce_route.hpp).
        auto const way = route_of_bounce(reply, is_local);
        if (auto const* in = std::get_if<bounce_to_internal>(&way))
            to_internal(in->pair, std::move(reply), nullptr);
        else if (auto const* out = std::get_if<bounce_to_remote>(&way))
            to_remote(out->pair, std::move(reply), nullptr);
        else
            undeliverable(reply, undeliverable_reason::no_route, std::get<bounce_nowhere>(way).why);
    }
}

std::string router::traffic_summary() const
{
    return fmt::format("took {} stanzas from the internal server and {} from partners; {} bounced, {} possibly lost",
                       taken_from_internal_, taken_from_partners_, metrics_.total(metric::bounces),
                       metrics_.total(metric::stanzas_possibly_lost));
}

void router::undeliverable(protocol::element const& reply, std::string_view reason, std::string_view why)
{
    metrics_.count(metric::bounces_undeliverable, {{"reason", std::string{reason}}});
    auto const line = fmt::format("error stanza from {} to {} undeliverable: {}", reply.from(), reply.to(), why);
    log_quietly(spdlog::level::warn, fmt::format("undeliverable: {}", why), 1, line);
}

void router::count_bounce(protocol::element const& reply)
{
    auto const* error = reply.child("error", reply.ns());
    auto const conditions = error ? error->child_elements() : std::vector<protocol::element const*>{};
    metrics_.count(metric::bounces, {{"condition", conditions.empty() ? "unknown" : conditions.front()->name()}});
}

void router::bounced_by_link(protocol::element const& reply, std::string const& why)
{
    count_bounce(reply);
    log_quietly(spdlog::level::info, why, 1, fmt::format("bounced to {}: {}", reply.to(), why));
}

void router::log_quietly(spdlog::level::level_enum level, std::string_view key, std::size_t stanzas,
                         std::string const& line)
{
    spdlog::log(quiet_.note(key, stanzas, clock::now()) ? level : spdlog::level::debug, "{}", line);
}

void router::log_summaries(clock::time_point now)
{
    for (auto const& s : quiet_.due(now))
        spdlog::info("{}: {} more time{} in the last {} ms, {} stanza{} (each at debug level)", s.key, s.occurrences,
                     s.occurrences == 1 ? "" : "s", quiet_.interval().count(), s.stanzas, s.stanzas == 1 ? "" : "s");
}


}  // namespace fedgate::routing
