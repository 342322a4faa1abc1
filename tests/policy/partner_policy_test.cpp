// The 18 rows of seed 001's "XMPP Federation Negotiation Methods Matrix - Complete",
// transcribed from the seed (and from shared/DESIGN.md for the commit rule of seed
// 000), not from the implementation: "expected" is the seed's "Expected Authentication
// Method" column, "valid" is false where the seed says "Not Valid Configuration" or
// where DESIGN.md applies the commit rule (SASL without TLS).
#include "policy/partner_policy.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace fedgate::policy;
constexpr auto req = requirement::required;
constexpr auto opt = requirement::optional;
constexpr auto ns = requirement::not_supported;

constexpr char const* optional_tls =
    "SASL requires TLS. Allowing TLS to be optional may result in failed session negotiations.";
constexpr char const* dialback_idle = "Dialback will not operate if both SASL and TLS are required.";
constexpr char const* commit_rule = "SASL requires TLS, and TLS is not supported: set tls to \"required\" or "
                                    "\"optional\", or set sasl to \"not_supported\"";
constexpr char const* no_method =
    "SASL or Dialback must be enabled: set sasl to \"required\" or \"optional\" (with TLS), or set dialback to true";

struct seed_row {
    int row;
    requirement tls, sasl;
    bool dialback;
    char const* expected;  // seed wording, in preference order
    bool valid;
    char const* error;     // nullptr when valid
    char const* warning;   // nullptr when none
};

// clang-format off
constexpr seed_row seed_001_matrix[] = {
    { 1, req, req, true,  "SASL over TLS",                             true,  nullptr,     dialback_idle},
    { 2, req, req, false, "SASL over TLS",                             true,  nullptr,     nullptr},
    { 3, opt, req, true,  "SASL over TLS, TLS dialback, TCP dialback", true,  nullptr,     optional_tls},
    { 4, opt, req, false, "SASL over TLS",                             true,  nullptr,     optional_tls},
    { 5, ns,  req, true,  "TCP dialback",                              false, commit_rule, nullptr},
    { 6, ns,  req, false, "none",                                      false, commit_rule, nullptr},
    { 7, req, opt, true,  "SASL over TLS, TLS dialback",               true,  nullptr,     nullptr},
    { 8, req, opt, false, "SASL over TLS",                             true,  nullptr,     nullptr},
    { 9, opt, opt, true,  "SASL over TLS, TLS dialback, TCP dialback", true,  nullptr,     optional_tls},
    {10, opt, opt, false, "SASL over TLS",                             true,  nullptr,     optional_tls},
    {11, ns,  opt, true,  "TCP dialback",                              false, commit_rule, nullptr},
    {12, ns,  opt, false, "none",                                      false, commit_rule, nullptr},
    {13, req, ns,  true,  "TLS dialback",                              true,  nullptr,     nullptr},
    {14, req, ns,  false, "none",                                      false, no_method,   nullptr},
    {15, opt, ns,  true,  "TLS dialback, TCP dialback",                true,  nullptr,     nullptr},
    {16, opt, ns,  false, "none",                                      false, no_method,   nullptr},
    {17, ns,  ns,  true,  "TCP dialback",                              true,  nullptr,     nullptr},
    {18, ns,  ns,  false, "none",                                      false, no_method,   nullptr},
};
// clang-format on

class seed_matrix : public ::testing::TestWithParam<seed_row> {};

TEST_P(seed_matrix, row_matches_the_seed)
{
    auto const& r = GetParam();
    auto e = evaluate({r.tls, r.sasl, r.dialback});

    EXPECT_EQ(describe(e.expected), r.expected);
    EXPECT_EQ(e.outcome == verdict::valid, r.valid);
    if (r.error) {
        ASSERT_TRUE(e.error.has_value());
        EXPECT_EQ(*e.error, r.error);
        EXPECT_TRUE(e.applied().empty()) << "a refused configuration must not allow any method";
    } else {
        EXPECT_FALSE(e.error.has_value()) << *e.error;
        EXPECT_EQ(e.applied(), e.expected);
    }
    if (r.warning) {
        ASSERT_EQ(e.warnings.size(), 1u);
        EXPECT_EQ(e.warnings.front(), r.warning);
    } else {
        EXPECT_TRUE(e.warnings.empty()) << e.warnings.front();
    }
}

std::string row_name(::testing::TestParamInfo<seed_row> const& row)
{
    return "row_" + std::to_string(row.param.row);
}
INSTANTIATE_TEST_SUITE_P(all_18_rows, seed_matrix, ::testing::ValuesIn(seed_001_matrix), row_name);

TEST(partner_policy, tcp_dialback_never_allowed_when_tls_is_required)
{
    // DESIGN.md: the common-configurations table of seed 001 lists TCP dialback for
    // (required, optional, true); the complete matrix does not, and wins.
    for (auto sasl : {req, opt, ns})
        EXPECT_FALSE(evaluate({req, sasl, true}).expected.contains(auth_method::tcp_dialback));
}

TEST(partner_policy, seed_notes_accompany_the_dialback_only_rows)
{
    EXPECT_EQ(evaluate({req, ns, true}).note, "Configuration allows for TLS Dialback.");
    EXPECT_EQ(evaluate({opt, ns, true}).note,
              "Based on negotiation choices of the other end point, TCP or TLS Dialback will be accepted.");
    EXPECT_EQ(evaluate({ns, ns, true}).note, "TCP Dialback is the only negotiation method available.");
    EXPECT_EQ(evaluate({ns, req, false}).note,
              "Because SASL requires TLS, and TLS is not available, SASL/TLS cannot succeed. "
              "TCP Dialback is set to false, and cannot be used.");
}

TEST(partner_policy, configuration_words_round_trip)
{
    for (auto r : {req, opt, ns})
        EXPECT_EQ(parse_requirement(config_name(r)), r);
    EXPECT_EQ(parse_requirement("Required"), std::nullopt);
    EXPECT_EQ(parse_requirement("mandatory"), std::nullopt);
}

TEST(partner_policy, defaults_are_a_valid_secure_combination)
{
    auto e = evaluate(negotiation_settings{});
    EXPECT_EQ(e.outcome, verdict::valid);
    EXPECT_EQ(describe(e.applied()), "SASL over TLS, TLS dialback");
}

}  // namespace
