#include "routing/inbound_limits.hpp"

#include "network/connection.hpp"

#include <algorithm>

namespace fedgate::routing {

namespace {

/// Two seconds' worth, and never less than `floor`.
double burst_of(double per_second, double floor)
{
    return std::max(2 * per_second, floor);
}

}  // namespace

inbound_limits::charged inbound_limits::charge(std::string const& partner, policy::rate_limit const& limit,
                                               std::size_t bytes, std::size_t min_byte_burst,
                                               network::connection& source, clock::time_point now)
{
    auto it = partners_.find(partner);
    if (it == partners_.end())
        it = partners_.emplace(partner, std::make_unique<partner_state>(executor_, partner)).first;
    auto& s = *it->second;
    if (s.limit != limit) {
        s.limit = limit;
        s.stanzas.reset();
        s.bytes.reset();
        if (limit.stanzas_per_second > 0)
            s.stanzas.emplace(limit.stanzas_per_second, burst_of(limit.stanzas_per_second, 1), now);
        if (limit.bytes_per_second > 0)
            s.bytes.emplace(limit.bytes_per_second,
                            burst_of(limit.bytes_per_second, static_cast<double>(min_byte_burst)), now);
    }
    // Refused by either limit: nothing is taken from the other.
    auto const by_stanzas = s.stanzas ? s.stanzas->judge(1, now) : verdict::pass;
    auto const by_bytes = s.bytes ? s.bytes->judge(static_cast<double>(bytes), now) : verdict::pass;
    // The verdicts are ordered pass < slow < refuse: the stricter one counts.
    charged result{.outcome = std::max(by_stanzas, by_bytes),
                   .limit = by_bytes > by_stanzas ? charged::limit_kind::bytes : charged::limit_kind::stanzas};
    if (result.outcome == verdict::refuse) {
        // Whichever stream brought it stops too: it may be one not held yet.
        source.hold_reading_for(s.gate);
        return result;
    }
    if (s.stanzas)
        (void)s.stanzas->take(1, now);
    if (s.bytes)
        (void)s.bytes->take(static_cast<double>(bytes), now);
    if (result.outcome != verdict::slow)
        return result;
    auto until = now;
    for (auto const* bucket : {&s.stanzas, &s.bytes})
        if (*bucket)
            until = std::max(until, (*bucket)->paid_at(now));
    result.held = until - now;
    result.newly_held = !s.gate->holding();
    source.hold_reading_for(s.gate);
    if (until > s.held_until || result.newly_held) {
        s.held_until = until;
        s.gate->close();
        s.timer.expires_at(until);
        s.timer.async_wait([current = s.hold, gate = s.gate, hold = ++*s.hold](boost::system::error_code ec) {
            // A completion queued before a later hold re-armed the timer must
            // not end that hold.
            if (!ec && hold == *current)
                gate->open();
        });
    }
    return result;
}

bool inbound_limits::admit_connection(std::string const& address, unsigned per_second, clock::time_point now)
{
    if (per_second == 0)
        return true;
    auto it = addresses_.find(address);
    if (it == addresses_.end() || it->second.per_second != per_second) {
        auto const rate = static_cast<double>(per_second);
        it = addresses_.insert_or_assign(address, address_state{per_second, {rate, burst_of(rate, 1), now}}).first;
    }
    // No debt for connections: one over the rate is refused at once.
    if (it->second.bucket.level(now) < 1)
        return false;
    (void)it->second.bucket.take(1, now);
    return true;
}

void inbound_limits::reset()
{
    for (auto& [partner, s] : partners_) {
        ++*s->hold;
        s->timer.cancel();
        s->gate->open();
    }
    partners_.clear();
}

void inbound_limits::prune(clock::time_point now)
{
    auto const full = [now](std::optional<policy::token_bucket> const& b) {
        return !b || b->level(now) >= b->burst();
    };
    std::erase_if(partners_, [&](auto const& entry) {
        auto const& s = *entry.second;
        return !s.gate->holding() && full(s.stanzas) && full(s.bytes);
    });
    std::erase_if(addresses_, [&](auto const& entry) { return entry.second.bucket.level(now) >= entry.second.bucket.burst(); });
}

}  // namespace fedgate::routing
