#include "policy/token_bucket.hpp"

#include <gtest/gtest.h>

namespace fedgate::policy {
namespace {

using namespace std::chrono_literals;
using verdict = token_bucket::verdict;
auto const t0 = token_bucket::clock::time_point{} + 1h;

TEST(token_bucket, a_full_burst_passes_then_the_next_is_taken_into_debt)
{
    token_bucket b{10, 5, t0};
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(b.take(1, t0), verdict::pass) << i;
    EXPECT_EQ(b.take(1, t0), verdict::slow);
    EXPECT_DOUBLE_EQ(b.level(t0), -1);
    EXPECT_EQ(b.paid_at(t0), t0 + 100ms);  // one token at 10 a second
}

TEST(token_bucket, debt_beyond_one_burst_is_refused_and_not_taken)
{
    token_bucket b{10, 5, t0};
    for (int i = 0; i < 10; ++i)
        (void)b.take(1, t0);
    EXPECT_DOUBLE_EQ(b.level(t0), -5);
    EXPECT_EQ(b.take(1, t0), verdict::refuse);
    EXPECT_DOUBLE_EQ(b.level(t0), -5) << "a refused stanza costs nothing";
    EXPECT_EQ(b.paid_at(t0), t0 + 500ms);
}

TEST(token_bucket, time_refills_at_the_rate_up_to_the_burst)
{
    token_bucket b{10, 5, t0};
    for (int i = 0; i < 8; ++i)
        (void)b.take(1, t0);
    EXPECT_DOUBLE_EQ(b.level(t0 + 300ms), 0);
    EXPECT_EQ(b.take(1, t0 + 300ms), verdict::slow);
    EXPECT_DOUBLE_EQ(b.level(t0 + 1h), 5) << "never more than a burst";
    EXPECT_EQ(b.paid_at(t0 + 1h), t0 + 1h);
}

TEST(token_bucket, a_steady_sender_at_the_rate_always_passes)
{
    token_bucket b{100, 10, t0};
    auto now = t0;
    for (int i = 0; i < 1000; ++i, now += 10ms)
        ASSERT_EQ(b.take(1, now), verdict::pass) << i;
}

TEST(token_bucket, bytes_larger_than_the_level_go_into_debt_once)
{
    token_bucket b{1000, 2000, t0};
    EXPECT_EQ(b.take(3000, t0), verdict::slow);  // one big stanza: let through, then paid for
    EXPECT_EQ(b.paid_at(t0), t0 + 1s);
    EXPECT_EQ(b.take(1500, t0), verdict::refuse);
}

TEST(token_bucket, a_clock_going_backwards_refills_nothing)
{
    token_bucket b{10, 5, t0};
    for (int i = 0; i < 5; ++i)
        (void)b.take(1, t0);
    EXPECT_EQ(b.take(1, t0 - 1s), verdict::slow);
}

}  // namespace
}  // namespace fedgate::policy
