// Both machines through every row of the partner policy matrix: contoso.test's
// inbound session (policy row under test) against fabrikam.test's outbound
// session under each of the 18 settings and four certificate situations. The
// expectation is the DESIGN.md rule, stated independently of the sessions.
#include "session_harness.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::negotiation::auth_method;
using fedgate::negotiation::requirement;

std::vector<negotiation_settings> all_settings()
{
    std::vector<negotiation_settings> rows;
    for (auto tls : {requirement::required, requirement::optional, requirement::not_supported})
        for (auto sasl : {requirement::required, requirement::optional, requirement::not_supported})
            for (bool dialback : {true, false})
                rows.push_back({tls, sasl, dialback});
    return rows;
}

std::string describe(negotiation_settings const& s)
{
    return "tls=" + std::string{config_name(s.tls)} + " sasl=" + std::string{config_name(s.sasl)} +
           " dialback=" + (s.dialback ? "true" : "false");
}

/// DESIGN.md "Partner policy": TLS when both sides may use it; then SASL over TLS
/// when both allow it and both certificates are valid, else TLS dialback; on a
/// plaintext stream TCP dialback; nothing when one side requires TLS and the
/// other does not support it.
std::optional<auth_method> expected_method(wire_setup const& s)
{
    auto ours = evaluate(s.receiver_policy).applied();
    auto theirs = evaluate(s.initiator_policy).applied();
    bool tls = s.receiver_policy.tls != requirement::not_supported &&
               s.initiator_policy.tls != requirement::not_supported;
    bool required_somewhere =
        s.receiver_policy.tls == requirement::required || s.initiator_policy.tls == requirement::required;
    if (!tls && required_somewhere)
        return std::nullopt;
    auto both = [&](auth_method m) { return ours.contains(m) && theirs.contains(m); };
    if (tls) {
        if (both(auth_method::sasl_over_tls) && s.receiver_certificate_valid && s.initiator_certificate_valid)
            return auth_method::sasl_over_tls;
        if (both(auth_method::tls_dialback))
            return auth_method::tls_dialback;
        return std::nullopt;
    }
    if (both(auth_method::tcp_dialback))
        return auth_method::tcp_dialback;
    return std::nullopt;
}

class policy_row : public ::testing::TestWithParam<negotiation_settings> {};

TEST_P(policy_row, negotiates_exactly_what_both_policies_allow)
{
    int authenticated_runs = 0;
    for (auto const& peer : all_settings()) {
        for (auto [receiver_cert, initiator_cert] : {std::pair{true, true}, {false, false}, {true, false}, {false, true}}) {
            wire_setup setup{GetParam(), peer, receiver_cert, initiator_cert};
            SCOPED_TRACE("ours: " + describe(GetParam()) + "; peer: " + describe(peer) +
                         "; our certificate " + (receiver_cert ? "valid" : "invalid") + ", peer's " +
                         (initiator_cert ? "valid" : "invalid"));
            auto outcome = run_wire(setup);
            auto expected = expected_method(setup);
            if (expected) {
                ++authenticated_runs;
                ASSERT_TRUE(outcome.inbound_auth) << sent_xml(outcome.inbound_actions);
                EXPECT_EQ(outcome.inbound_auth->method, *expected) << display_name(outcome.inbound_auth->method);
                EXPECT_EQ(outcome.inbound_auth->pair, (domain_pair{"contoso.test", "fabrikam.test"}));
                ASSERT_TRUE(outcome.outbound_auth);
                EXPECT_EQ(outcome.outbound_auth->method, *expected);
                EXPECT_EQ(outcome.tls, *expected != auth_method::tcp_dialback);
                EXPECT_FALSE(outcome.inbound_close) << outcome.inbound_close->detail;
                EXPECT_FALSE(outcome.outbound_close) << outcome.outbound_close->detail;
            } else {
                EXPECT_FALSE(outcome.inbound_auth) << display_name(outcome.inbound_auth->method);
                EXPECT_FALSE(outcome.outbound_auth);
                // The failure is a policy outcome with a reason, not a protocol breakage.
                ASSERT_TRUE(outcome.outbound_close);
                EXPECT_NE(outcome.outbound_close->reason, close_reason::bad_input) << outcome.outbound_close->detail;
                EXPECT_FALSE(outcome.outbound_close->detail.empty());
            }
            // Whatever happened, the receiver never let a method outside its row through.
            if (outcome.inbound_auth) {
                EXPECT_TRUE(evaluate(GetParam()).applied().contains(outcome.inbound_auth->method));
            }
        }
    }
    // A valid row authenticates with some peer; a row refused at commit never does.
    EXPECT_EQ(authenticated_runs > 0, evaluate(GetParam()).outcome == verdict::valid);
}

INSTANTIATE_TEST_SUITE_P(all_18_rows, policy_row, ::testing::ValuesIn(all_settings()),
                         [](auto const& row) {
                             auto const& s = row.param;
                             return std::string{config_name(s.tls)} + "_tls_" + std::string{config_name(s.sasl)} +
                                    "_sasl_" + (s.dialback ? "dialback" : "no_dialback");
                         });

}  // namespace
