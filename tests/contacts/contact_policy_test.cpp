// The contact policy the router asks, without Asio: the whole public_unverified
// flow (a stranger refused, an invitation committed before it leaves, the answer
// let in), the server-address rule, and a commit that fails. The store here is
// a test double that completes writes when the test says so.
#include "contacts/contact_policy.hpp"
#include "stanzas.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>

namespace {

using namespace fedgate::contacts;
using namespace fedgate::contacts::testing;
using fedgate::policy::domain_pair;
using fedgate::policy::partner_type;
using fedgate::protocol::element;

/// Memory only; writes complete when complete_next() is called.
class held_store final : public relationship_store {
public:
    relationship_state get(relationship const& r) const override
    {
        auto it = memory_.find(r);
        return it == memory_.end() ? relationship_state{} : it->second;
    }
    void put(relationship const& r, relationship_state s, completion done) override
    {
        memory_[r] = s;
        writes_.push_back(std::move(done));
    }
    void undo(relationship const& r, relationship_state failed, relationship_state previous) override
    {
        if (get(r) == failed)
            memory_[r] = previous;
    }
    std::string put_all(std::vector<std::pair<relationship, relationship_state>> const&) override { return {}; }
    void flush() override {}
    std::vector<std::pair<relationship, relationship_state>> all() const override
    {
        return {memory_.begin(), memory_.end()};
    }
    std::string where() const override { return "/var/lib/fedgate/relationships.sqlite3"; }

    /// Completes the oldest write with `error` ("" for durable).
    void complete_next(std::string const& error = {})
    {
        ASSERT_FALSE(writes_.empty());
        auto done = std::move(writes_.front());
        writes_.pop_front();
        if (done)
            done(error);
    }
    [[nodiscard]] std::size_t pending() const noexcept { return writes_.size(); }

private:
    std::map<relationship, relationship_state> memory_;
    std::deque<completion> writes_;
};

class recording_owner final : public contact_owner {
public:
    void release(domain_pair const& pair, std::vector<element> stanzas) override
    {
        for (auto& s : stanzas)
            released.emplace_back(pair, std::move(s));
    }
    void bounce(element reply, std::string_view) override { bounced.push_back(std::move(reply)); }
    void log(severity l, std::string_view key, std::string const& text) override
    {
        lines.push_back({l, std::string{key}, text});
    }
    std::uint64_t& refusal_counter(std::string_view partner, std::string_view reason) override
    {
        return refusals[{std::string{partner}, std::string{reason}}];
    }

    struct line {
        severity l;
        std::string key;
        std::string text;
    };
    std::vector<std::pair<domain_pair, element>> released;
    std::vector<element> bounced;
    std::vector<line> lines;
    std::map<std::pair<std::string, std::string>, std::uint64_t> refusals;
};

element from_bob(std::string name, std::string type = {})
{
    return stanza(std::move(name), std::move(type), "bob@fabrikam.test/phone", "alice@contoso.test/desk");
}
element to_bob(std::string name, std::string type = {}, std::string id = "x1")
{
    return stanza(std::move(name), std::move(type), "alice@contoso.test/desk", "bob@fabrikam.test", std::move(id));
}

/// Outbound, with the addresses the component session would have parsed.
auto send(contact_policy& policy, domain_pair const& pair, element e)
{
    auto const addresses = addresses_of(e);
    return policy.outbound(pair, std::move(e), addresses);
}

domain_pair const outbound_pair{"contoso.test", "fabrikam.test"};
relationship const alice_bob{"alice@contoso.test", "bob@fabrikam.test"};

class contact_policy_test : public ::testing::Test {
protected:
    held_store store;
    recording_owner owner;
    contact_policy policy{store, owner};

