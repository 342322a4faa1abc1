// parse() on inline text: no files are read, so these exercise the schema alone.
#include "conf/config.hpp"
#include "conf/report.hpp"
#include "conf/socket_address.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::conf;

// Lines 1-8; what a test appends starts at line 9.
constexpr char const* base = R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"

[internal]
secret_file = "s"
)";

load_result parse_with(std::string const& extra)
{
    return parse(std::string{base} + extra, "t.toml", "/etc/fedgate");
}

std::vector<std::string> messages(load_result const& r)
{
    std::vector<std::string> out;
    for (auto const& d : r.findings)
        out.push_back(d.format());
    return out;
}

TEST(parse, reports_every_error_at_once_not_just_the_first)
{
    auto r = parse_with("[[partner]]\ndomain = \"a..test\"\ntype = \"friend\"\n[log]\nlevel = \"loud\"\n");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(messages(r), (std::vector<std::string>{
                               "t.toml:10: error: 'domain' in [[partner]]: \"a..test\" has an empty label (a leading "
                               "dot or two dots in a row); write a domain name such as \"fabrikam.com\"",
                               "t.toml:11: error: 'type' in [[partner]] is \"friend\", which is not a valid value; use "
                               "\"federated\", \"public_verified\" or \"public_unverified\"",
                               "t.toml:13: error: 'level' in [log] is \"loud\", which is not a valid value; use "
                               "\"trace\", \"debug\", \"info\", \"warn\", \"error\", \"critical\" or \"off\"",
                           }));
}

TEST(parse, domains_are_compared_in_canonical_form)
{
    auto r = parse_with("[[partner]]\ndomain = \"BÜCHER.test.\"\ntype = \"federated\"\n"
                        "[[partner]]\ndomain = \"xn--bcher-kva.test\"\ntype = \"federated\"\n");
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].message, "domain \"bücher.test\" already belongs to the partner at line 10; "
                                     "each domain may belong to one partner only");
}

TEST(parse, relative_paths_start_at_the_configuration_folder)
{
    auto r = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.cfg->local_domains[0].certificate.path, "/etc/fedgate/c.crt");
    EXPECT_EQ(r.cfg->internal.secret_file.path, "/etc/fedgate/s");
}

TEST(parse, unknown_keys_get_a_suggestion_only_when_one_is_close)
{
    auto r = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n"
                        "[gateway]\nworker_thread = 2\nfrobnicate = 1\n");
    auto m = messages(r);
    ASSERT_EQ(m.size(), 2u);
    // Reported in file order, although TOML tables are unordered.
    EXPECT_EQ(m[0], "t.toml:13: error: unknown key 'worker_thread' in [gateway]; did you mean 'worker_threads'?");
    EXPECT_EQ(m[1], "t.toml:14: error: unknown key 'frobnicate' in [gateway]; remove it (fedgate.toml(5) lists "
                    "every setting)");
}

TEST(parse, metrics_off_loopback_is_a_warning)
{
    auto r = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n[metrics]\nlisten = \"0.0.0.0:9269\"\n");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].format(), "t.toml:13: warning: the metrics endpoint 0.0.0.0:9269 is not on loopback: "
                                      "whoever reaches it reads per-partner traffic figures");
}

TEST(parse, the_control_socket_has_a_default_may_be_off_and_must_fit_a_socket_address)
{
    auto const partner = std::string{"[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n"};
    auto r = parse_with(partner);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.cfg->control.socket, "/run/fedgate/control.sock");
    r = parse_with(partner + "[control]\nsocket = \"\"\n");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.cfg->control.socket.empty());
    r = parse_with(partner + "[control]\nsocket = \"run/control.sock\"\n");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.cfg->control.socket, "/etc/fedgate/run/control.sock");
    r = parse_with(partner + "[control]\nsocket = \"/run/" + std::string(120, 'x') + "\"\n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(messages(r).front(), "t.toml:13: error: 'socket' in [control]: \"/run/" + std::string(120, 'x') +
                                       "\" is 125 bytes long; a Unix socket's path holds 107 at most: choose a "
                                       "shorter one");
}

TEST(parse, dns_servers_take_port_53_unless_given)
{
    auto r = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n"
                        "[dns]\nservers = [\"127.0.0.1:5353\", \"::1\", \"[::1]:54\"]\n");
    ASSERT_TRUE(r.ok()) << messages(r).front();
    EXPECT_EQ(r.cfg->dns.servers, (std::vector<socket_address>{{"127.0.0.1", 5353}, {"::1", 53}, {"::1", 54}}));
}

