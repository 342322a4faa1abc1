// The router's shutdown (router.hpp): stop() bounces what waits and closes
// the S2S side first, while the component links (or, in s2s mode, the internal
// leg's streams) still carry the bounces to local senders; check_stopped()
// closes those last and calls back once everything is closed.
#include "routing/component_link.hpp"
#include "routing/outbound_link.hpp"
#include "routing/router.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace fedgate::routing {

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;

void router::stop(std::function<void()> done)
{
    if (stopping_)
        return;
    spdlog::info("stopping: closing {} inbound, {} outbound and {} component streams{}", inbound_.size(),
                 links_.size() + verifiers_.size(), components_.size(),
                 s2s_internal() ? fmt::format(", and the internal leg's {} (last)",
                                              internal_inbound_.size() + internal_links_.size() + internal_verifiers_.size())
                                : std::string{});
    stopping_ = true;
    on_stopped_ = std::move(done);
    clock_.cancel();
    // The S2S side first, while the component links still carry the bounces
    // to local senders; the links close last (check_stopped).
    for (auto& [domain, link] : components_)
        link->bounce_held("the gateway is shutting down");
    // What waits for the relationship store to record an invitation would
    // leave after the links are gone (a database away for longer than the
    // stop takes): its senders learn now.
    bounced given_up;
    for (auto const& stanza : contacts_.give_up())
        bounce_into(given_up, stanza, protocol::stanza_condition::service_unavailable,
                    "the gateway is shutting down before it could record an invitation");
    deliver_bounces(std::move(given_up), "the gateway is shutting down before the relationship store answered");
    for (auto* map : {&links_, &verifiers_})
        for (auto& [pair, link] : *map)
            link->stop();
    for (auto& [raw, in] : inbound_) {
        if (auto* lent = borrower_of(*in.c); lent != nullptr && lent->closes_itself(*in.c))
            continue;  // it carries ours and waits for their last count first
        in.c->close(protocol::stream_error::system_shutdown, ng::close_reason::done, "fedgate is shutting down");
    }
    check_stopped();
}

void router::check_stopped()
{
    if (!stopping_ || !on_stopped_ || !inbound_.empty())
        return;
    for (auto* map : {&links_, &verifiers_})
        for (auto& [pair, link] : *map)
            if (link->connected())
                return;
    for (auto const& link : retired_links_)
        if (link->connected())
            return;
    if (!components_stopping_) {
        components_stopping_ = true;
        for (auto& [domain, link] : components_)
            link->stop();
        stop_internal_leg();
    }
    for (auto& [domain, link] : components_)
        if (!link->closed())
            return;
    if (!internal_leg_closed())
        return;
    for (auto const& link : retired_components_)
        if (!link->closed())
            return;
    log_summaries(clock::now() + quiet_.interval());  // what the last second counted
    asio::post(executor_, std::exchange(on_stopped_, {}));
}

}  // namespace fedgate::routing
