// [internal] in its two modes, parsed from inline text (no file is read): what
// each mode requires, what it refuses, and what check-config reports.
#include "conf/config.hpp"
#include "conf/report.hpp"
#include "conf/socket_address.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::conf;
using link_mode = internal_settings::link_mode;

// Lines 1-11; the [internal] section a test gives starts at line 12.
constexpr char const* base = R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[[partner]]
domain = "fabrikam.test"
type = "federated"
[gateway]
s2s_listen = ["192.0.2.1:5269"]
direct_tls_listen = ["192.0.2.1:5270"]
)";

load_result parse_internal(std::string const& section)
{
    return parse(std::string{base} + section, "t.toml", "/etc/fedgate");
}

std::vector<std::string> messages(load_result const& r)
{
    std::vector<std::string> out;
    for (auto const& d : r.findings)
        out.push_back(d.format());
    return out;
}

TEST(internal_section, component_mode_is_the_default_and_keeps_its_port)
{
    auto r = parse_internal("[internal]\nsecret_file = \"s\"\n");
    ASSERT_TRUE(r.ok()) << messages(r).front();
    EXPECT_EQ(r.cfg->internal.mode, link_mode::component);
    EXPECT_EQ(r.cfg->internal.port, 5347);
    EXPECT_NE(check_config_report(*r.cfg, 0).find(
                  "internal server:    127.0.0.1:5347 (mode component: a XEP-0114 component per partner domain)"),
              std::string::npos);
}

TEST(internal_section, s2s_mode_reads_its_listener_its_peers_and_its_negotiation)
{
    auto r = parse_internal("[internal]\nmode = \"s2s\"\nhost = \"10.0.0.5\"\nsecret_file = \"internal.secret\"\n"
                            "listen = [\"10.0.0.2\", \"[fd00::2]:5299\"]\n");
    ASSERT_TRUE(r.ok()) << messages(r).front();
    auto const& in = r.cfg->internal;
    EXPECT_EQ(in.mode, link_mode::s2s);
    EXPECT_EQ(in.mode_line, 13U);
    EXPECT_EQ(in.port, 5269) << "S2S's port, not XEP-0114's, when none is given";
    EXPECT_EQ(in.secret_file.path, "/etc/fedgate/internal.secret");
    EXPECT_EQ(in.listen, (std::vector<socket_address>{{"10.0.0.2", 5269}, {"fd00::2", 5299}}));
    EXPECT_EQ(in.allowed_addresses, (std::vector<address_range>{{"10.0.0.5", 32}}))
        << "the internal server's own address when its host is one";
    EXPECT_EQ(in.negotiation.tls, fedgate::policy::requirement::required);
    EXPECT_EQ(in.negotiation.sasl, fedgate::policy::requirement::optional);
    EXPECT_TRUE(in.negotiation.dialback);
    auto report = check_config_report(*r.cfg, 0);
    EXPECT_NE(report.find("internal server:    10.0.0.5:5269 (mode s2s: it federates with fedgate as with every "
                          "remote domain)\n  internal listen:    10.0.0.2:5269, [fd00::2]:5299, from 10.0.0.5\n"
                          "  internal leg:       tls = required, sasl = optional, dialback = true; methods "),
              std::string::npos)
        << report;
}

TEST(internal_section, s2s_mode_takes_networks_and_a_host_name_with_them)
{
    auto r = parse_internal("[internal]\nmode = \"s2s\"\nhost = \"xmpp.internal.test\"\nport = 5299\n"
                            "secret_file = \"s\"\nlisten = [\"10.0.0.2:5269\"]\n"
                            "allowed_addresses = [\"10.0.0.0/24\", \"fd00::/8\"]\ntls = \"optional\"\n");
    ASSERT_TRUE(r.ok()) << messages(r).front();
    EXPECT_EQ(r.cfg->internal.port, 5299);
    EXPECT_EQ(r.cfg->internal.allowed_addresses,
              (std::vector<address_range>{{"10.0.0.0", 24}, {"fd00::", 8}}));
    EXPECT_EQ(r.cfg->internal.negotiation.tls, fedgate::policy::requirement::optional);
}

TEST(internal_section, s2s_mode_requires_a_listener_of_its_own)
{
    auto r = parse_internal("[internal]\nmode = \"s2s\"\nsecret_file = \"s\"\n");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:12: error: [internal] is missing 'listen', which is required; add listen = "
                               "[\"10.0.0.2:5269\"]: an address of fedgate's own, which the internal server's DNS "
                               "gives for the remote domains"}));
}

TEST(internal_section, the_internal_listener_never_shares_a_public_one)
{
    // The default public listeners are wildcards on 5269 and 5270.
    std::string const text = std::string{base}.replace(std::string{base}.find("[gateway]"), std::string::npos, "") +
                             "[internal]\nmode = \"s2s\"\nsecret_file = \"s\"\nlisten = [\"10.0.0.2:5269\"]\n";
    auto r = parse(text, "t.toml", "/etc/fedgate");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:12: error: 'listen' in [internal]: 10.0.0.2:5269 would share the public "
                               "listener 0.0.0.0:5269 of [gateway] s2s_listen; the internal server's streams need a "
                               "listener of their own: give [gateway] its public addresses instead of a wildcard, or "
                               "[internal] another port",
                               "t.toml:12: error: 'listen' in [internal]: 10.0.0.2:5269 would share the public "
                               "listener [::]:5269 of [gateway] s2s_listen; the internal server's streams need a "
                               "listener of their own: give [gateway] its public addresses instead of a wildcard, or "
                               "[internal] another port"}));
    // The same address as the direct-TLS listener, too.
    r = parse_internal("[internal]\nmode = \"s2s\"\nsecret_file = \"s\"\nlisten = [\"192.0.2.1:5270\"]\n");
    ASSERT_EQ(messages(r).size(), 1U);
    EXPECT_NE(messages(r)[0].find("of [gateway] direct_tls_listen"), std::string::npos) << messages(r)[0];
}

