// [default_partner] (open federation): the terms of every remote domain no
// [[partner]] lists. Its defaults, every key it reads, what it refuses at which
// line, that it needs [internal] mode = "s2s", and what check-config and
// `fedgate matrix -c` show of it.
#include "conf/config.hpp"
#include "conf/report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace {

using namespace fedgate::conf;
using fedgate::policy::requirement;
using ::testing::HasSubstr;
using ::testing::Not;

// Lines 1-11: a valid configuration in s2s mode, without a partner.
constexpr char const* s2s_base = R"(
[gateway]
s2s_listen = ["192.0.2.1:5269"]
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[internal]
mode = "s2s"
secret_file = "internal.secret"
listen = ["127.0.0.2:5269"]
)";

// Lines 12-14; a test's own lines start at line 15.
constexpr char const* a_partner = R"([[partner]]
domain = "fabrikam.test"
type = "federated"
)";

constexpr std::uint32_t first_line = 15;

load_result parse_with(std::string const& text)
{
    return parse(std::string{s2s_base} + a_partner + text, "t.toml", "/etc/fedgate");
}

std::vector<std::string> messages(load_result const& r)
{
    std::vector<std::string> out;
    for (auto const& d : r.findings)
        out.push_back(d.format());
    return out;
}

std::string first(load_result const& r)
{
    return r.findings.empty() ? std::string{"(no finding)"} : r.findings.front().format();
}

constexpr char const* no_partner_warning = "no [[partner]] is configured: fedgate will refuse every remote domain";

bool warns_of_no_partner(load_result const& r)
{
    return std::any_of(r.findings.begin(), r.findings.end(), [](diagnostic const& d) {
        return d.level == diagnostic::severity::warning && d.message == no_partner_warning;
    });
}

// ---- absent ----------------------------------------------------------------------

TEST(default_partner_section, absent_is_closed_federation)
{
    auto r = parse_with("");
    ASSERT_TRUE(r.ok()) << first(r);
    EXPECT_TRUE(r.findings.empty()) << first(r);
    EXPECT_FALSE(r.cfg->default_partner.has_value());
    auto const report = check_config_report(*r.cfg, 0);
    EXPECT_THAT(report, HasSubstr("\nDefault partner\n  none: every domain not listed above is refused (closed "
                                  "federation)\n"));
    EXPECT_THAT(report, Not(HasSubstr("every domain not listed  (")));
    auto const matrix = configured_combinations(*r.cfg);
    EXPECT_THAT(matrix, HasSubstr("  [default_partner]: none; domains not listed are refused\n"));
    EXPECT_THAT(matrix, Not(HasSubstr("(unlisted)")));
}

TEST(default_partner_section, no_partner_is_a_warning_only_in_closed_federation)
{
    auto closed = parse(s2s_base, "t.toml", "/etc/fedgate");
    ASSERT_TRUE(closed.ok()) << first(closed);
    EXPECT_TRUE(warns_of_no_partner(closed)) << ::testing::PrintToString(messages(closed));

    auto open = parse(std::string{s2s_base} + "[default_partner]\n", "t.toml", "/etc/fedgate");
    ASSERT_TRUE(open.ok()) << first(open);
    EXPECT_FALSE(warns_of_no_partner(open)) << ::testing::PrintToString(messages(open));
    EXPECT_TRUE(open.findings.empty()) << ::testing::PrintToString(messages(open));
    EXPECT_TRUE(open.cfg->partners.empty());
    EXPECT_TRUE(open.cfg->default_partner.has_value());
}

// ---- defaults and keys -----------------------------------------------------------

