// Repeated log lines at most once per interval per key, with counts.
#include "operations/log_summary.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::operations;
using namespace std::chrono_literals;
using summary = log_summary::summary;

auto const t0 = log_summary::clock::time_point{} + 1000s;

TEST(log_summary, the_first_line_of_a_key_is_logged_in_full_the_others_are_counted)
{
    log_summary quiet{1s};
    EXPECT_TRUE(quiet.note("queue for fabrikam.test full", 1, t0));
    for (int i = 0; i < 9; ++i)
        EXPECT_FALSE(quiet.note("queue for fabrikam.test full", 2, t0 + 100ms));
    EXPECT_TRUE(quiet.due(t0 + 999ms).empty());
    EXPECT_EQ(quiet.due(t0 + 1s), (std::vector<summary>{{"queue for fabrikam.test full", 9, 18}}));
}

TEST(log_summary, keys_are_counted_apart)
{
    log_summary quiet{1s};
    EXPECT_TRUE(quiet.note("a", 1, t0));
    EXPECT_TRUE(quiet.note("b", 1, t0));
    EXPECT_FALSE(quiet.note("a", 1, t0));
    EXPECT_EQ(quiet.due(t0 + 1s), (std::vector<summary>{{"a", 1, 1}}));
}

TEST(log_summary, a_steady_flood_gives_one_sample_and_one_summary_per_interval)
{
    log_summary quiet{1s};
    EXPECT_TRUE(quiet.note("k", 1, t0));
    std::size_t full = 0, summaries = 0, counted = 0;
    for (int ms = 1; ms < 10'000; ++ms) {
        auto const now = t0 + std::chrono::milliseconds{ms};
        full += quiet.note("k", 1, now) ? 1 : 0;
        if (ms % 1000 == 0)  // the router's tick
            for (auto const& s : quiet.due(now)) {
                ++summaries;
                counted += s.occurrences;
            }
    }
    for (auto const& s : quiet.due(t0 + 20s))
        counted += s.occurrences;
    EXPECT_EQ(full, 9u);  // one sample per second after the first
    EXPECT_EQ(summaries, 9u);
    EXPECT_EQ(counted + full, 9'999u);  // every occurrence is logged or in a summary
}

TEST(log_summary, a_note_after_the_interval_closes_the_old_window_without_losing_its_count)
{
    log_summary quiet{1s};
    EXPECT_TRUE(quiet.note("k", 1, t0));
    EXPECT_FALSE(quiet.note("k", 5, t0 + 10ms));
    EXPECT_TRUE(quiet.note("k", 1, t0 + 3s));  // no tick in between
    EXPECT_EQ(quiet.due(t0 + 3s + 10ms), (std::vector<summary>{{"k", 1, 5}}));
}

TEST(log_summary, a_key_that_went_quiet_is_logged_in_full_again)
{
    log_summary quiet{1s};
    EXPECT_TRUE(quiet.note("k", 1, t0));
    EXPECT_TRUE(quiet.due(t0 + 1s).empty());  // nothing counted: forgotten
    EXPECT_TRUE(quiet.note("k", 1, t0 + 5s));
}

}  // namespace