TEST(internal_section, a_host_name_needs_the_addresses_it_connects_from)
{
    auto r = parse_internal("[internal]\nmode = \"s2s\"\nhost = \"xmpp.internal.test\"\nsecret_file = \"s\"\n"
                            "listen = [\"10.0.0.2:5269\"]\n");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:14: error: 'host' in [internal] is the name \"xmpp.internal.test\"; in s2s "
                               "mode, also name the addresses the internal server connects from: allowed_addresses "
                               "= [\"10.0.0.5\"] (a network such as \"10.0.0.0/24\" too)"}));
}

TEST(internal_section, allowed_addresses_are_checked_one_by_one)
{
    auto r = parse_internal("[internal]\nmode = \"s2s\"\nsecret_file = \"s\"\nlisten = [\"10.0.0.2:5269\"]\n"
                            "allowed_addresses = [\"10.0.0.0/33\", \"internal.test\"]\n");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:16: error: 'allowed_addresses' in [internal]: \"10.0.0.0/33\" has prefix "
                               "length \"33\"; an IPv4 prefix is 0 to 32",
                               "t.toml:16: error: 'allowed_addresses' in [internal]: \"internal.test\" names "
                               "\"internal.test\", which is not an IP address; write an address such as 10.0.0.5 "
                               "or a network such as 10.0.0.0/24"}));
    r = parse_internal("[internal]\nmode = \"s2s\"\nsecret_file = \"s\"\nlisten = [\"10.0.0.2:5269\"]\n"
                       "allowed_addresses = []\n");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:16: error: 'allowed_addresses' in [internal] is empty, so no internal server "
                               "could connect; name its addresses"}));
}

TEST(internal_section, the_internal_leg_is_judged_as_a_partner_is)
{
    auto r = parse_internal("[internal]\nmode = \"s2s\"\nsecret_file = \"s\"\nlisten = [\"10.0.0.2:5269\"]\n"
                            "tls = \"not_supported\"\nsasl = \"required\"\n");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:16: error: [internal]: SASL requires TLS, and TLS is not supported: set tls "
                               "to \"required\" or \"optional\", or set sasl to \"not_supported\""}));
}

TEST(internal_section, s2s_settings_in_component_mode_are_refused_where_they_are)
{
    auto r = parse_internal("[internal]\nsecret_file = \"s\"\nlisten = [\"10.0.0.2:5269\"]\ndialback = true\n");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:14: error: 'listen' in [internal] is a setting of mode = \"s2s\"; remove it, "
                               "or set mode = \"s2s\"",
                               "t.toml:15: error: 'dialback' in [internal] is a setting of mode = \"s2s\"; remove "
                               "it, or set mode = \"s2s\""}));
}

TEST(internal_section, a_missing_secret_says_what_it_is_for_in_each_mode)
{
    auto r = parse_internal("[internal]\nmode = \"s2s\"\nlisten = [\"10.0.0.2:5269\"]\n");
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:12: error: [internal] is missing 'secret_file', which is required; add "
                               "secret_file = \"/etc/fedgate/internal-dialback.secret\" (the secret of the dialback "
                               "keys fedgate gives the internal server)"}));
}

TEST(address_range, parses_matches_and_prints)
{
    auto const range = [](char const* text) { return std::get<address_range>(parse_address_range(text)); };
    EXPECT_TRUE(contains(range("10.0.0.5"), "10.0.0.5"));
    EXPECT_FALSE(contains(range("10.0.0.5"), "10.0.0.6"));
    EXPECT_TRUE(contains(range("10.0.0.0/24"), "10.0.0.255"));
    EXPECT_FALSE(contains(range("10.0.0.0/24"), "10.0.1.0"));
    EXPECT_TRUE(contains(range("10.0.0.0/24"), "::ffff:10.0.0.7")) << "an IPv4-mapped peer is its IPv4 address";
    EXPECT_FALSE(contains(range("10.0.0.0/24"), "fd00::1"));
    EXPECT_TRUE(contains(range("fd00::/8"), "fdff::1"));
    EXPECT_FALSE(contains(range("fd00::/8"), "fe80::1"));
    EXPECT_TRUE(contains(range("0.0.0.0/0"), "192.0.2.1"));
    EXPECT_FALSE(contains(range("10.0.0.5"), "not an address"));
    EXPECT_EQ(to_string(range("10.0.0.0/24")), "10.0.0.0/24");
    EXPECT_EQ(to_string(range("fd00::1")), "fd00::1");
    EXPECT_EQ(std::get<std::string>(parse_address_range("fd00::/129")), "has prefix length \"129\"; an IPv6 prefix is "
                                                                          "0 to 128");
    EXPECT_EQ(std::get<std::string>(parse_address_range("10.0.0.0/")), "has prefix length \"\"; an IPv4 prefix is "
                                                                          "0 to 32");
}

}  // namespace