    bool passes(element const& e, partner_type type = partner_type::public_unverified)
    {
        return std::holds_alternative<contact_policy::pass>(policy.inbound(type, "fabrikam.test", e, addresses_of(e)));
    }
    std::optional<element> refusal_reply(element const& e)
    {
        auto verdict = policy.inbound(partner_type::public_unverified, "fabrikam.test", e, addresses_of(e));
        auto* refused = std::get_if<contact_policy::refuse>(&verdict);
        EXPECT_NE(refused, nullptr) << "the stanza passed";
        return refused ? std::move(refused->reply) : std::nullopt;
    }
    auto send(element e)
    {
        return ::send(policy, outbound_pair, std::move(e));
    }
};

TEST_F(contact_policy_test, a_stranger_is_refused_logged_and_counted)
{
    auto reply = refusal_reply(from_bob("message", "chat"));
    ASSERT_TRUE(reply);
    EXPECT_EQ(condition_of(*reply), "forbidden");
    EXPECT_EQ(reply->to(), "bob@fabrikam.test/phone");
    // A subscription request nobody invited: dropped without a word to the sender.
    EXPECT_FALSE(refusal_reply(from_bob("presence", "subscribe")));
    // Counted under short stable codes, not the log's sentences.
    EXPECT_EQ(owner.refusals, (std::map<std::pair<std::string, std::string>, std::uint64_t>{
                                  {{"fabrikam.test", "no_relationship"}, 1}, {{"fabrikam.test", "uninvited_subscription"}, 1}}));
    ASSERT_EQ(owner.lines.size(), 2U);
    EXPECT_EQ(owner.lines[0].l, contact_owner::severity::info);
    EXPECT_FALSE(owner.lines[0].key.empty()) << "refusals are summarised per cause";
    EXPECT_NE(owner.lines[0].text.find("refused message chat from bob@fabrikam.test/phone"), std::string::npos)
        << owner.lines[0].text;
    EXPECT_NE(owner.lines[0].text.find("[1 so far]"), std::string::npos) << owner.lines[0].text;
    EXPECT_NE(owner.lines[1].text.find("public_unverified"), std::string::npos) << owner.lines[1].text;
    // Refusals teach nothing.
    EXPECT_EQ(store.pending(), 0U);
    EXPECT_FALSE(store.get(alice_bob).any());
}

TEST_F(contact_policy_test, an_invitation_leaves_only_once_committed_and_its_answer_is_let_in)
{
    auto invite = send(to_bob("presence", "subscribe", "invite"));
    auto const* waiting = std::get_if<contact_policy::wait>(&invite);
    ASSERT_NE(waiting, nullptr);
    EXPECT_TRUE(waiting->ticket);
    // What follows to the same pair keeps its place behind the invitation.
    auto chat = send(to_bob("message", "chat", "chat"));
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(chat));
    EXPECT_FALSE(std::get<contact_policy::wait>(chat).ticket);
    EXPECT_EQ(policy.held(), 2U);
    EXPECT_TRUE(owner.released.empty());
    // Another pair is not held up.
    auto elsewhere = ::send(policy, {"contoso.test", "northwind.test"},
                                     stanza("message", "chat", "alice@contoso.test", "carol@northwind.test"));
    EXPECT_TRUE(std::holds_alternative<contact_policy::release>(elsewhere));

    store.complete_next();
    ASSERT_EQ(owner.released.size(), 2U);
    EXPECT_EQ(owner.released[0].first, outbound_pair);
    EXPECT_EQ(owner.released[0].second.id(), "invite");
    EXPECT_EQ(owner.released[1].second.id(), "chat");
    EXPECT_EQ(policy.held(), 0U);
    EXPECT_TRUE(store.get(alice_bob).asked);
    // The answer of the invited contact, then its messages, reach alice.
    EXPECT_TRUE(passes(from_bob("presence", "subscribed")));
    EXPECT_TRUE(store.get(alice_bob).to);
    EXPECT_TRUE(passes(from_bob("message", "chat")));
    EXPECT_TRUE(owner.refusals.empty());
    // Once nothing waits, a stanza leaves at once.
    EXPECT_TRUE(std::holds_alternative<contact_policy::release>(send(to_bob("message", "chat"))));
}