TEST(parse, the_bounds_that_were_fixed_are_limits_with_the_old_values_as_defaults)
{
    auto defaults = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n");
    ASSERT_TRUE(defaults.ok()) << messages(defaults).front();
    auto const& d = defaults.cfg->limits;
    EXPECT_EQ(d.max_header_bytes, 4096U);
    EXPECT_EQ(d.max_header_attributes, 16U);
    EXPECT_EQ(d.write_backlog_bytes, 1024U * 1024U);
    EXPECT_EQ(d.auth_failures, 3U);
    EXPECT_EQ(d.keepalive, std::chrono::seconds{60});
    EXPECT_EQ(d.hold_down, std::chrono::seconds{60});
    EXPECT_EQ(d.internal_ping_every, 100U);
    EXPECT_EQ(d.internal_max_unacknowledged, 1000U);
    EXPECT_EQ(d.partner_ack_request_every, 10U);
    EXPECT_EQ(d.partner_max_unacknowledged, 1000U);
    EXPECT_EQ(d.commit_wait_stanzas, 1000U);
    EXPECT_EQ(d.commit_wait_bytes, 1024U * 1024U);

    auto set = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n[limits]\n"
                          "max_header_bytes = 2048\nmax_header_attributes = 8\nwrite_backlog_bytes = 65536\n"
                          "auth_failures = 1\nkeepalive_seconds = 0\nhold_down_seconds = 5\n"
                          "internal_ping_every = 10\ninternal_max_unacknowledged = 50\n"
                          "partner_ack_request_every = 3\npartner_max_unacknowledged = 30\n"
                          "commit_wait_stanzas = 7\ncommit_wait_bytes = 70000\n");
    ASSERT_TRUE(set.ok()) << messages(set).front();
    auto const& l = set.cfg->limits;
    EXPECT_EQ(l.max_header_bytes, 2048U);
    EXPECT_EQ(l.max_header_attributes, 8U);
    EXPECT_EQ(l.write_backlog_bytes, 65536U);
    EXPECT_EQ(l.auth_failures, 1U);
    EXPECT_EQ(l.keepalive, std::chrono::seconds{0});
    EXPECT_EQ(l.hold_down, std::chrono::seconds{5});
    EXPECT_EQ(l.internal_ping_every, 10U);
    EXPECT_EQ(l.internal_max_unacknowledged, 50U);
    EXPECT_EQ(l.partner_ack_request_every, 3U);
    EXPECT_EQ(l.partner_max_unacknowledged, 30U);
    EXPECT_EQ(l.commit_wait_stanzas, 7U);
    EXPECT_EQ(l.commit_wait_bytes, 70000U);
}

TEST(parse, the_store_is_sqlite_unless_postgresql_is_named_with_its_connection_string)
{
    auto plain = parse_with("");
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain.cfg->store.backend, store_settings::kind::sqlite);
    EXPECT_NE(check_config_report(*plain.cfg, 0).find("relationship store: SQLite, /var/lib/fedgate/relationships.sqlite3"), std::string::npos);

    auto shared = parse_with("[store]\nbackend = \"postgresql\"\nconninfo_file = \"store.conninfo\"\n"
                             "write_deadline_seconds = 5\n");
    ASSERT_TRUE(shared.ok()) << messages(shared).front();
    EXPECT_EQ(shared.cfg->store.backend, store_settings::kind::postgresql);
    EXPECT_EQ(shared.cfg->store.conninfo_file.path, "/etc/fedgate/store.conninfo");
    EXPECT_EQ(shared.cfg->store.write_deadline, std::chrono::seconds{5});
    EXPECT_NE(check_config_report(*shared.cfg, 0).find("relationship store: PostgreSQL, shared by every instance "
                                                        "(connection string in /etc/fedgate/store.conninfo)"),
              std::string::npos);

    // Lines 9 and 10: [store], backend.
    auto missing = parse_with("[store]\nbackend = \"postgresql\"\n");
    // (The first message of each: no [[partner]] is configured.)
    ASSERT_EQ(messages(missing).size(), 2U);
    EXPECT_NE(messages(missing).back().find("t.toml:10: error: backend = \"postgresql\" needs conninfo_file"),
              std::string::npos)
        << messages(missing).front();

    auto both_ways = parse_with("[store]\nbackend = \"postgresql\"\nconninfo = \"dbname=f\"\nconninfo_file = \"f\"\n");
    ASSERT_EQ(messages(both_ways).size(), 2U);
    EXPECT_NE(messages(both_ways).back().find(":11: error: [store] has both conninfo and conninfo_file"),
              std::string::npos)
        << messages(both_ways).back();

    auto inline_password = parse_with("[store]\nbackend = \"postgresql\"\nconninfo = \"dbname=f password=x\"\n");
    ASSERT_TRUE(inline_password.ok());
    ASSERT_EQ(messages(inline_password).size(), 2U);
    EXPECT_NE(messages(inline_password).back().find(":11: warning: the PostgreSQL password is in the configuration"),
              std::string::npos)
        << messages(inline_password).back();

    auto not_for_sqlite = parse_with("[store]\nconninfo = \"dbname=f\"\n");
    ASSERT_EQ(messages(not_for_sqlite).size(), 2U);
    EXPECT_NE(messages(not_for_sqlite).back().find(":10: error: 'conninfo' in [store] is for backend = \"postgresql\""),
              std::string::npos)
        << messages(not_for_sqlite).back();

    auto unknown = parse_with("[store]\nbackend = \"mysql\"\n");
    EXPECT_FALSE(unknown.ok());
}

