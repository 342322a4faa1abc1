// Rate limits in the configuration: per partner (rate_limit_stanzas,
// rate_limit_bytes) and per source address ([limits] connection_rate_per_ip).
#include "conf/config.hpp"
#include "conf/report.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::conf;

// Lines 1-9; a test's own lines start at line 10.
constexpr char const* base = R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[internal]
secret_file = "s"
[[partner]]
domain = "fabrikam.test"
type = "federated"
)";

load_result parse_with(std::string const& text)
{
    return parse(std::string{base} + text, "t.toml", "/etc/fedgate");
}

TEST(rate_limit_settings, none_by_default)
{
    auto r = parse_with("");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.cfg->partners[0].rate_limit.any());
    EXPECT_EQ(r.cfg->limits.connection_rate_per_ip, 0u);
    EXPECT_EQ(check_config_report(*r.cfg, 0).find("rate limit"), std::string::npos);
    EXPECT_NE(check_config_report(*r.cfg, 0).find("connections:        at most 10000 inbound, 16 from one address\n"),
              std::string::npos)
        << check_config_report(*r.cfg, 0);
}

TEST(rate_limit_settings, a_partner_limit_and_its_report)
{
    auto r = parse_with("rate_limit_stanzas = 50\nrate_limit_bytes = 1000000\n[limits]\nconnection_rate_per_ip = 5\n");
    ASSERT_TRUE(r.ok()) << r.findings.front().format();
    EXPECT_EQ(r.cfg->partners[0].rate_limit, (fedgate::policy::rate_limit{50, 1000000}));
    EXPECT_EQ(r.cfg->limits.connection_rate_per_ip, 5u);
    EXPECT_NE(check_config_report(*r.cfg, 0).find("rate limit:         50 stanzas, 1000000 bytes a second"),
              std::string::npos)
        << check_config_report(*r.cfg, 0);
    EXPECT_NE(check_config_report(*r.cfg, 0).find("16 from one address, 5 new a second from one address"),
              std::string::npos)
        << check_config_report(*r.cfg, 0);
}

TEST(rate_limit_settings, a_negative_rate_is_refused_at_its_line)
{
    auto r = parse_with("rate_limit_stanzas = -1\n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.findings.front().line, 11u);
    EXPECT_NE(r.findings.front().message.find("rate_limit_stanzas"), std::string::npos) << r.findings.front().message;
}

TEST(rate_limit_settings, a_bytes_limit_below_half_a_stanza_is_a_warning)
{
    auto r = parse_with("rate_limit_bytes = 1000\n");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings.front().format(),
              "t.toml:11: warning: partner \"fabrikam.test\": rate_limit_bytes is below half of [limits] "
              "max_stanza_bytes (262144); one stanza that large holds its streams 262 s; raise rate_limit_bytes or "
              "lower max_stanza_bytes");
}

}  // namespace