TEST_F(contact_policy_test, a_commit_that_fails_bounces_the_invitation_and_undoes_it)
{
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(to_bob("presence", "subscribe", "invite"))));
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(to_bob("message", "chat", "chat"))));
    store.complete_next("disk I/O error");
    // The invitation is not durable, so it does not leave: its sender learns.
    ASSERT_EQ(owner.bounced.size(), 1U);
    EXPECT_EQ(condition_of(owner.bounced[0]), "internal-server-error");
    EXPECT_EQ(owner.bounced[0].to(), "alice@contoso.test/desk");
    EXPECT_EQ(owner.bounced[0].id(), "invite");
    // What waited behind it goes on.
    ASSERT_EQ(owner.released.size(), 1U);
    EXPECT_EQ(owner.released[0].second.id(), "chat");
    // Memory is put back: bob is still a stranger.
    EXPECT_FALSE(store.get(alice_bob).any());
    EXPECT_FALSE(passes(from_bob("message", "chat")));
    bool named = false;
    for (auto const& l : owner.lines)
        named |= l.l == contact_owner::severity::error && l.text.find(store.where()) != std::string::npos &&
                 l.text.find("disk I/O error") != std::string::npos;
    EXPECT_TRUE(named) << "the error names the store and the cause";
}

TEST_F(contact_policy_test, at_shutdown_everything_held_is_handed_over_and_a_late_commit_releases_nothing)
{
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(to_bob("presence", "subscribe", "invite"))));
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(to_bob("message", "chat", "chat"))));
    auto const other = domain_pair{"contoso.test", "northwind.test"};
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(
        ::send(policy, other, stanza("presence", "subscribe", "alice@contoso.test", "carol@northwind.test", "invite2"))));
    EXPECT_EQ(policy.held(), 3U);

    auto const held = policy.give_up();
    ASSERT_EQ(held.size(), 3U);
    EXPECT_EQ(held[0].id(), "invite");
    EXPECT_EQ(held[1].id(), "chat") << "in order per pair";
    EXPECT_EQ(held[2].id(), "invite2");
    EXPECT_EQ(policy.held(), 0U);
    // The writes finish after all: nothing is released twice, nothing bounced twice.
    store.complete_next();
    store.complete_next("database gone");
    EXPECT_TRUE(owner.released.empty());
    EXPECT_TRUE(owner.bounced.empty());
    EXPECT_TRUE(policy.give_up().empty());
}

TEST_F(contact_policy_test, a_newer_change_survives_the_undo_of_a_failed_write)
{
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(to_bob("presence", "subscribe", "invite"))));
    // Bob accepts before the disk answers; the failure must not take that away.
    EXPECT_TRUE(passes(from_bob("presence", "subscribed")));
    store.complete_next("disk I/O error");
    EXPECT_TRUE(store.get(alice_bob).to);
}

TEST_F(contact_policy_test, the_server_address_rule)
{
    // Pings and disco to our server are nobody's contact.
    EXPECT_TRUE(passes(stanza("iq", "get", "fabrikam.test", "contoso.test")));
    EXPECT_TRUE(passes(stanza("iq", "get", "bob@fabrikam.test/phone", "contoso.test")));
    // A stanza for a user from the partner's server or services needs a relationship.
    auto reply = refusal_reply(stanza("iq", "get", "fabrikam.test", "alice@contoso.test"));
    ASSERT_TRUE(reply);
    EXPECT_EQ(condition_of(*reply), "forbidden");
    EXPECT_FALSE(passes(stanza("message", "chat", "muc.fabrikam.test", "alice@contoso.test")));
}

TEST_F(contact_policy_test, what_only_takes_access_away_passes)
{
    EXPECT_TRUE(passes(from_bob("presence", "unavailable")));
    EXPECT_TRUE(passes(from_bob("presence", "unsubscribe")));
    EXPECT_TRUE(passes(from_bob("presence", "unsubscribed")));
    EXPECT_TRUE(owner.refusals.empty());
}

