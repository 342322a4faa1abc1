// The bounded per-pair queue: order, limits, deadlines, and no error loops.
#include "routing/delivery_queue.hpp"

#include "protocol/namespaces.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::routing;
using namespace std::chrono_literals;
using fedgate::protocol::element;
using fedgate::protocol::stanza_condition;

element message(std::string id, std::string type = "chat")
{
    element m{"message", std::string{fedgate::protocol::ns::component}};
    m.set_attribute("from", "alice@contoso.test");
    m.set_attribute("to", "bob@fabrikam.test");
    m.set_attribute("id", id);
    m.set_attribute("type", type);
    return m;
}

std::string condition_of(element const& reply)
{
    auto const* error = reply.child("error", reply.ns());
    return error && !error->child_elements().empty() ? error->child_elements().front()->name() : "";
}

/// Everything in the queue, oldest first, by id; the queue is empty after.
std::vector<std::string> take_ids(delivery_queue& q)
{
    std::vector<std::string> ids;
    while (auto first = q.take_first())
        ids.emplace_back(first->stanza.id());
    return ids;
}

auto const t0 = clock::time_point{} + 1000s;
delivery_failure const down{stanza_condition::remote_server_timeout, true, "fabrikam.test is not answering"};

TEST(delivery_queue, gives_back_in_order)
{
    delivery_queue q;
    EXPECT_FALSE(q.push(message("1"), 100, t0));
    EXPECT_FALSE(q.push(message("2"), 100, t0 + 1s));
    EXPECT_EQ(q.bytes(), 200u);
    EXPECT_EQ(take_ids(q), (std::vector<std::string>{"1", "2"}));
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(delivery_queue, what_a_stream_lost_goes_back_first_with_its_deadline_and_is_counted_when_it_bounces)
{
    delivery_queue q{{.max_stanzas = 2, .max_bytes = 1000, .delivery_deadline = 60s}};
    EXPECT_FALSE(q.push(message("3"), 10, t0 + 5s));
    EXPECT_FALSE(q.push(message("4"), 10, t0 + 5s));
    std::deque<queued_stanza> lost;
    lost.push_back({message("1"), 10, t0 + 60s, false});
    lost.push_back({message("2"), 10, t0 + 61s, false});
    q.put_back(std::move(lost));  // beyond the limit of 2: they were accepted once
    EXPECT_EQ(q.size(), 4u);
    EXPECT_EQ(q.bytes(), 40u);
    auto first = q.take_first();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->stanza.id(), "1");
    EXPECT_TRUE(first->resent);
    // "2" keeps the deadline it had when first written: it bounces first, and
    // is counted as bounced after a stream loss; "3" and "4" are not.
    auto gone = q.expire(t0 + 61s, down);
    ASSERT_EQ(gone.replies.size(), 1u);
    EXPECT_EQ(gone.replies[0].id(), "2");
    EXPECT_EQ(gone.after_stream_loss, 1u);
    EXPECT_EQ(q.fail_all(down).after_stream_loss, 0u);
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(delivery_queue, a_full_queue_refuses_with_resource_constraint)
{
    delivery_queue by_count{{.max_stanzas = 2, .max_bytes = 1'000'000}};
    EXPECT_FALSE(by_count.push(message("1"), 10, t0));
    EXPECT_FALSE(by_count.push(message("2"), 10, t0));
    auto refused = by_count.push(message("3"), 10, t0);
    ASSERT_TRUE(refused);
    ASSERT_EQ(refused->replies.size(), 1u);
    EXPECT_EQ(refused->replies[0].id(), "3");
    EXPECT_EQ(refused->replies[0].to(), "alice@contoso.test");
    EXPECT_EQ(condition_of(refused->replies[0]), "resource-constraint");
    EXPECT_EQ(by_count.size(), 2u);

    delivery_queue by_bytes{{.max_stanzas = 100, .max_bytes = 250}};
    EXPECT_FALSE(by_bytes.push(message("1"), 200, t0));
    EXPECT_TRUE(by_bytes.push(message("2"), 51, t0));
    EXPECT_FALSE(by_bytes.push(message("3"), 50, t0));
}

TEST(delivery_queue, stanzas_wait_until_their_deadline_then_bounce_with_the_last_failure)
{
    delivery_queue q{{.delivery_deadline = 60s}};
    (void)q.push(message("old"), 10, t0);
    (void)q.push(message("new"), 10, t0 + 30s);
    EXPECT_EQ(q.next_deadline(), t0 + 60s);
    EXPECT_TRUE(q.expire(t0 + 59s, down).replies.empty());
    auto gone = q.expire(t0 + 60s, down);
    ASSERT_EQ(gone.replies.size(), 1u);
    EXPECT_EQ(gone.replies[0].id(), "old");
    EXPECT_EQ(condition_of(gone.replies[0]), "remote-server-timeout");
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.bytes(), 10u);
    EXPECT_EQ(q.next_deadline(), t0 + 90s);
}

TEST(delivery_queue, error_stanzas_are_never_bounced)
{
    delivery_queue q;
    (void)q.push(message("e", "error"), 10, t0);
    (void)q.push(message("m"), 10, t0);
    auto out = q.fail_all({stanza_condition::remote_server_not_found, false, "no such server"});
    ASSERT_EQ(out.replies.size(), 1u);
    EXPECT_EQ(out.replies[0].id(), "m");
    EXPECT_EQ(out.dropped_errors, 1u);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.next_deadline());

    delivery_queue tiny{{.max_stanzas = 0}};
    auto refused = tiny.push(message("e", "error"), 1, t0);
    ASSERT_TRUE(refused);
    EXPECT_TRUE(refused->replies.empty());
    EXPECT_EQ(refused->dropped_errors, 1u);
}

TEST(delivery_queue, a_paused_sender_is_held_beyond_the_limits_and_counted)
{
    delivery_queue q{{.max_stanzas = 2, .max_bytes = 1000}};
    EXPECT_FALSE(q.push(message("1"), 10, t0));
    EXPECT_FALSE(q.push(message("2"), 10, t0));
    EXPECT_TRUE(q.push(message("refused"), 10, t0));  // full for a sender that cannot be paused
    q.push_paused(message("3"), 2000, t0);
    q.push_paused(message("4"), 10, t0);
    EXPECT_EQ(q.size(), 4u);
    EXPECT_EQ(q.bytes(), 2030u);
    EXPECT_TRUE(q.push(message("still refused"), 10, t0));
    EXPECT_EQ(take_ids(q), (std::vector<std::string>{"1", "2", "3", "4"}));
}

}  // namespace