TEST(default_partner_section, an_empty_section_takes_the_careful_defaults)
{
    auto r = parse_with("[default_partner]\n");
    ASSERT_TRUE(r.ok()) << first(r);
    EXPECT_TRUE(r.findings.empty()) << ::testing::PrintToString(messages(r));
    ASSERT_TRUE(r.cfg->default_partner.has_value());
    auto const& d = *r.cfg->default_partner;
    EXPECT_EQ(d.line, first_line);
    EXPECT_EQ(d.terms.line, first_line);
    EXPECT_EQ(d.max_domains, 1000u);
    auto const& t = d.terms;
    EXPECT_TRUE(t.domain.empty());
    EXPECT_TRUE(t.description.empty());
    EXPECT_TRUE(t.additional_domains.empty());
    EXPECT_EQ(t.type, partner_type::public_unverified);
    EXPECT_EQ(t.rate_limit, (fedgate::policy::rate_limit{20, 131072}));
    EXPECT_EQ(t.negotiation, (fedgate::policy::negotiation_settings{requirement::required, requirement::optional, true}));
    EXPECT_EQ(t.policy.outcome, fedgate::policy::verdict::valid);
    EXPECT_EQ(t.policy.applied(), fedgate::policy::evaluate(t.negotiation).applied());
    EXPECT_FALSE(t.policy.applied().empty());
    EXPECT_TRUE(t.stream_management);
    EXPECT_TRUE(t.bidi);
    // The listed partner keeps its own (no limit, federated).
    ASSERT_EQ(r.cfg->partners.size(), 1u);
    EXPECT_EQ(r.cfg->partners[0].type, partner_type::federated);
    EXPECT_FALSE(r.cfg->partners[0].rate_limit.any());
}

TEST(default_partner_section, every_key_is_read)
{
    auto r = parse_with("[default_partner]\n"
                        "description = \"anyone who asks\"\n"
                        "type = \"federated\"\n"
                        "tls = \"required\"\n"
                        "sasl = \"required\"\n"
                        "dialback = false\n"
                        "stream_management = false\n"
                        "bidi = false\n"
                        "rate_limit_stanzas = 0\n"
                        "rate_limit_bytes = 0\n"
                        "max_domains = 25\n");
    ASSERT_TRUE(r.ok()) << first(r);
    ASSERT_TRUE(r.cfg->default_partner.has_value());
    auto const& d = *r.cfg->default_partner;
    EXPECT_EQ(d.max_domains, 25u);
    EXPECT_EQ(d.terms.description, "anyone who asks");
    EXPECT_EQ(d.terms.type, partner_type::federated);
    EXPECT_EQ(d.terms.negotiation,
              (fedgate::policy::negotiation_settings{requirement::required, requirement::required, false}));
    EXPECT_EQ(d.terms.policy.applied(), fedgate::policy::evaluate(d.terms.negotiation).applied());
    EXPECT_FALSE(d.terms.stream_management);
    EXPECT_FALSE(d.terms.bidi);
    EXPECT_FALSE(d.terms.rate_limit.any()) << "0 means no limit, in place of the default ones";
    EXPECT_TRUE(d.terms.domain.empty());
}

TEST(default_partner_section, each_rate_limit_and_type_on_its_own)
{
    auto r = parse_with("[default_partner]\ntype = \"public_verified\"\nrate_limit_stanzas = 7\n"
                        "rate_limit_bytes = 300000\ntls = \"optional\"\nsasl = \"not_supported\"\n");
    ASSERT_TRUE(r.ok()) << first(r);
    auto const& t = r.cfg->default_partner->terms;
    EXPECT_EQ(t.type, partner_type::public_verified);
    EXPECT_EQ(t.rate_limit, (fedgate::policy::rate_limit{7, 300000}));
    EXPECT_EQ(t.negotiation.tls, requirement::optional);
    EXPECT_EQ(t.negotiation.sasl, requirement::not_supported);
    EXPECT_TRUE(t.negotiation.dialback) << "not given: the default";

    // Only the stanzas: the bytes keep their default.
    r = parse_with("[default_partner]\nrate_limit_stanzas = 0\n");
    ASSERT_TRUE(r.ok()) << first(r);
    EXPECT_EQ(r.cfg->default_partner->terms.rate_limit, (fedgate::policy::rate_limit{0, 131072}));
}

TEST(default_partner_section, max_domains_bounds)
{
    auto r = parse_with("[default_partner]\nmax_domains = 1\n");
    ASSERT_TRUE(r.ok()) << first(r);
    EXPECT_EQ(r.cfg->default_partner->max_domains, 1u);
    r = parse_with("[default_partner]\nmax_domains = 1000000\n");
    ASSERT_TRUE(r.ok()) << first(r);
    EXPECT_EQ(r.cfg->default_partner->max_domains, 1000000u);
}

// ---- refused ---------------------------------------------------------------------

TEST(default_partner_section, max_domains_zero_is_refused_at_its_line)
{
    for (auto const* value : {"0", "1000001", "-3"}) {
        auto r = parse_with(std::string{"[default_partner]\ndescription = \"x\"\nmax_domains = "} + value + "\n");
        EXPECT_FALSE(r.ok()) << value;
        ASSERT_FALSE(r.findings.empty()) << value;
        EXPECT_EQ(r.findings.front().level, diagnostic::severity::error);
        EXPECT_EQ(r.findings.front().line, first_line + 2) << value;
        EXPECT_THAT(r.findings.front().message, HasSubstr("max_domains")) << value;
    }
}

