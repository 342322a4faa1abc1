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

TEST(Blocklist, ExactNameBlocksThatDomainOnly)
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

TEST(Blocklist, WildcardBlocksEverySubdomainButNotTheSuffixItself)
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

TEST(Blocklist, ListedPartnerIsBlockedOnlyByItsExactName)
{
    auto const b = sample();
    EXPECT_EQ(b.match("muc.abuse.example", true), nullptr);
    ASSERT_NE(b.match("fabrikam.com", true), nullptr);
    EXPECT_EQ(b.match("fabrikam.com", true)->line, 5u);
}

TEST(Blocklist, TopLevelWildcardBlocksAWholeTld)
{
    blocklist b;
    EXPECT_EQ(b.add_suffix("test", 1), nullptr);
    EXPECT_NE(b.match("x.y.test", false), nullptr);
    EXPECT_EQ(b.match("test", false), nullptr);
    EXPECT_EQ(b.match("x.y.test", true), nullptr);
}

TEST(Blocklist, RepeatedEntryIsReportedAndKeepsItsFirstLine)
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

TEST(Blocklist, EmptyListBlocksNothing)
{
    blocklist const b;
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.match("anything.example", false), nullptr);
}

}  // namespace
}  // namespace fedgate::policy
