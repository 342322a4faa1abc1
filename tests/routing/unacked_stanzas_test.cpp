// XEP-0198 on an outbound stream: what stays unacknowledged, when to ask, and
// what a lost stream gives back.
#include "routing/unacked_stanzas.hpp"

#include "protocol/namespaces.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace {

using namespace fedgate::routing;
using namespace std::chrono_literals;
using fedgate::protocol::element;

auto const t0 = clock::time_point{} + 1000s;

queued_stanza message(int n)
{
    element m{"message", std::string{fedgate::protocol::ns::server}};
    m.set_attribute("id", std::to_string(n));
    return {std::move(m), 10, t0 + std::chrono::seconds{n}, false};
}

std::vector<std::string> ids(std::deque<queued_stanza> const& items)
{
    std::vector<std::string> out;
    for (auto const& i : items)
        out.emplace_back(i.stanza.id());
    return out;
}

TEST(unacked_stanzas, asks_every_n_stanzas_one_request_at_a_time)
{
    unacked_stanzas ledger{{.request_every = 3, .max_unacknowledged = 100}};
    EXPECT_FALSE(ledger.written(message(1)));
    EXPECT_FALSE(ledger.written(message(2)));
    EXPECT_TRUE(ledger.written(message(3)));  // <r/> after the third
    for (int n = 4; n <= 9; ++n)
        EXPECT_FALSE(ledger.written(message(n))) << n;  // one outstanding
    EXPECT_EQ(ledger.acknowledged(3), 3u);
    EXPECT_EQ(ledger.size(), 6u);
    EXPECT_TRUE(ledger.request_due(false));  // six more were written meanwhile
    EXPECT_FALSE(ledger.request_due(false));
}

TEST(unacked_stanzas, the_clock_asks_for_a_quiet_tail)
{
    unacked_stanzas ledger{{.request_every = 10, .max_unacknowledged = 100}};
    EXPECT_FALSE(ledger.request_due(true));  // nothing written
    EXPECT_FALSE(ledger.written(message(1)));
    EXPECT_FALSE(ledger.request_due(false));
    EXPECT_TRUE(ledger.request_due(true));
    EXPECT_FALSE(ledger.request_due(true));  // outstanding
    EXPECT_EQ(ledger.acknowledged(1), 1u);
    EXPECT_TRUE(ledger.empty());
    EXPECT_FALSE(ledger.request_due(true));
}

TEST(unacked_stanzas, an_answer_that_leaves_some_out_is_asked_again_on_the_clock)
{
    unacked_stanzas ledger{{.request_every = 2, .max_unacknowledged = 100}};
    EXPECT_FALSE(ledger.written(message(1)));
    EXPECT_TRUE(ledger.written(message(2)));
    EXPECT_EQ(ledger.acknowledged(1), 1u);
    EXPECT_FALSE(ledger.request_due(false));
    EXPECT_TRUE(ledger.request_due(true));
}

TEST(unacked_stanzas, counting_more_than_was_written_is_an_error)
{
    unacked_stanzas ledger;
    EXPECT_FALSE(ledger.written(message(1)));
    EXPECT_FALSE(ledger.acknowledged(2));
    EXPECT_EQ(ledger.size(), 1u);  // nothing was forgotten on a bad count
    EXPECT_EQ(ledger.acknowledged(0), 0u);
    EXPECT_EQ(ledger.acknowledged(1), 1u);
}

TEST(unacked_stanzas, the_count_wraps_at_two_to_the_32)
{
    std::uint32_t const max = std::numeric_limits<std::uint32_t>::max();
    unacked_stanzas ledger{{.request_every = 100, .max_unacknowledged = 100}, max - 1};
    for (int n = 1; n <= 4; ++n)
        EXPECT_FALSE(ledger.written(message(n)));
    EXPECT_EQ(ledger.acknowledged(max), 1u);  // 2^32 - 1
    EXPECT_EQ(ledger.acknowledged(1), 2u);    // 2^32 + 1 wraps to 1
    EXPECT_FALSE(ledger.acknowledged(3));     // one more than was written
    EXPECT_EQ(ledger.acknowledged(2), 1u);
    EXPECT_TRUE(ledger.empty());
}

TEST(unacked_stanzas, a_lost_stream_gives_back_what_was_not_acknowledged_in_order_and_starts_over)
{
    unacked_stanzas ledger{{.request_every = 100, .max_unacknowledged = 3}};
    for (int n = 1; n <= 3; ++n)
        EXPECT_FALSE(ledger.written(message(n)));
    EXPECT_TRUE(ledger.full());
    EXPECT_EQ(ledger.acknowledged(1), 1u);
    EXPECT_FALSE(ledger.full());
    auto lost = ledger.lost();
    EXPECT_EQ(ids(lost), (std::vector<std::string>{"2", "3"}));
    EXPECT_EQ(lost.front().deadline, t0 + 2s);
    EXPECT_TRUE(ledger.empty());
    // The next stream's count starts at 0 again.
    EXPECT_FALSE(ledger.written(message(4)));
    EXPECT_EQ(ledger.acknowledged(1), 1u);
}

}  // namespace
