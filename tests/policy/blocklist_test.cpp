#include "policy/blocklist.hpp"

#include <gtest/gtest.h>

namespace fedgate::policy {
namespace {

blocklist sample()
{
    blocklist b;
    b.add_exact("spam.example", 3);
    b.add_suffix("abuse.example", 4);
    b.add_exact("fabrikam.com", 5);
    return b;
}

TEST(blocklist, exact_name_blocks_that_domain_only)
{
    auto const b = sample();
    auto const* hit = b.match("spam.example", false);
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(hit->pattern, "spam.example");
    EXPECT_EQ(hit->line, 3u);
    EXPECT_EQ(b.match("chat.spam.example", false), nullptr);
    EXPECT_EQ(b.match("nospam.example", false), nullptr);
    EXPECT_EQ(b.match("example", false), nullptr);
}

TEST(blocklist, wildcard_blocks_every_subdomain_but_not_the_suffix_itself)
{
    auto const b = sample();
    for (auto d : {"a.abuse.example", "a.b.c.abuse.example"}) {
        auto const* hit = b.match(d, false);
        ASSERT_NE(hit, nullptr) << d;
        EXPECT_EQ(hit->pattern, "*.abuse.example");
        EXPECT_EQ(hit->line, 4u);
    }
    EXPECT_EQ(b.match("abuse.example", false), nullptr);
    EXPECT_EQ(b.match("notabuse.example", false), nullptr);  // a label boundary, not a string suffix
    EXPECT_EQ(b.match("abuse.example.net", false), nullptr);
}

TEST(blocklist, listed_partner_is_blocked_only_by_its_exact_name)
{
    auto const b = sample();
    EXPECT_EQ(b.match("muc.abuse.example", true), nullptr);
    ASSERT_NE(b.match("fabrikam.com", true), nullptr);
    EXPECT_EQ(b.match("fabrikam.com", true)->line, 5u);
}

TEST(blocklist, top_level_wildcard_blocks_a_whole_tld)
{
    blocklist b;
    EXPECT_EQ(b.add_suffix("test", 1), nullptr);
    EXPECT_NE(b.match("x.y.test", false), nullptr);
    EXPECT_EQ(b.match("test", false), nullptr);
    EXPECT_EQ(b.match("x.y.test", true), nullptr);
}

TEST(blocklist, repeated_entry_is_reported_and_keeps_its_first_line)
{
    blocklist b;
    EXPECT_EQ(b.add_exact("spam.example", 1), nullptr);
    ASSERT_NE(b.add_exact("spam.example", 9), nullptr);
    EXPECT_EQ(b.add_exact("spam.example", 9)->line, 1u);
    EXPECT_EQ(b.add_suffix("spam.example", 2), nullptr);  // a wildcard and a name are different entries
    ASSERT_NE(b.add_suffix("spam.example", 10), nullptr);
    EXPECT_EQ(b.add_suffix("spam.example", 10)->line, 2u);
    EXPECT_EQ(b.match("spam.example", false)->line, 1u);
    EXPECT_EQ(b.match("x.spam.example", false)->line, 2u);
    EXPECT_EQ(b.exact_count(), 1u);
    EXPECT_EQ(b.suffix_count(), 1u);
}

TEST(blocklist, empty_list_blocks_nothing)
{
    blocklist const b;
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.match("anything.example", false), nullptr);
}

}  // namespace
}  // namespace fedgate::policy
