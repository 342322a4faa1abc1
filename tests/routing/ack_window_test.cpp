// The pings that bound what a component link may lose (issue 16.4).
#include "routing/ack_window.hpp"

#include "protocol/namespaces.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::routing;
using fedgate::protocol::element;

element answer_to(element const& ping, std::string type = "result", std::string from = "contoso.test")
{
    element iq{"iq", std::string{fedgate::protocol::ns::component}};
    iq.set_attribute("type", type);
    iq.set_attribute("id", ping.id());
    iq.set_attribute("from", from);
    iq.set_attribute("to", "fabrikam.test");
    return iq;
}

TEST(ack_window, a_ping_follows_every_nth_stanza_and_is_an_iq_get_to_the_server)
{
    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 3, .max_in_flight = 100}};
    EXPECT_FALSE(w.written());
    EXPECT_FALSE(w.written());
    auto ping = w.written();
    ASSERT_TRUE(ping);
    EXPECT_EQ(ping->name(), "iq");
    EXPECT_EQ(ping->type(), "get");
    EXPECT_EQ(ping->from(), "fabrikam.test");
    EXPECT_EQ(ping->to(), "contoso.test");
    ASSERT_NE(ping->child("ping", "urn:xmpp:ping"), nullptr);
    EXPECT_EQ(w.in_flight(), 3u);
}

TEST(ack_window, an_answer_acknowledges_what_was_written_before_its_ping_only)
{
    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 2, .max_in_flight = 100}};
    (void)w.written();
    auto ping = w.written();
    ASSERT_TRUE(ping);
    (void)w.written();  // after the ping: not covered by its answer
    EXPECT_FALSE(w.written());  // one ping at a time
    EXPECT_EQ(w.in_flight(), 4u);
    EXPECT_TRUE(w.answered(answer_to(*ping)));
    EXPECT_EQ(w.in_flight(), 2u);
    EXPECT_FALSE(w.answered(answer_to(*ping)));  // once
    auto next = w.due();  // two waiting: the next ping at once
    ASSERT_TRUE(next);
    EXPECT_NE(next->id(), ping->id());
}

TEST(ack_window, an_error_answer_is_a_sign_of_life_too)
{
    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 1, .max_in_flight = 100}};
    auto ping = w.written();
    ASSERT_TRUE(ping);
    EXPECT_TRUE(w.answered(answer_to(*ping, "error")));
    EXPECT_EQ(w.in_flight(), 0u);
}

TEST(ack_window, a_user_cannot_answer_for_the_server)
{
    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 1, .max_in_flight = 100}};
    auto ping = w.written();
    ASSERT_TRUE(ping);
    EXPECT_FALSE(w.answered(answer_to(*ping, "result", "mallory@contoso.test/x")));
    EXPECT_FALSE(w.answered(answer_to(*ping, "get")));
    auto other = answer_to(*ping);
    other.set_attribute("id", "fedgate-ack-999");
    EXPECT_FALSE(w.answered(other));
    EXPECT_EQ(w.in_flight(), 1u);
}

TEST(ack_window, the_clock_pings_for_a_quiet_tail)
{
    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 100, .max_in_flight = 1000}};
    EXPECT_FALSE(w.tick());  // nothing written
    (void)w.written();
    auto ping = w.tick();
    ASSERT_TRUE(ping);
    EXPECT_FALSE(w.tick());  // outstanding
    EXPECT_TRUE(w.answered(answer_to(*ping)));
    EXPECT_FALSE(w.tick());  // nothing new
}

TEST(ack_window, a_last_ping_goes_at_once_when_anything_is_unconfirmed_and_none_is_outstanding)
{
    // Shutdown: the link asks for a last answer before it closes.
    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 100, .max_in_flight = 1000}};
    EXPECT_FALSE(w.now());  // nothing written
    (void)w.written();
    (void)w.written();
    auto last = w.now();
    ASSERT_TRUE(last);
    EXPECT_FALSE(w.now());  // one at a time
    (void)w.written();      // written after the ping: not covered by its answer
    ASSERT_TRUE(w.answered(answer_to(*last)));
    EXPECT_EQ(w.in_flight(), 1u);
    auto again = w.now();
    ASSERT_TRUE(again);
    ASSERT_TRUE(w.answered(answer_to(*again)));
    EXPECT_EQ(w.in_flight(), 0u);
    EXPECT_FALSE(w.now());
}

TEST(ack_window, writing_pauses_at_the_limit_only_for_a_server_that_answers)
{
    ack_window silent{"fabrikam.test", "contoso.test", {.ping_every = 2, .max_in_flight = 4}};
    for (int i = 0; i < 10; ++i)
        (void)silent.written();
    EXPECT_FALSE(silent.full());  // never answered: not held to it
    EXPECT_EQ(silent.lost(), 10u);

    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 2, .max_in_flight = 4}};
    (void)w.written();
    auto ping = w.written();
    ASSERT_TRUE(ping);
    EXPECT_TRUE(w.answered(answer_to(*ping)));
    for (int i = 0; i < 3; ++i)
        (void)w.written();
    EXPECT_FALSE(w.full());
    (void)w.written();
    EXPECT_TRUE(w.full());
    EXPECT_EQ(w.lost(), 4u);
    EXPECT_EQ(w.in_flight(), 0u);
}

TEST(ack_window, a_ping_that_is_never_answered_is_followed_by_disco_info)
{
    // Prosody without mod_ping drops a component's ping without an error.
    ack_window w{"fabrikam.test", "contoso.test", {.ping_every = 1, .max_in_flight = 10, .fallback_ticks = 3}};
    auto ping = w.written();
    ASSERT_TRUE(ping);
    EXPECT_FALSE(w.tick());
    EXPECT_FALSE(w.tick());
    auto disco = w.tick();
    ASSERT_TRUE(disco);
    EXPECT_TRUE(w.using_disco());
    EXPECT_NE(disco->child("query", "http://jabber.org/protocol/disco#info"), nullptr);
    EXPECT_FALSE(w.answered(answer_to(*ping)));  // the ping's id is no longer awaited
    EXPECT_TRUE(w.answered(answer_to(*disco)));
    EXPECT_TRUE(w.answering());
    EXPECT_EQ(w.in_flight(), 0u);
    auto next = w.written();
    ASSERT_TRUE(next);
    EXPECT_NE(next->child("query", "http://jabber.org/protocol/disco#info"), nullptr);  // from now on
    for (int i = 0; i < 10; ++i)
        EXPECT_FALSE(w.tick());  // an answering server is not asked twice
}

}  // namespace
