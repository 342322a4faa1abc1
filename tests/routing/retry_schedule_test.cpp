// RFC 6120 §3.3 reconnection: random first delay, truncated exponential backoff.
#include "routing/retry_schedule.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::routing;
using namespace std::chrono_literals;

TEST(retry_schedule, delays_stay_within_doubling_ceilings_and_the_cap)
{
    for (std::uint_fast32_t seed = 0; seed < 200; ++seed) {
        retry_schedule s{{.first_max = 1000ms, .cap = 5000ms}, seed};
        EXPECT_LE(s.next(), 1000ms);
        EXPECT_LE(s.next(), 2000ms);
        EXPECT_LE(s.next(), 4000ms);
        for (int i = 0; i < 40; ++i)
            EXPECT_LE(s.next(), 5000ms);
    }
}

TEST(retry_schedule, the_mean_delay_grows_and_the_first_ones_are_spread)
{
    // Over many seeds: failure n averages about first_max * 2^(n-1) / 2.
    double sum1 = 0, sum3 = 0;
    std::chrono::milliseconds smallest{1'000'000}, largest{0};
    int const runs = 2000;
    for (int seed = 0; seed < runs; ++seed) {
        retry_schedule s{{.first_max = 1000ms, .cap = 600'000ms}, static_cast<std::uint_fast32_t>(seed)};
        auto first = s.next();
        (void)s.next();
        sum1 += static_cast<double>(first.count());
        sum3 += static_cast<double>(s.next().count());
        smallest = std::min(smallest, first);
        largest = std::max(largest, first);
    }
    EXPECT_NEAR(sum1 / runs, 500.0, 50.0);
    EXPECT_NEAR(sum3 / runs, 2000.0, 200.0);
    EXPECT_LT(smallest, 100ms);
    EXPECT_GT(largest, 900ms);
}

TEST(retry_schedule, a_success_starts_over_and_a_seed_repeats)
{
    retry_schedule a{{.first_max = 1000ms, .cap = 600'000ms}, 7};
    retry_schedule b{{.first_max = 1000ms, .cap = 600'000ms}, 7};
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(a.next(), b.next());
    EXPECT_EQ(a.failures(), 5u);
    a.reset();
    EXPECT_EQ(a.failures(), 0u);
    for (int i = 0; i < 10; ++i)
        (void)a.next();
    a.reset();
    EXPECT_LE(a.next(), 1000ms);
}

}  // namespace
