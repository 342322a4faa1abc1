#pragma once
/// @file
/// The rate limits on what remote servers send us (issue 23), kept on the
/// router's event loop: per partner, a token bucket for stanzas and one for
/// bytes, and the gate that holds every stream of a partner in debt until the
/// debt is paid (back-pressure: not reading makes TCP push back on the
/// sender); per source address, a bucket of new connections.

#include "network/read_gate.hpp"
#include "policy/rate_limit.hpp"
#include "policy/token_bucket.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fedgate::network {
class connection;
}

namespace fedgate::routing {

class inbound_limits {
public:
    using clock = policy::token_bucket::clock;
    using verdict = policy::token_bucket::verdict;

    explicit inbound_limits(boost::asio::any_io_executor executor) : executor_{std::move(executor)} {}
    inbound_limits(inbound_limits const&) = delete;
    inbound_limits& operator=(inbound_limits const&) = delete;

    struct charged {
        verdict outcome = verdict::pass;
        enum class limit_kind : unsigned char { stanzas, bytes } limit = limit_kind::stanzas;  ///< the one that slowed or refused
        clock::duration held{};           ///< slow: how long the partner's streams stop reading
        bool newly_held = false;          ///< slow: the gate closed now (not already)
    };
    /// Charges one stanza of `bytes` to `partner` (its primary domain) under
    /// `limit`. slow: `source` (and every stream of the partner that sends
    /// meanwhile) stops reading until the debt is paid. A changed limit
    /// (reload) starts afresh. `min_byte_burst`: the largest stanza allowed.
    charged charge(std::string const& partner, policy::rate_limit const& limit, std::size_t bytes,
                   std::size_t min_byte_burst, network::connection& source, clock::time_point now);

    /// One more connection from `address`, at most `per_second` (0: no limit)
    /// with a burst of two seconds' worth.
    [[nodiscard]] bool admit_connection(std::string const& address, unsigned per_second, clock::time_point now);

    /// Forgets what has nothing left to remember: full buckets, open gates.
    void prune(clock::time_point now);
    /// A reload: every hold ends and every limit starts afresh (a partner's
    /// limit may be gone, lower or higher).
    void reset();

    [[nodiscard]] std::size_t tracked_partners() const noexcept { return partners_.size(); }

private:
    struct partner_state {
        explicit partner_state(boost::asio::any_io_executor const& ex, std::string const& partner)
            : gate{std::make_shared<network::manual_gate>(partner + "'s rate limit", true)}, timer{ex}
        {
        }
        policy::rate_limit limit;
        std::optional<policy::token_bucket> stanzas;
        std::optional<policy::token_bucket> bytes;
        std::shared_ptr<network::manual_gate> gate;
        boost::asio::steady_timer timer;
        clock::time_point held_until{};
        /// Which hold the timer ends: a completion already queued (it outlives
        /// the state) ends no later hold, and none after reset().
        std::shared_ptr<std::uint64_t> hold = std::make_shared<std::uint64_t>(0);
    };
    boost::asio::any_io_executor executor_;
    std::map<std::string, std::unique_ptr<partner_state>, std::less<>> partners_;
    struct address_state {
        unsigned per_second;
        policy::token_bucket bucket;
    };
    std::map<std::string, address_state, std::less<>> addresses_;
};

}  // namespace fedgate::routing
