// RFC 2782 ordering and the XEP-0368 / RFC 6120 §3.2 target plan, with a seeded RNG.
#include "dns/error.hpp"
#include "dns/srv_order.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace fedgate::dns;

TEST(order_srv, lower_priority_always_first)
{
    std::mt19937_64 rng{1};
    std::vector<srv_record> records = {{"c", 1, 30, 5}, {"a", 1, 10, 0}, {"b", 1, 20, 100}, {"a2", 1, 10, 50}};
    for (int i = 0; i < 200; ++i) {
        auto ordered = order_srv(records, rng);
        ASSERT_EQ(ordered.size(), 4u);
        EXPECT_EQ(ordered[0].priority, 10);
        EXPECT_EQ(ordered[1].priority, 10);
        EXPECT_EQ(ordered[2].target, "b");
        EXPECT_EQ(ordered[3].target, "c");
    }
}

TEST(order_srv, weights_share_first_place_in_proportion)
{
    std::mt19937_64 rng{42};
    std::vector<srv_record> records = {{"w60", 1, 10, 60}, {"w30", 1, 10, 30}, {"w10", 1, 10, 10}, {"w0", 1, 10, 0}};
    std::map<std::string, int> first;
    constexpr int runs = 20000;
    for (int i = 0; i < runs; ++i)
        ++first[order_srv(records, rng).front().target];
    // Expected shares: 60/100, 30/100, 10/100, and weight 0 only on a draw of 0
    // (1 in 101); tolerance well above the standard deviation of 20000 draws.
    EXPECT_NEAR(first["w60"] / double{runs}, 0.60, 0.02);
    EXPECT_NEAR(first["w30"] / double{runs}, 0.30, 0.02);
    EXPECT_NEAR(first["w10"] / double{runs}, 0.10, 0.015);
    EXPECT_NEAR(first["w0"] / double{runs}, 1.0 / 101, 0.005);
}

TEST(order_srv, all_zero_weights_still_all_come_out)
{
    std::mt19937_64 rng{7};
    for (int round = 0; round < 50; ++round) {
        auto ordered = order_srv({{"a", 1, 0, 0}, {"b", 1, 0, 0}, {"c", 1, 0, 0}}, rng);
        ASSERT_EQ(ordered.size(), 3u);
        std::vector<std::string> hosts;
        for (auto const& r : ordered)
            hosts.push_back(r.target);
        std::sort(hosts.begin(), hosts.end());
        EXPECT_EQ(hosts, (std::vector<std::string>{"a", "b", "c"}));  // each once, none lost or repeated
    }
}

TEST(plan_targets, direct_tls_and_starttls_are_one_rrset)
{
    std::mt19937_64 rng{3};
    srv_answer direct{{{"tls.example", 5270, 5, 0}}, {}};
    srv_answer starttls{{{"plain.example", 5269, 10, 0}, {"early.example", 5269, 1, 0}}, {}};
    auto plan = plan_targets(direct, starttls, rng);
    ASSERT_EQ(plan.targets.size(), 3u);
    EXPECT_EQ(plan.targets[0], (srv_target{{"early.example", 5269, 1, 0}, false}));
    EXPECT_EQ(plan.targets[1], (srv_target{{"tls.example", 5270, 5, 0}, true}));
    EXPECT_EQ(plan.targets[2], (srv_target{{"plain.example", 5269, 10, 0}, false}));
    EXPECT_FALSE(plan.fallback);
}

TEST(plan_targets, dot_removes_a_service_and_forbids_fallback)
{
    std::mt19937_64 rng{3};
    srv_answer dot{{{".", 1, 0, 0}}, {}};
    srv_answer none{{}, make_error_code(error::nxdomain)};
    srv_answer plain{{{"plain.example", 5269, 0, 0}}, {}};

    auto only_starttls = plan_targets(dot, plain, rng);
    ASSERT_EQ(only_starttls.targets.size(), 1u);
    EXPECT_FALSE(only_starttls.targets[0].direct_tls);

    auto refused = plan_targets(none, dot, rng);
    EXPECT_TRUE(refused.targets.empty());
    EXPECT_FALSE(refused.fallback);
    EXPECT_EQ(refused.error, make_error_code(error::service_unavailable));

    auto xmpps_dot_only = plan_targets(dot, none, rng);  // XEP-0368 §6: no A/AAAA fallback
    EXPECT_FALSE(xmpps_dot_only.fallback);
    EXPECT_EQ(xmpps_dot_only.error, make_error_code(error::service_unavailable));
}

TEST(plan_targets, no_srv_at_all_falls_back_and_keeps_the_reason)
{
    std::mt19937_64 rng{3};
    auto plan = plan_targets({{}, make_error_code(error::nxdomain)}, {{}, make_error_code(error::no_data)}, rng);
    EXPECT_TRUE(plan.fallback);
    EXPECT_TRUE(plan.targets.empty());
    EXPECT_EQ(plan.error, make_error_code(error::no_data));
}

}  // namespace
