// Stanzas to one destination stay in order while an invitation waits for the store.
#include "contacts/commit_gate.hpp"
#include "protocol/namespaces.hpp"

#include <gtest/gtest.h>

namespace {

using fedgate::contacts::commit_gate;
using fedgate::protocol::element;

element msg(std::string id)
{
    element e{"message", std::string{fedgate::protocol::ns::component}};
    e.set_attribute("id", std::move(id));
    return e;
}

std::vector<std::string> ids(std::vector<element> const& v)
{
    std::vector<std::string> out;
    for (auto const& e : v)
        out.emplace_back(e.id());
    return out;
}

TEST(commit_gate, nothing_waits_without_a_commit)
{
    commit_gate g;
    auto p = g.push(msg("1"), false);
    EXPECT_EQ(ids(p.release), std::vector<std::string>{"1"});
    EXPECT_FALSE(p.wait_for);
    EXPECT_TRUE(g.empty());
}

TEST(commit_gate, later_stanzas_wait_behind_an_uncommitted_one)
{
    commit_gate g;
    auto invite = g.push(msg("invite"), true);
    EXPECT_TRUE(invite.release.empty());
    ASSERT_TRUE(invite.wait_for);
    EXPECT_TRUE(g.push(msg("after"), false).release.empty());
    auto second = g.push(msg("invite2"), true);
    EXPECT_TRUE(g.push(msg("last"), false).release.empty());
    // The second commit finishing first releases nothing: order is kept.
    EXPECT_TRUE(g.committed(*second.wait_for, true).release.empty());
    auto out = g.committed(*invite.wait_for, true);
    EXPECT_EQ(ids(out.release), (std::vector<std::string>{"invite", "after", "invite2", "last"}));
    EXPECT_TRUE(g.empty());
}

TEST(commit_gate, a_failed_commit_withholds_only_its_own_stanza)
{
    commit_gate g;
    auto invite = g.push(msg("invite"), true);
    (void)g.push(msg("after"), false);
    auto out = g.committed(*invite.wait_for, false);
    ASSERT_TRUE(out.failed);
    EXPECT_EQ(out.failed->id(), "invite");
    EXPECT_EQ(ids(out.release), std::vector<std::string>{"after"});
}

}  // namespace
