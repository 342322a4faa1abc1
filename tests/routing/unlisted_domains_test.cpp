// [default_partner] max_domains' bookkeeping: the unlisted domains with
// streams, most recently used first; one too many pushes out the least
// recently used, whose streams the router then closes.
#include "routing/unlisted_domains.hpp"

#include <gtest/gtest.h>

namespace {

using fedgate::routing::unlisted_domains;
using strings = std::vector<std::string>;

TEST(unlisted_domains, starts_empty_with_its_capacity)
{
    unlisted_domains u{3};
    EXPECT_EQ(u.size(), 0u);
    EXPECT_EQ(u.capacity(), 3u);
    EXPECT_FALSE(u.contains("a.test"));
    EXPECT_EQ(unlisted_domains{}.capacity(), 0u);
}

TEST(unlisted_domains, up_to_capacity_nothing_is_pushed_out)
{
    unlisted_domains u{3};
    EXPECT_EQ(u.use("a.test"), std::nullopt);
    EXPECT_EQ(u.use("b.test"), std::nullopt);
    EXPECT_EQ(u.use("c.test"), std::nullopt);
    EXPECT_EQ(u.size(), 3u);
    for (auto const* d : {"a.test", "b.test", "c.test"})
        EXPECT_TRUE(u.contains(d)) << d;
    // Using one again neither grows the list nor pushes anything out.
    EXPECT_EQ(u.use("a.test"), std::nullopt);
    EXPECT_EQ(u.size(), 3u);
}

TEST(unlisted_domains, one_more_pushes_out_the_least_recently_used)
{
    unlisted_domains u{3};
    (void)u.use("a.test");
    (void)u.use("b.test");
    (void)u.use("c.test");
    EXPECT_EQ(u.use("d.test"), "a.test");
    EXPECT_EQ(u.size(), 3u);
    EXPECT_FALSE(u.contains("a.test"));
    EXPECT_TRUE(u.contains("d.test"));
    EXPECT_EQ(u.use("e.test"), "b.test");
    EXPECT_EQ(u.use("f.test"), "c.test");
    EXPECT_EQ(u.use("g.test"), "d.test");
    // The one pushed out comes back as a new one, pushing out another.
    EXPECT_EQ(u.use("a.test"), "e.test");
    EXPECT_TRUE(u.contains("a.test"));
}

TEST(unlisted_domains, using_a_domain_again_makes_it_the_most_recent)
{
    unlisted_domains u{3};
    (void)u.use("a.test");
    (void)u.use("b.test");
    (void)u.use("c.test");
    EXPECT_EQ(u.use("a.test"), std::nullopt);  // order now: a, c, b
    EXPECT_EQ(u.use("d.test"), "b.test");
    EXPECT_TRUE(u.contains("a.test"));
    EXPECT_EQ(u.use("c.test"), std::nullopt);  // order now: c, d, a
    EXPECT_EQ(u.use("e.test"), "a.test");
    EXPECT_EQ(u.use("f.test"), "d.test");
    EXPECT_EQ(u.use("g.test"), "c.test");
}

TEST(unlisted_domains, the_domain_used_is_never_the_one_pushed_out)
{
    unlisted_domains u{1};
    EXPECT_EQ(u.use("a.test"), std::nullopt);
    EXPECT_EQ(u.use("a.test"), std::nullopt);
    EXPECT_EQ(u.use("b.test"), "a.test");
    EXPECT_EQ(u.size(), 1u);
    EXPECT_TRUE(u.contains("b.test"));
    EXPECT_FALSE(u.contains("a.test"));
    EXPECT_EQ(u.use("b.test"), std::nullopt);
    EXPECT_EQ(u.use("a.test"), "b.test");
    EXPECT_TRUE(u.contains("a.test"));
}

TEST(unlisted_domains, shrinking_pushes_out_the_least_recent_first)
{
    unlisted_domains u{5};
    for (auto const* d : {"a.test", "b.test", "c.test", "d.test", "e.test"})
        (void)u.use(d);
    (void)u.use("b.test");  // order now: b, e, d, c, a
    EXPECT_EQ(u.resize(2), (strings{"a.test", "c.test", "d.test"}));
    EXPECT_EQ(u.capacity(), 2u);
    EXPECT_EQ(u.size(), 2u);
    EXPECT_TRUE(u.contains("b.test"));
    EXPECT_TRUE(u.contains("e.test"));
    // The new bound holds from now on.
    EXPECT_EQ(u.use("f.test"), "e.test");
}

TEST(unlisted_domains, growing_or_keeping_the_size_pushes_out_nothing)
{
    unlisted_domains u{2};
    (void)u.use("a.test");
    (void)u.use("b.test");
    EXPECT_TRUE(u.resize(2).empty());
    EXPECT_TRUE(u.resize(4).empty());
    EXPECT_EQ(u.capacity(), 4u);
    EXPECT_EQ(u.use("c.test"), std::nullopt);
    EXPECT_EQ(u.use("d.test"), std::nullopt);
    EXPECT_EQ(u.use("e.test"), "a.test");
}

TEST(unlisted_domains, resizing_to_zero_empties_it)
{
    unlisted_domains u{3};
    (void)u.use("a.test");
    (void)u.use("b.test");
    EXPECT_EQ(u.resize(0), (strings{"a.test", "b.test"}));
    EXPECT_EQ(u.size(), 0u);
    EXPECT_FALSE(u.contains("b.test"));
}

TEST(unlisted_domains, clear_forgets_every_domain_and_keeps_the_bound)
{
    unlisted_domains u{2};
    (void)u.use("a.test");
    (void)u.use("b.test");
    u.clear();
    EXPECT_EQ(u.size(), 0u);
    EXPECT_FALSE(u.contains("a.test"));
    EXPECT_FALSE(u.contains("b.test"));
    EXPECT_EQ(u.capacity(), 2u);
    // Usable again, and what was there before counts no more.
    EXPECT_EQ(u.use("c.test"), std::nullopt);
    EXPECT_EQ(u.use("a.test"), std::nullopt);
    EXPECT_EQ(u.use("d.test"), "c.test");
}

TEST(unlisted_domains, a_domain_is_kept_by_its_own_copy)
{
    // use() takes a view: the list must not depend on the caller's string.
    unlisted_domains u{2};
    {
        std::string temporary = "transient.test";
        (void)u.use(temporary);
        temporary.assign("overwritten.example");
    }
    EXPECT_TRUE(u.contains("transient.test"));
    EXPECT_FALSE(u.contains("overwritten.example"));
    (void)u.use("b.test");
    EXPECT_EQ(u.use("c.test"), "transient.test");
}

}  // namespace