TEST(default_partner_section, a_wrong_value_is_refused_and_no_default_partner_is_kept)
{
    auto r = parse_with("[default_partner]\ntype = \"friend\"\n");
    EXPECT_FALSE(r.ok());
    ASSERT_FALSE(r.findings.empty());
    EXPECT_EQ(r.findings.front().line, first_line + 1);
    EXPECT_THAT(r.findings.front().message, HasSubstr("type"));

    r = parse_with("[default_partner]\nbidi = \"yes\"\n");
    EXPECT_FALSE(r.ok());
    ASSERT_FALSE(r.findings.empty());
    EXPECT_EQ(r.findings.front().line, first_line + 1);
    EXPECT_THAT(r.findings.front().message, HasSubstr("'bidi'"));
}

TEST(default_partner_section, an_invalid_combination_is_reported_at_the_setting_to_change)
{
    // SASL needs TLS: reported at tls.
    auto r = parse_with("[default_partner]\nsasl = \"required\"\ntls = \"not_supported\"\n");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u) << ::testing::PrintToString(messages(r));
    EXPECT_EQ(r.findings.front().level, diagnostic::severity::error);
    EXPECT_EQ(r.findings.front().line, first_line + 2);
    EXPECT_TRUE(r.findings.front().message.starts_with("[default_partner]: ")) << r.findings.front().message;

    // No method left: reported at sasl.
    r = parse_with("[default_partner]\ndialback = false\nsasl = \"not_supported\"\n");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u) << ::testing::PrintToString(messages(r));
    EXPECT_EQ(r.findings.front().line, first_line + 2);
    EXPECT_TRUE(r.findings.front().message.starts_with("[default_partner]: ")) << r.findings.front().message;
}

TEST(default_partner_section, component_mode_refuses_it_at_the_section)
{
    // Lines 1-10 (mode not given: component), [default_partner] at line 11.
    auto r = parse(R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[[partner]]
domain = "fabrikam.test"
type = "federated"
[internal]
secret_file = "s"
[default_partner]
max_domains = 10
)",
                   "t.toml", "/etc/fedgate");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u) << ::testing::PrintToString(messages(r));
    auto const& d = r.findings.front();
    EXPECT_EQ(d.level, diagnostic::severity::error);
    EXPECT_EQ(d.line, 11u);
    EXPECT_TRUE(d.message.starts_with("[default_partner] needs [internal] mode = \"s2s\"")) << d.message;
    EXPECT_THAT(d.message, HasSubstr("mode = \"s2s\" in [internal]"));
}

TEST(default_partner_section, component_mode_written_out_is_refused_too)
{
    auto r = parse(R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[[partner]]
domain = "fabrikam.test"
type = "federated"
[internal]
mode = "component"
secret_file = "s"
[default_partner]
)",
                   "t.toml", "/etc/fedgate");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u) << ::testing::PrintToString(messages(r));
    EXPECT_EQ(r.findings.front().line, 12u);
    EXPECT_TRUE(r.findings.front().message.starts_with("[default_partner] needs [internal] mode = \"s2s\""));
}

TEST(default_partner_section, without_internal_only_the_missing_section_is_reported)
{
    auto r = parse(R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[default_partner]
)",
                   "t.toml", "/etc/fedgate");
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(messages(r), ::testing::Contains(HasSubstr("the [internal] section is missing")));
    for (auto const& d : r.findings)
        EXPECT_THAT(d.message, Not(HasSubstr("[default_partner] needs"))) << d.format();
}

TEST(default_partner_section, an_unknown_key_is_refused)
{
    // A [[partner]] key that names domains has no place here.
    for (auto const* line : {"domain = \"x.test\"", "additional_domains = [\"x.test\"]"}) {
        auto r = parse_with(std::string{"[default_partner]\n"} + line + "\n");
        EXPECT_FALSE(r.ok()) << line;
        ASSERT_FALSE(r.findings.empty()) << line;
        auto const key = std::string{line}.substr(0, std::string{line}.find(' '));
        EXPECT_EQ(r.findings.front().format(),
                  "t.toml:" + std::to_string(first_line + 1) + ": error: unknown key '" + key +
                      "' in [default_partner]; remove it (fedgate.toml(5) lists every setting)");
    }
    // A misspelt one gets the closest key.
    auto r = parse_with("[default_partner]\nmax_domain = 3\n");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(first(r), "t.toml:16: error: unknown key 'max_domain' in [default_partner]; did you mean 'max_domains'?");
}