TEST(parse, accepted_dialback_secrets_need_a_current_one)
{
    auto r = parse_with("[gateway]\ndialback_secret_file = \"current.secret\"\n"
                        "dialback_accepted_secret_files = [\"next.secret\", \"/etc/old.secret\"]\n");
    ASSERT_TRUE(r.ok()) << messages(r).front();
    ASSERT_EQ(r.cfg->gateway.dialback_accepted_secret_files.size(), 2U);
    EXPECT_EQ(r.cfg->gateway.dialback_accepted_secret_files[0].path, "/etc/fedgate/next.secret");
    EXPECT_EQ(r.cfg->gateway.dialback_accepted_secret_files[1].path, "/etc/old.secret");
    EXPECT_EQ(r.cfg->gateway.dialback_accepted_secret_files[1].line, 11U);

    auto alone = parse_with("[gateway]\ndialback_accepted_secret_files = [\"next.secret\"]\n");
    EXPECT_FALSE(alone.ok());
    EXPECT_NE(messages(alone).back().find(":10: error: dialback_accepted_secret_files without dialback_secret_file"),
              std::string::npos)
        << messages(alone).back();
}

TEST(parse, bidi_is_on_unless_a_partner_turns_it_off)
{
    auto r = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n"
                        "[[partner]]\ndomain = \"g.test\"\ntype = \"federated\"\nbidi = false\n");
    ASSERT_TRUE(r.ok()) << messages(r).front();
    EXPECT_TRUE(r.cfg->partners[0].bidi);
    EXPECT_FALSE(r.cfg->partners[1].bidi);
    // check-config names what a partner turned off.
    auto const report = check_config_report(*r.cfg, 0);
    auto const g = report.find("g.test");
    ASSERT_NE(g, std::string::npos) << report;
    EXPECT_EQ(report.find("bidi:               off (a connection each way)"), report.find("bidi:", g)) << report;

    auto quoted = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\nbidi = 1\n");
    EXPECT_FALSE(quoted.ok());
    ASSERT_EQ(messages(quoted).size(), 1U);
    EXPECT_NE(messages(quoted).front().find("'bidi' in [[partner]] must be true or false"), std::string::npos)
        << messages(quoted).front();
}

TEST(parse, stream_management_is_on_unless_a_partner_turns_it_off)
{
    auto r = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n"
                        "[[partner]]\ndomain = \"g.test\"\ntype = \"federated\"\nstream_management = false\n");
    ASSERT_TRUE(r.ok()) << messages(r).front();
    EXPECT_TRUE(r.cfg->partners[0].stream_management);
    EXPECT_FALSE(r.cfg->partners[1].stream_management);

    auto quoted = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\nstream_management = \"no\"\n");
    EXPECT_FALSE(quoted.ok());
    ASSERT_EQ(messages(quoted).size(), 1U);
    EXPECT_NE(messages(quoted).front().find("'stream_management' in [[partner]] must be true or false"),
              std::string::npos)
        << messages(quoted).front();
}

TEST(parse, a_limit_out_of_range_names_the_range)
{
    auto r = parse_with("[[partner]]\ndomain = \"f.test\"\ntype = \"federated\"\n[limits]\n"
                        "auth_failures = 0\n");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(messages(r).size(), 1U);
    EXPECT_EQ(messages(r)[0], "t.toml:13: error: 'auth_failures' in [limits] is 0; it must be between 1 and 100");
}

TEST(socket_address, parses_and_explains)
{
    EXPECT_EQ(std::get<socket_address>(parse_socket_address("[::]:5269")), (socket_address{"::", 5269}));
    EXPECT_EQ(std::get<std::string>(parse_socket_address("localhost:5269")),
              "names \"localhost\", which is not an IP address; write 0.0.0.0 or [::] for all addresses, 127.0.0.1 "
              "or [::1] for this machine only");
    EXPECT_EQ(std::get<std::string>(parse_socket_address("::1:5269")),
              "has an IPv6 address, which must be written in brackets: [IPv6]:port");
    EXPECT_EQ(std::get<std::string>(parse_socket_address("127.0.0.1")), "has no port; write address:port");
    EXPECT_EQ(std::get<std::string>(parse_socket_address("127.0.0.1:0")),
              "has port \"0\"; the port must be between 1 and 65535");
    EXPECT_EQ(to_string(socket_address{"::1", 5269}), "[::1]:5269");
}

}  // namespace
