// The partner types' contact rules per stanza kind, and the subscription
// bookkeeping they rest on, in the orders that matter (issue 8).
#include "contacts/contact_rules.hpp"
#include "stanzas.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::contacts;
using namespace fedgate::contacts::testing;
using fedgate::policy::partner_type;
using fedgate::protocol::element;

// From bob (remote) to alice (local), and back.
element in(std::string name, std::string type = {})
{
    return stanza(std::move(name), std::move(type), "Bob@Fabrikam.test/phone", "alice@contoso.test/desk");
}
element out(std::string name, std::string type = {})
{
    return stanza(std::move(name), std::move(type), "alice@contoso.test/desk", "bob@fabrikam.test");
}

/// Feeds the subscription events of `stanzas` (outbound when `outbound`).
relationship_state after(std::vector<std::pair<element, bool>> const& stanzas)
{
    relationship_state s;
    for (auto const& [e, outbound] : stanzas)
        if (auto event = subscription_event_of(e))
            s = next_state(s, *event, outbound);
    return s;
}

TEST(contact_rules, relationships_are_keyed_by_normalised_bare_jids)
{
    auto r = relationship_of(addresses_of(in("message")), true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->local, "alice@contoso.test");
    EXPECT_EQ(r->remote, "bob@fabrikam.test");
    EXPECT_EQ(relationship_of(addresses_of(out("presence", "subscribe")), false), r);
    // A server's own address is nobody's contact.
    EXPECT_FALSE(relationship_of(addresses_of(stanza("iq", "get", "fabrikam.test", "contoso.test")), true));
}

TEST(contact_rules, federated_and_public_verified_let_everything_in)
{
    for (auto type : {partner_type::federated, partner_type::public_verified})
        for (auto const& e : {in("message", "chat"), in("presence", "subscribe"), in("presence"), in("iq", "get"),
                              in("presence", "subscribed")})
            EXPECT_TRUE(judge_inbound(type, e, false).pass) << stanza_kind(e);
}

TEST(contact_rules, public_unverified_refuses_strangers_by_stanza_kind)
{
    auto const type = partner_type::public_unverified;
    for (auto const& e : {in("message", "chat"), in("message"), in("iq", "get"), in("iq", "set")}) {
        auto d = judge_inbound(type, e, false);
        EXPECT_FALSE(d.pass) << stanza_kind(e);
        ASSERT_TRUE(d.reply) << stanza_kind(e);
        EXPECT_EQ(condition_of(*d.reply), "forbidden");
        EXPECT_EQ(d.reply->to(), e.from());
        EXPECT_EQ(d.reply->type(), "error");
    }
    // Presence that would give access is dropped without a reply; results and
    // errors are never answered.
    for (auto const& e : {in("presence"), in("presence", "subscribe"), in("presence", "subscribed"),
                          in("presence", "probe"), in("iq", "result"), in("iq", "error"), in("message", "error")}) {
        auto d = judge_inbound(type, e, false);
        EXPECT_FALSE(d.pass) << stanza_kind(e);
        EXPECT_FALSE(d.reply) << stanza_kind(e);
        EXPECT_FALSE(d.reason.empty());
    }
    EXPECT_NE(judge_inbound(type, in("presence", "subscribe"), false).reason.find("did not invite"), std::string::npos);
    // What only takes access away always passes: after an unsubscribe the
    // contact's server still sends unavailable (RFC 6121 §3.3.3).
    for (auto const& e : {in("presence", "unavailable"), in("presence", "unsubscribe"), in("presence", "unsubscribed")})
        EXPECT_TRUE(judge_inbound(type, e, false).pass) << stanza_kind(e);
    // With a relationship, everything passes.
    for (auto const& e : {in("message", "chat"), in("presence", "subscribe"), in("presence"), in("iq", "get")})
        EXPECT_TRUE(judge_inbound(type, e, true).pass) << stanza_kind(e);
}

TEST(contact_rules, invite_then_accept_makes_a_subscription)
{
    auto invited = after({{out("presence", "subscribe"), true}});
    EXPECT_TRUE(invited.asked);
    EXPECT_TRUE(invited.any());
    auto accepted = after({{out("presence", "subscribe"), true}, {in("presence", "subscribed"), false}});
    EXPECT_TRUE(accepted.to);
    EXPECT_FALSE(accepted.asked);
    // The contact asks back and the user accepts: both ways.
    auto both = after({{out("presence", "subscribe"), true},
                       {in("presence", "subscribed"), false},
                       {in("presence", "subscribe"), false},
                       {out("presence", "subscribed"), true}});
    EXPECT_TRUE(both.to && both.from);
}

TEST(contact_rules, accept_without_invite_creates_nothing)
{
    auto s = after({{in("presence", "subscribed"), false}});
    EXPECT_FALSE(s.any());
    // So for a public_unverified partner it is refused, and stays refused.
    EXPECT_FALSE(judge_inbound(partner_type::public_unverified, in("presence", "subscribed"), s.any()).pass);
    EXPECT_FALSE(judge_inbound(partner_type::public_unverified, in("message", "chat"), s.any()).pass);
}

TEST(contact_rules, unsubscribe_removes_the_relationship)
{
    auto s = after({{out("presence", "subscribe"), true},
                    {in("presence", "subscribed"), false},
                    {out("presence", "unsubscribe"), true}});
    EXPECT_FALSE(s.any());
    auto refused = after({{out("presence", "subscribe"), true}, {in("presence", "unsubscribed"), false}});
    EXPECT_FALSE(refused.any());  // the contact declined the invitation
    auto withdrawn = after({{in("presence", "subscribe"), false},
                            {out("presence", "subscribed"), true},
                            {in("presence", "unsubscribe"), false}});
    EXPECT_FALSE(withdrawn.any());
    auto revoked = after({{out("presence", "subscribed"), true}, {out("presence", "unsubscribed"), true}});
    EXPECT_FALSE(revoked.any());
}

TEST(contact_rules, an_outbound_probe_shows_the_roster_holds_the_contact)
{
    auto s = after({{out("presence", "probe"), true}});
    EXPECT_TRUE(s.to);
    EXPECT_TRUE(judge_inbound(partner_type::public_unverified, in("presence"), s.any()).pass);
    // An inbound probe teaches nothing.
    EXPECT_FALSE(after({{in("presence", "probe"), false}}).any());
}

}  // namespace