// ---- warnings --------------------------------------------------------------------

TEST(default_partner_section, a_bytes_limit_below_half_a_stanza_is_a_warning_naming_it)
{
    auto r = parse_with("[default_partner]\ntype = \"public_verified\"\nrate_limit_bytes = 1000\n");
    ASSERT_TRUE(r.ok()) << first(r);
    EXPECT_EQ(messages(r),
              (std::vector<std::string>{
                  "t.toml:17: warning: [default_partner]: rate_limit_bytes is below half of [limits] "
                  "max_stanza_bytes (262144); one stanza that large holds its streams 262 s; raise "
                  "rate_limit_bytes or lower max_stanza_bytes"}));
}

TEST(default_partner_section, the_default_bytes_limit_is_exactly_half_the_default_stanza)
{
    // 131072 is half of 262144: no warning by default...
    auto r = parse_with("[default_partner]\n");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.findings.empty()) << first(r);
    // ...one at the section when [limits] lets larger stanzas in.
    r = parse_with("[default_partner]\n[limits]\nmax_stanza_bytes = 262145\n");
    ASSERT_TRUE(r.ok()) << first(r);
    ASSERT_EQ(r.findings.size(), 1u) << ::testing::PrintToString(messages(r));
    EXPECT_EQ(r.findings.front().line, first_line);
    EXPECT_TRUE(r.findings.front().message.starts_with("[default_partner]: rate_limit_bytes is below half"))
        << r.findings.front().message;
}

// ---- reports ---------------------------------------------------------------------

TEST(default_partner_section, check_config_shows_the_default_partner)
{
    auto r = parse_with("[default_partner]\ndescription = \"strangers\"\nmax_domains = 250\n");
    ASSERT_TRUE(r.ok()) << first(r);
    auto const report = check_config_report(*r.cfg, 0);
    auto const at = report.find("\nDefault partner\n");
    ASSERT_NE(at, std::string::npos) << report;
    auto const section = report.substr(at);
    EXPECT_TRUE(section.starts_with("\nDefault partner\n  every domain not listed  (public_unverified)\n"
                                    "    description:        strangers\n"
                                    "    negotiation:        tls = required, sasl = optional, dialback = true\n"))
        << section;
    EXPECT_THAT(section, HasSubstr("    rate limit:         20 stanzas, 131072 bytes a second"));
    EXPECT_THAT(section, HasSubstr("    open streams:       to at most 250 unlisted domains at once; the least "
                                   "recently used closes first\n"));
    EXPECT_THAT(report, Not(HasSubstr("none: every domain not listed above is refused")));
    // The listed partner stays among the partners, before.
    EXPECT_THAT(report.substr(0, at), HasSubstr("\nPartners (1)\n  fabrikam.test  (federated)\n"));
}

TEST(default_partner_section, matrix_lists_each_partner_and_the_unlisted_ones)
{
    auto r = parse(std::string{s2s_base} + a_partner +
                       "tls = \"optional\"\n[[partner]]\ndomain = \"adatum.test\"\ntype = \"federated\"\n"
                       "sasl = \"required\"\n"
                       "[default_partner]\ntls = \"required\"\nsasl = \"not_supported\"\n",
                   "t.toml", "/etc/fedgate");
    ASSERT_TRUE(r.ok()) << first(r);
    auto const matrix = configured_combinations(*r.cfg);
    auto const methods = [&](partner const& p) { return fedgate::policy::describe(p.policy.applied()); };
    std::string const expected =
        "\nIn t.toml\n"
        "  fabrikam.test                 optional       optional       true      " +
        methods(r.cfg->partners[0]) +
        "\n"
        "  adatum.test                   required       required       true      " +
        methods(r.cfg->partners[1]) +
        "\n"
        "  [default_partner] (unlisted)  required       not_supported  true      " +
        methods(r.cfg->default_partner->terms) + "\n";
    EXPECT_EQ(matrix, expected);
    EXPECT_NE(methods(r.cfg->default_partner->terms), methods(r.cfg->partners[1]));
}

}  // namespace
