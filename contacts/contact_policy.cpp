#include "contacts/contact_policy.hpp"

#include "protocol/serializer.hpp"
#include "protocol/stanza_error.hpp"

#include <fmt/format.h>

namespace fedgate::contacts {

using level = contact_owner::severity;

std::variant<contact_policy::pass, contact_policy::refuse> contact_policy::inbound(policy::partner_type type,
                                                                                   std::string_view partner,
                                                                                   protocol::element const& stanza,
                                                                                   protocol::stanza_addresses const& addresses)
{
    auto const event = subscription_event_of(stanza);
    std::optional<relationship> who;
    if (type == policy::partner_type::public_unverified || event)
        who = relationship_of(addresses, true);
    if (type == policy::partner_type::public_unverified) {
        // Stanzas to our server itself (pings, disco) are nobody's contact; a
        // stanza for a user from the partner's server or services needs a
        // relationship too.
        bool const to_user = !addresses.to.local().empty();
        bool const related = who ? store_->get(*who).any() : !to_user;
        if (auto decision = judge_inbound(type, stanza, related); !decision.pass) {
            auto& refusals = owner_->refusal_counter(partner, decision.code);
            ++refusals;
            owner_->log(level::info, fmt::format("refused by the contact rules of {}: {}", partner, decision.reason),
                        fmt::format("refused {} from {} to {} (partner {}, {}): {} [{} so far]", stanza_kind(stanza),
                                    stanza.from(), stanza.to(), partner, policy::config_name(type), decision.reason,
                                    refusals));
            return refuse{std::move(decision.reply)};
        }
    }
    if (who && event) {
        auto const before = store_->get(*who);
        auto const after = next_state(before, *event, false);
        if (after != before)
            store_->put(*who, after, [owner = owner_, who = *who](std::string const& error) {
                if (!error.empty())
                    owner->log(level::error, {},
                               fmt::format("relationship {} ~ {} not recorded: {}", who.local, who.remote, error));
            });
    }
    return pass{};
}

std::variant<contact_policy::release, contact_policy::wait, contact_policy::refused>
contact_policy::outbound(policy::domain_pair const& pair, protocol::element stanza,
                         protocol::stanza_addresses const& addresses)
{
    std::optional<relationship> who;
    relationship_state before, after;
    if (auto event = subscription_event_of(stanza))
        if ((who = relationship_of(addresses, false))) {
            before = store_->get(*who);
            after = next_state(before, *event, true);
            if (after == before)
                who.reset();
        }
    auto waiting = gates_.find(pair);
    if (!who && waiting == gates_.end())
        return release{std::move(stanza)};  // the common case: nothing to commit, nothing ahead of it
    auto& gate = waiting != gates_.end() ? waiting->second : gates_[pair];
    auto const bytes = protocol::to_string(stanza).size();
    if (over_limits(pair, gate, stanza, bytes)) {
        if (gate.empty())
            gates_.erase(pair);
        return refused{};
    }
    auto pushed = gate.push(std::move(stanza), who.has_value(), bytes);
    // An empty gate was not looked up, so something waits now: nothing is released.
    if (!pushed.wait_for)
        return wait{};
    auto const ticket = next_ticket_++;
    writes_.emplace(ticket, pending_write{pair, *pushed.wait_for, *who, before, after});
    store_->put(*who, after, [this, ticket](std::string const& error) { committed(ticket, error); });
    return wait{ticket};
}

bool contact_policy::over_limits(policy::domain_pair const& pair, commit_gate const& gate,
                                 protocol::element const& stanza, std::size_t bytes)
{
    if (gate.size() < limits_.stanzas && gate.bytes() + bytes <= limits_.bytes)
        return false;
    auto const reason = refusal_code::commit_wait_full;
    auto& refusals = owner_->refusal_counter(pair.remote, reason);
    ++refusals;
    owner_->log(level::info, fmt::format("refused: too much waits for an invitation to {} to be recorded", pair.remote),
                fmt::format("refused {} from {} to {}: {} stanzas ({} bytes) already wait for an invitation to be "
                            "recorded (limits: commit_wait_stanzas {}, commit_wait_bytes {}) [{} so far]",
                            stanza_kind(stanza), stanza.from(), stanza.to(), gate.size(), gate.bytes(),
                            limits_.stanzas, limits_.bytes, refusals));
    if (protocol::may_bounce(stanza))
        owner_->bounce(protocol::make_error_reply(stanza, protocol::stanza_condition::resource_constraint,
                                                  "too many stanzas wait for the gateway to record an invitation"),
                       "too many stanzas wait for an invitation to be recorded");
    return true;
}

void contact_policy::committed(commit_gate::ticket ticket, std::string const& error)
{
    auto write = writes_.find(ticket);
    if (write == writes_.end())
        return;
    auto const w = std::move(write->second);
    writes_.erase(write);
    if (error.empty())
        owner_->log(level::info, {},
                    fmt::format("relationship {} ~ {}: to={} from={} asked={} (committed)", w.who.local, w.who.remote,
                                w.after.to, w.after.from, w.after.asked));
    auto gate = gates_.find(w.pair);
    if (gate == gates_.end())
        return;
    auto out = gate->second.committed(w.in_gate, error.empty());
    if (gate->second.empty())
        gates_.erase(gate);
    if (out.failed) {
        // Memory went ahead of the disk; put it back unless something newer came.
        store_->undo(w.who, w.after, w.before);
        // Not durable, so not sent: the sender learns, and may try again.
        owner_->log(level::error, {},
                    fmt::format("relationship store {}: {}; the stanza from {} to {} is bounced", store_->where(),
                                error, out.failed->from(), out.failed->to()));
        if (protocol::may_bounce(*out.failed))
            owner_->bounce(protocol::make_error_reply(*out.failed, protocol::stanza_condition::internal_server_error,
                                                      "the gateway could not record this"),
                           "relationship store");
    }
    if (!out.release.empty())
        owner_->release(w.pair, std::move(out.release));
}

std::vector<protocol::element> contact_policy::give_up()
{
    std::vector<protocol::element> all;
    for (auto& [pair, gate] : gates_)
        for (auto& stanza : gate.take_all())
            all.push_back(std::move(stanza));
    gates_.clear();
    return all;
}

std::size_t contact_policy::held() const noexcept
{
    std::size_t n = 0;
    for (auto const& [pair, gate] : gates_)
        n += gate.size();
    return n;
}

}  // namespace fedgate::contacts
