// The status document and the table `fedgate status` draws from it.
#include "operations/status_report.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::operations;
using namespace std::chrono_literals;
namespace json = boost::json;

wall_time const t0 = wall_time{} + 1'780'000'000s;  // 2026-05-28

fedgate::conf::config two_partners()
{
    auto loaded = fedgate::conf::parse(R"(
[[local_domain]]
name = "contoso.test"
certificate = "c.crt"
key = "c.key"
[internal]
secret_file = "component.secret"
[[partner]]
domain = "fabrikam.test"
additional_domains = ["chat.fabrikam.test"]
type = "federated"
tls = "required"
sasl = "required"
dialback = false
[[partner]]
domain = "litware.test"
type = "public_verified"
)",
                                       "fedgate.toml", "/etc/fedgate");
    EXPECT_TRUE(loaded.ok());
    return std::move(*loaded.cfg);
}

daemon_facts const daemon{.version = "1.2.3", .pid = 42, .started = t0, .config_file = "/etc/fedgate/fedgate.toml"};

json::object const& partner(json::object const& document, std::string_view domain)
{
    for (auto const& p : document.at("partners").as_array())
        if (p.at("domain").as_string() == domain)
            return p.as_object();
    throw std::out_of_range{std::string{domain}};
}

TEST(status_report, a_direction_is_up_failing_or_idle)
{
    direction_state d;
    EXPECT_EQ(health_of(d), "idle");
    d.last_failure = failure_record{.at = t0, .stage = federation_stage::tcp, .reason = "connection_refused", .advice = {}};
    EXPECT_EQ(health_of(d), "failing");
    d.last_success = success_record{.at = t0 + 1s, .method = "sasl-over-tls"};
    EXPECT_EQ(health_of(d), "idle") << "succeeded since, and closed";
    d.up = true;
    EXPECT_EQ(health_of(d), "up");
    d.up = false;
    d.last_failure->at = t0 + 2s;
    EXPECT_EQ(health_of(d), "failing") << "failed again after the success";
}

TEST(status_report, every_configured_partner_has_an_entry_even_before_any_event)
{
    auto const cfg = two_partners();
    auto const document = status_document(daemon, cfg, {}, {}, t0 + 60s);
    EXPECT_EQ(document.at("version").to_number<int>(), status_version);
    EXPECT_EQ(document.at("time").as_string(), utc_text(t0 + 60s));
    EXPECT_EQ(document.at("daemon").at("pid").to_number<int>(), 42);
    EXPECT_TRUE(document.at("healthy").as_bool());
    auto const& f = partner(document, "fabrikam.test");
    EXPECT_EQ(f.at("type").as_string(), "federated");
    EXPECT_EQ(f.at("additional_domains").as_array().size(), 1u);
    EXPECT_EQ(f.at("policy").at("tls").as_string(), "required");
    EXPECT_FALSE(f.at("policy").at("dialback").as_bool());
    EXPECT_EQ(f.at("health").as_string(), "idle");
    EXPECT_TRUE(f.at("outbound").at("last_failure").is_null());
    EXPECT_EQ(f.at("outbound").at("last_attempt").at("stages").at("dns").at("result").as_string(), "not_reached");
    EXPECT_TRUE(f.at("certificate_expires").is_null());
    EXPECT_EQ(partner(document, "litware.test").at("type").as_string(), "public_verified");
}

