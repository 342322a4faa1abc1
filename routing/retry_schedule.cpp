#include "routing/retry_schedule.hpp"

#include <algorithm>

namespace fedgate::routing {

retry_schedule::retry_schedule(retry_limits limits, std::uint_fast32_t seed) : limits_{limits}, random_{seed} {}

std::chrono::milliseconds retry_schedule::next()
{
    using std::chrono::milliseconds;
    auto const first = limits_.first_max.count();
    // Failure n waits uniformly in [0, first_max * 2^(n-1)], truncated at the cap:
    // the mean doubles, and jitter spreads the herd.
    unsigned const doublings = std::min(failures_, 30u);
    auto const ceiling = std::min<long long>(limits_.cap.count(), first << std::min(doublings, 20u));
    ++failures_;
    std::uniform_int_distribution<long long> pick{0, std::max<long long>(ceiling, 0)};
    return milliseconds{pick(random_)};
}

}  // namespace fedgate::routing
