// The router's part in the partner types' contact rules (router.hpp): inbound
// stanzas judged by contact_rules, relationships learnt from relayed presence,
// and invitations held in a commit_gate until the store has them.
#include "daemon/router.hpp"

#include "daemon/contact_rules.hpp"
#include "daemon/outbound_link.hpp"
#include "protocol/jid.hpp"
#include "protocol/stanza_error.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::daemon {

namespace ng = fedgate::negotiation;
using protocol::stanza_condition;

void router::learn_and_send(ng::domain_pair const& pair, protocol::element stanza, connection* source)
{
    std::optional<relationship> who;
    relationship_state before, after;
    if (auto event = subscription_event_of(stanza))
        if ((who = relationship_of(stanza, false))) {
            before = rt_->relationships->get(*who);
            after = next_state(before, *event, true);
            if (after == before)
                who.reset();
        }
    auto waiting = gates_.find(pair);
    if (!who && waiting == gates_.end()) {
        // The common case: nothing to commit, nothing ahead of it (route_out has
        // already refused what may not go out).
        link_for(pair).deliver(std::move(stanza), source);
        return;
    }
    auto& gate = waiting != gates_.end() ? waiting->second : gates_[pair];
    auto pushed = gate.push(std::move(stanza), who.has_value());
    if (pushed.wait_for)
        rt_->relationships->put(*who, after,
                                [this, pair, t = *pushed.wait_for, who = *who, before, after](std::string const& error) {
            if (error.empty())
                spdlog::info("relationship {} ~ {}: to={} from={} asked={} (committed)", who.local, who.remote, after.to,
                             after.from, after.asked);
            committed(pair, t, error, before, after);
        });
    for (auto& s : pushed.release)
        if (!refuse_out(pair, s))
            link_for(pair).deliver(std::move(s), source);
    if (gate.empty())
        gates_.erase(pair);
}

void router::committed(ng::domain_pair const& pair, commit_gate::ticket t, std::string const& error,
                       relationship_state failed_before, relationship_state failed_after)
{
    auto gate = gates_.find(pair);
    if (gate == gates_.end())
        return;
    auto out = gate->second.committed(t, error.empty());
    if (out.failed) {
        // Memory went ahead of the disk; put it back unless something newer came.
        if (auto who = relationship_of(*out.failed, false))
            rt_->relationships->undo(*who, failed_after, failed_before);
        // Not durable, so not sent: the sender learns, and may try again.
        spdlog::error("relationship store {}: {}; the stanza from {} to {} is bounced",
                      rt_->relationships->file().string(), error, out.failed->from(), out.failed->to());
        if (protocol::may_bounce(*out.failed))
            deliver_bounces({.replies = {protocol::make_error_reply(*out.failed, stanza_condition::internal_server_error,
                                                                    "the gateway could not record this")}},
                            "relationship store");
    }
    for (auto& s : out.release)  // the world may have changed while the write ran
        if (!refuse_out(pair, s))
            link_for(pair).deliver(std::move(s), nullptr);
    if (gate->second.empty())
        gates_.erase(gate);
}

void router::from_remote(ng::domain_pair const& pair, protocol::element stanza, connection& source)
{
    auto const* partner = rt_->partner(pair.remote);
    auto const type = partner ? partner->type : conf::partner_type::federated;
    auto const event = subscription_event_of(stanza);
    // Addresses are parsed again only where they matter (every parse is IDNA
    // and stringprep work): for the contact rules and for subscriptions.
    std::optional<relationship> who;
    if (type == conf::partner_type::public_unverified || event)
        who = relationship_of(stanza, true);
    if (type == conf::partner_type::public_unverified) {
        // Stanzas to our server itself (pings, disco) are nobody's contact; a
        // stanza for a user from the partner's server or services needs a
        // relationship too.
        auto const to = protocol::jid::parse(stanza.to());
        bool const to_user = to && !to->local().empty();
        bool const related = who ? rt_->relationships->get(*who).any() : !to_user;
        if (auto decision = judge_inbound(type, stanza, related); !decision.pass) {
            refuse_in(pair, stanza, partner, decision, source);
            return;
        }
    }
    ++stanza_counter(true, partner ? partner->domain : pair.remote);
    if (who && event) {
        auto const before = rt_->relationships->get(*who);
        auto const after = next_state(before, *event, false);
        if (after != before)
            rt_->relationships->put(*who, after, [who = *who](std::string const& error) {
                if (!error.empty())
                    spdlog::error("relationship {} ~ {} not recorded: {}", who.local, who.remote, error);
            });
    }
    // The session checked that 'from' is in pair.remote's domain: its link.
    to_internal(pair.remote, std::move(stanza), &source);
}

void router::refuse_in(ng::domain_pair const& pair, protocol::element const& stanza, conf::partner const* partner,
                       contact_decision& decision, connection& source)
{
    auto const partner_name = partner ? partner->domain : pair.remote;
    auto& refusals = metrics_.slot("fedgate_refusals_total", {{"partner", partner_name}, {"reason", decision.reason}});
    ++refusals;
    auto const line = fmt::format("refused {} from {} to {} (partner {}, {}): {} [{} so far]", stanza_kind(stanza),
                                  stanza.from(), stanza.to(), partner_name,
                                  partner ? conf::config_name(partner->type) : "?", decision.reason, refusals);
    log_quietly(spdlog::level::info,
                fmt::format("refused by the contact rules of {}: {}", partner_name, decision.reason), 1, line);
    if (decision.reply)
        to_remote(pair, std::move(*decision.reply), &source);
}


}  // namespace fedgate::daemon