partner_state_row failing_outbound()
{
    partner_state_row row;
    row.partner = "fabrikam.test";
    row.inbound.up = true;
    row.inbound.streams_up = 1;
    row.inbound.method = "tls-dialback";
    row.outbound.last_failure = failure_record{
        .at = t0, .stage = federation_stage::certificate, .reason = "name_mismatch",
        .advice = "the certificate names other.test, not fabrikam.test: ask fabrikam.test for one that names it"};
    row.outbound.stages[static_cast<std::size_t>(federation_stage::dns)] = {stage_record::outcome::succeeded, t0, {}, {}};
    row.outbound.stages[static_cast<std::size_t>(federation_stage::certificate)] = {
        stage_record::outcome::failed, t0, "name_mismatch", "ask for one that names it"};
    row.outbound.dns = dns_facts{.srv_answers = {"_xmpp-server._tcp.fabrikam.test: 0 0 xmpp.fabrikam.test:5269"},
                                 .addresses = {"192.0.2.7"},
                                 .target = "xmpp.fabrikam.test:5269"};
    fedgate::negotiation::certificate_facts facts{.fingerprint = "ab12",
                                                  .subject = "CN=other.test",
                                                  .issuer = "CN=Test CA",
                                                  .serial = "01",
                                                  .subject_alt_names = {"DNS:other.test"},
                                                  .extended_key_usage = {"serverAuth"},
                                                  .not_before = t0 - 24h,
                                                  .not_after = t0 + 240h};
    row.certificates.push_back({facts, t0, t0, partner_direction::outbound});
    return row;
}

TEST(status_report, a_failure_shows_its_stage_reason_advice_and_the_partners_certificate)
{
    auto const cfg = two_partners();
    auto const document = status_document(daemon, cfg, {failing_outbound()}, {{"fabrikam.test", {3, 1}}}, t0);
    EXPECT_FALSE(document.at("healthy").as_bool());
    EXPECT_TRUE(any_partner_failing(document));
    auto const& f = partner(document, "fabrikam.test");
    EXPECT_EQ(f.at("health").as_string(), "failing") << "one direction up does not hide the other's failure";
    EXPECT_EQ(f.at("inbound").at("health").as_string(), "up");
    auto const& failure = f.at("outbound").at("last_failure");
    EXPECT_EQ(failure.at("stage").as_string(), "certificate");
    EXPECT_EQ(failure.at("reason").as_string(), "name_mismatch");
    auto const& attempt = f.at("outbound").at("last_attempt");
    EXPECT_EQ(attempt.at("stages").at("certificate").at("result").as_string(), "failed");
    EXPECT_EQ(attempt.at("dns").at("target").as_string(), "xmpp.fabrikam.test:5269");
    EXPECT_EQ(f.at("queued_stanzas").at("outbound").to_number<int>(), 3);
    EXPECT_EQ(f.at("queued_stanzas").at("internal").to_number<int>(), 1);
    EXPECT_EQ(f.at("certificate_expires").as_string(), utc_text(t0 + 240h));
    EXPECT_EQ(f.at("certificates").at(0).at("subject_alt_names").at(0).as_string(), "DNS:other.test");
    EXPECT_EQ(partner(document, "litware.test").at("health").as_string(), "idle");
}

TEST(status_report, the_table_has_a_row_per_partner_and_the_advice_under_it)
{
    auto const cfg = two_partners();
    // What the command draws is what it read back from the socket.
    auto const sent = json::serialize(status_document(daemon, cfg, {failing_outbound()}, {{"fabrikam.test", {3, 1}}}, t0));
    auto const text = status_text(json::parse(sent).as_object());
    EXPECT_NE(text.find("fedgate 1.2.3 (pid 42), running since " + utc_text(t0) + "; relationship store up\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("PARTNER        TYPE             TLS/SASL/DIALBACK      INBOUND          OUTBOUND              QUEUED  "
                        "CERTIFICATE EXPIRES\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("fabrikam.test  federated        required/required/no   up tls-dialback  failing: certificate  3+1     2026-06-07\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("  fabrikam.test outbound: failed at certificate (name_mismatch) " + utc_text(t0) +
                        ": the certificate names other.test"),
              std::string::npos)
        << text;
}

TEST(status_report, a_document_without_partners_or_fields_still_draws)
{
    auto const text = status_text(json::object{{"version", 1}});
    EXPECT_NE(text.find("(no partner is configured)"), std::string::npos) << text;
    EXPECT_FALSE(any_partner_failing(json::object{}));
}

TEST(status_report, times_are_utc_and_the_epoch_is_never)
{
    EXPECT_EQ(utc_text(wall_time{}), "");
    EXPECT_EQ(utc_text(wall_time{} + 86400s + 3661s), "1970-01-02T01:01:01Z");
}

}  // namespace