TEST_F(contact_policy_test, other_partner_types_pass_everything_and_still_learn)
{
    for (auto type : {partner_type::federated, partner_type::public_verified}) {
        EXPECT_TRUE(passes(from_bob("message", "chat"), type));
        EXPECT_TRUE(passes(stanza("iq", "get", "fabrikam.test", "alice@contoso.test"), type));
    }
    EXPECT_TRUE(owner.refusals.empty());
    EXPECT_EQ(store.pending(), 0U);
    // A subscription they send is remembered, so that a later type change to
    // public_unverified keeps what was agreed.
    store.put(alice_bob, {.to = false, .from = false, .asked = true}, {});
    store.complete_next();
    EXPECT_TRUE(passes(from_bob("presence", "subscribed"), partner_type::federated));
    EXPECT_TRUE(store.get(alice_bob).to);
}

TEST_F(contact_policy_test, a_repeated_subscription_commits_nothing)
{
    store.put(alice_bob, {.to = true, .from = false, .asked = false}, {});
    store.complete_next();
    // Re-sent when already subscribed: nothing new, nothing to wait for.
    EXPECT_TRUE(std::holds_alternative<contact_policy::release>(send(to_bob("presence", "subscribe"))));
    EXPECT_EQ(store.pending(), 0U);
}

TEST(contact_policy_limits, what_waits_behind_an_invitation_is_bounded)
{
    held_store store;
    recording_owner owner;
    contact_policy policy{store, owner, {.stanzas = 3, .bytes = 1024 * 1024}};
    domain_pair const pair{"contoso.test", "fabrikam.test"};
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(policy, pair, to_bob("presence", "subscribe", "1"))));
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(policy, pair, to_bob("message", "chat", "2"))));
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(policy, pair, to_bob("message", "chat", "3"))));
    // The fourth would pass the bound: refused with an error to its sender.
    ASSERT_TRUE(std::holds_alternative<contact_policy::refused>(send(policy, pair, to_bob("message", "chat", "4"))));
    ASSERT_EQ(owner.bounced.size(), 1U);
    EXPECT_EQ(condition_of(owner.bounced[0]), "resource-constraint");
    EXPECT_EQ(owner.bounced[0].id(), "4");
    EXPECT_EQ((owner.refusals[{"fabrikam.test", "commit_wait_full"}]), 1U);
    ASSERT_FALSE(owner.lines.empty());
    EXPECT_NE(owner.lines.back().text.find("commit_wait_stanzas 3"), std::string::npos) << owner.lines.back().text;
    EXPECT_FALSE(owner.lines.back().key.empty());
    EXPECT_EQ(policy.held(), 3U);
    // Once committed, the three leave in order and the pair takes stanzas again.
    store.complete_next();
    ASSERT_EQ(owner.released.size(), 3U);
    EXPECT_EQ(owner.released[2].second.id(), "3");
    EXPECT_TRUE(std::holds_alternative<contact_policy::release>(send(policy, pair, to_bob("message", "chat", "5"))));
}

TEST(contact_policy_limits, the_bytes_held_are_bounded_too)
{
    held_store store;
    recording_owner owner;
    contact_policy policy{store, owner, {.stanzas = 1000, .bytes = 600}};
    domain_pair const pair{"contoso.test", "fabrikam.test"};
    ASSERT_TRUE(std::holds_alternative<contact_policy::wait>(send(policy, pair, to_bob("presence", "subscribe", "1"))));
    auto big = to_bob("message", "chat", "2");
    big.add_child(element{"body", std::string{fedgate::protocol::ns::server}}).add_text(std::string(700, 'x'));
    ASSERT_TRUE(std::holds_alternative<contact_policy::refused>(send(policy, pair, std::move(big))));
    EXPECT_EQ(owner.bounced.size(), 1U);
    // A stanza that fits still waits its turn.
    EXPECT_TRUE(std::holds_alternative<contact_policy::wait>(send(policy, pair, to_bob("message", "chat", "3"))));
}

}  // namespace
