// When the gateway hands freed memory back: after a large burst of streams
// ended, not on the churn of a steady state.
#include "operations/memory_release.hpp"

#include <gtest/gtest.h>

namespace {

using fedgate::operations::memory_release;

/// Opens streams from `from` up to `to`.
void open_up(memory_release& m, std::size_t from, std::size_t to)
{
    for (auto n = from + 1; n <= to; ++n)
        m.opened(n);
}

/// Closes streams from `from` down to `to`; how many closes asked for a release.
int close_down(memory_release& m, std::size_t from, std::size_t to)
{
    int releases = 0;
    for (auto n = from; n-- > to;)
        releases += m.closed(n) ? 1 : 0;
    return releases;
}

TEST(memory_release, once_when_half_of_a_large_burst_has_closed)
{
    memory_release m;
    open_up(m, 0, 10000);
    EXPECT_EQ(close_down(m, 10000, 5001), 0) << "fewer than half closed";
    EXPECT_TRUE(m.closed(5000));
    // The peak is now 5,000: the next release comes at 2,500.
    EXPECT_EQ(close_down(m, 5000, 2501), 0);
    EXPECT_TRUE(m.closed(2500));
}

TEST(memory_release, once_for_a_small_burst_never_for_steady_churn)
{
    memory_release small;
    open_up(small, 0, 1500);
    EXPECT_EQ(close_down(small, 1500, 0), 1) << "a thousand closed once, at 476 or below";

    memory_release steady;
    open_up(steady, 0, 3000);
    int releases = 0;
    for (int round = 0; round < 100; ++round) {  // 500 close, 500 open, again and again
        releases += close_down(steady, 3000, 2500);
        open_up(steady, 2500, 3000);
    }
    EXPECT_EQ(releases, 0);
}

TEST(memory_release, the_tail_of_a_burst_once_a_second_passes_without_opens_or_closes)
{
    memory_release m;
    open_up(m, 0, 1000);
    EXPECT_FALSE(m.quiet(1000)) << "streams opened in the last second";
    EXPECT_FALSE(m.quiet(1000)) << "nothing closed yet";
    EXPECT_EQ(close_down(m, 1000, 0), 0) << "below minimum_closed: the rule for large bursts does not apply";
    EXPECT_FALSE(m.quiet(0)) << "streams closed in the last second";
    EXPECT_TRUE(m.quiet(0)) << "a quiet second after a thousand closed";
    EXPECT_FALSE(m.quiet(0)) << "once";
}

TEST(memory_release, not_for_a_few_streams_nor_while_they_keep_changing)
{
    memory_release few;
    open_up(few, 0, 300);
    EXPECT_EQ(close_down(few, 300, 100), 0);
    (void)few.quiet(100);
    EXPECT_FALSE(few.quiet(100)) << "200 closed: below minimum_quiet_closed";

    memory_release busy;
    open_up(busy, 0, 2000);
    for (int second = 0; second < 10; ++second) {
        EXPECT_EQ(close_down(busy, 2000, 1700), 0);
        open_up(busy, 1700, 2000);
        EXPECT_FALSE(busy.quiet(2000)) << "churn every second";
    }
}

}  // namespace
