#include "operations/partner_state.hpp"

#include "dns/error.hpp"
#include "negotiation/session_types.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace fedgate::operations {
namespace {

using namespace std::chrono_literals;
using stage = federation_stage;
using dir = partner_direction;
namespace pf = partner_failure;

wall_time at(int seconds)
{
    return wall_time{} + std::chrono::hours{24 * 365 * 56} + std::chrono::seconds{seconds};
}

partner_state two_partners()
{
    return partner_state{{{"b.example", {"chat.b.example"}}, {"c.example", {}}}};
}

negotiation::certificate_facts certificate(std::string fingerprint, wall_time not_after)
{
    negotiation::certificate_facts c;
    c.fingerprint = std::move(fingerprint);
    c.subject = "CN=b.example";
    c.subject_alt_names = {"DNS:b.example"};
    c.not_before = at(0);
    c.not_after = not_after;
    return c;
}

TEST(partner_state, every_configured_partner_shows_at_start_down_in_both_directions)
{
    auto const rows = two_partners().snapshot();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].partner, "b.example");
    EXPECT_EQ(rows[1].partner, "c.example");
    for (auto const& row : rows)
        for (auto d : every_direction) {
            EXPECT_FALSE(row.of(d).up);
            EXPECT_EQ(row.of(d).direction, d);
            EXPECT_FALSE(row.of(d).last_success);
            EXPECT_FALSE(row.of(d).last_failure);
        }
}

TEST(partner_state, a_successful_outbound_attempt_records_each_stage_and_goes_up)
{
    auto s = two_partners();
    s.attempt_started("b.example", dir::outbound, at(1));
    s.resolved("b.example", {{"_xmpp-server._tcp.b.example: 0 5 xmpp.b.example:5269"}, {"192.0.2.1"}, "xmpp.b.example:5269", false},
               at(1));
    s.connected("b.example", dir::outbound, {"192.0.2.1:5269", false}, at(2));
    s.tls_up("b.example", dir::outbound, {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "", false}, at(3));
    s.certificate_checked("b.example", dir::outbound, {"valid", "DNS-ID", "", "ab"}, "", at(3));
    s.stream_up("b.example", dir::outbound, "sasl-over-tls", at(4));

    auto const row = *s.snapshot("b.example");
    auto const& out = row.outbound;
    EXPECT_TRUE(out.up);
    EXPECT_EQ(out.since, at(4));
    EXPECT_EQ(out.method, "sasl-over-tls");
    ASSERT_TRUE(out.last_success);
    EXPECT_EQ(out.last_success->at, at(4));
    for (auto st : every_stage)
        EXPECT_EQ(out.stage(st).result, stage_record::outcome::succeeded) << label_of(st);
    EXPECT_EQ(out.stage(stage::tls).at, at(3));
    EXPECT_EQ(out.dns->target, "xmpp.b.example:5269");
    EXPECT_EQ(out.tls->version, "TLSv1.3");
    EXPECT_EQ(out.certificate->matched_identity, "DNS-ID");
    EXPECT_EQ(out.authentication->method, "sasl-over-tls");
    EXPECT_FALSE(row.inbound.up);
}

TEST(partner_state, a_failure_keeps_its_stage_reason_advice_and_time_and_counts)
{
    auto s = two_partners();
    s.attempt_started("b.example", dir::outbound, at(1));
    s.resolved("b.example", {}, at(1));
    s.stage_failed("b.example", dir::outbound, stage::tcp, pf::connection_refused,
                   "nothing listens on 192.0.2.1:5269; ask b.example's administrator", at(2));

    auto const out = s.snapshot("b.example")->outbound;
    ASSERT_TRUE(out.last_failure);
    EXPECT_EQ(out.last_failure->stage, stage::tcp);
    EXPECT_EQ(out.last_failure->reason, "connection_refused");
    EXPECT_EQ(out.last_failure->advice, "nothing listens on 192.0.2.1:5269; ask b.example's administrator");
    EXPECT_EQ(out.last_failure->at, at(2));
    EXPECT_EQ(out.stage(stage::dns).result, stage_record::outcome::succeeded);
    EXPECT_EQ(out.stage(stage::tcp).result, stage_record::outcome::failed);
    EXPECT_EQ(out.stage(stage::tls).result, stage_record::outcome::not_reached);
    EXPECT_EQ((out.failures.at({stage::tcp, "connection_refused"})), 1u);
    EXPECT_FALSE(out.up);
}

TEST(partner_state, a_new_attempt_clears_the_stages_but_keeps_last_success_and_failure)
{
    auto s = two_partners();
    s.attempt_started("b.example", dir::outbound, at(1));
    s.stage_failed("b.example", dir::outbound, stage::dns, "nxdomain", "b.example does not exist in DNS", at(1));
    s.attempt_started("b.example", dir::outbound, at(10));
    auto const out = s.snapshot("b.example")->outbound;
    EXPECT_EQ(out.attempt_started, at(10));
    EXPECT_EQ(out.stage(stage::dns).result, stage_record::outcome::not_reached);
    ASSERT_TRUE(out.last_failure);
    EXPECT_EQ(out.last_failure->reason, "nxdomain");
}

TEST(partner_state, a_reason_outside_the_stage_list_is_kept_but_counted_as_other)
{
    auto s = two_partners();
    s.stage_failed("b.example", dir::inbound, stage::tls, "made-up", "advice", at(1));
    auto const in = s.snapshot("b.example")->inbound;
    EXPECT_EQ(in.last_failure->reason, "made-up");
    EXPECT_EQ(in.failures.count({stage::tls, "made-up"}), 0u);
    EXPECT_EQ((in.failures.at({stage::tls, "other"})), 1u);
}

TEST(partner_state, a_certificate_not_valid_is_the_attempts_failure_only_when_the_stream_ends_for_it)
{
    auto s = two_partners();
    s.certificate_checked("b.example", dir::outbound, {"name_mismatch", "", "names evil.example", "ff"},
                          "the certificate of b.example names evil.example", at(5));
    auto out = s.snapshot("b.example")->outbound;
    EXPECT_EQ(out.stage(stage::certificate).result, stage_record::outcome::failed);
    EXPECT_EQ(out.stage(stage::certificate).reason, pf::name_mismatch);
    EXPECT_FALSE(out.last_failure) << "dialback may still authenticate the stream";
    EXPECT_TRUE(out.failures.empty());

    s.stage_failed("b.example", dir::outbound, stage::certificate, pf::name_mismatch,
                   "the certificate of b.example names evil.example", at(6));
    out = s.snapshot("b.example")->outbound;
    EXPECT_EQ(out.last_failure->stage, stage::certificate);
    EXPECT_EQ(out.last_failure->reason, pf::name_mismatch);
    EXPECT_EQ((out.failures.at({stage::certificate, "name_mismatch"})), 1u);
}

TEST(partner_state, inbound_is_up_while_any_authenticated_stream_is)
{
    auto s = two_partners();
    s.stream_up("b.example", dir::inbound, "tls-dialback", at(1));
    s.stream_up("chat.b.example", dir::inbound, "sasl-over-tls", at(2));  // an additional domain counts for b.example
    s.stream_down("b.example", dir::inbound, at(3));
    auto in = s.snapshot("b.example")->inbound;
    EXPECT_TRUE(in.up);
    EXPECT_EQ(in.streams_up, 1u);
    EXPECT_EQ(in.since, at(1));
    EXPECT_EQ(in.method, "sasl-over-tls");
    s.stream_down("b.example", dir::inbound, at(4));
    s.stream_down("b.example", dir::inbound, at(5));  // one too many: ignored
    in = s.snapshot("b.example")->inbound;
    EXPECT_FALSE(in.up);
    EXPECT_EQ(in.streams_up, 0u);
    EXPECT_EQ(in.since, at(4));
    EXPECT_EQ(in.last_success->method, "sasl-over-tls");
}

TEST(partner_state, events_for_unknown_domains_are_ignored)
{
    auto s = two_partners();
    s.stream_up("evil.example", dir::inbound, "tcp-dialback", at(1));
    s.stage_failed("evil.example", dir::outbound, stage::dns, "nxdomain", "", at(1));
    EXPECT_EQ(s.certificate_seen("evil.example", dir::inbound, certificate("aa", at(100)), at(1)),
              certificate_news::known);
    EXPECT_EQ(s.snapshot().size(), 2u);
    EXPECT_FALSE(s.snapshot("evil.example"));
}

TEST(partner_state, a_reload_keeps_known_partners_adds_new_ones_at_zero_and_drops_removed_ones)
{
    auto s = two_partners();
    s.stream_up("b.example", dir::outbound, "sasl-over-tls", at(1));
    s.stream_up("c.example", dir::outbound, "sasl-over-tls", at(1));
    s.set_partners({{"b.example", {}}, {"d.example", {"chat.d.example"}}});
    auto const rows = s.snapshot();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].partner, "b.example");
    EXPECT_TRUE(rows[0].outbound.up);
    EXPECT_EQ(rows[1].partner, "d.example");
    EXPECT_FALSE(rows[1].outbound.up);
    EXPECT_EQ(rows[1].inbound.direction, dir::inbound);
    EXPECT_FALSE(s.snapshot("c.example"));
    EXPECT_FALSE(s.partner_of("chat.b.example"));  // no longer one of b.example's domains
    ASSERT_TRUE(s.partner_of("chat.d.example"));
    EXPECT_EQ(*s.partner_of("chat.d.example"), "d.example");
}

TEST(partner_state, certificate_changes_are_detected_and_the_inventory_keeps_first_and_last_seen)
{
    auto s = two_partners();
    EXPECT_EQ(s.certificate_seen("b.example", dir::inbound, certificate("aa", at(1000)), at(1)),
              certificate_news::first);
    EXPECT_EQ(s.certificate_seen("b.example", dir::outbound, certificate("aa", at(1000)), at(2)),
              certificate_news::known);
    EXPECT_EQ(s.certificate_seen("b.example", dir::outbound, certificate("bb", at(2000)), at(3)),
              certificate_news::changed);
    EXPECT_EQ(s.certificate_seen("b.example", dir::inbound, certificate("aa", at(1000)), at(4)),
              certificate_news::changed);  // back to the older one: a change too

    auto const certs = s.snapshot("b.example")->certificates;
    ASSERT_EQ(certs.size(), 2u);
    EXPECT_EQ(certs[0].facts.fingerprint, "aa");
    EXPECT_EQ(certs[0].first_seen, at(1));
    EXPECT_EQ(certs[0].last_seen, at(4));
    EXPECT_EQ(certs[0].last_direction, dir::inbound);
    EXPECT_EQ(certs[1].facts.fingerprint, "bb");
    EXPECT_EQ(certs[1].last_direction, dir::outbound);
}

TEST(partner_state, the_inventory_is_bounded_per_partner)
{
    auto s = two_partners();
    for (int i = 0; i < 10; ++i)
        (void)s.certificate_seen("b.example", dir::inbound, certificate(std::to_string(i), at(1000)), at(i));
    auto const certs = s.snapshot("b.example")->certificates;
    ASSERT_EQ(certs.size(), partner_state::certificates_kept);
    EXPECT_EQ(certs.front().facts.fingerprint, "9");
}

TEST(partner_state, expiry_warnings_follow_the_threshold_of_the_newest_certificate)
{
    auto s = two_partners();
    auto const days = [](int n) { return std::chrono::seconds{std::chrono::days{n}}; };
    (void)s.certificate_seen("b.example", dir::inbound, certificate("aa", at(0) + days(20)), at(0));
    EXPECT_TRUE(s.expiring(at(0), days(14)).empty());
    EXPECT_EQ(s.expiring(at(0) + days(6), days(14)).size(), 1u);  // exactly 14 days left
    EXPECT_TRUE(s.expiring(at(0) + days(6) - 1s, days(14)).empty());
    EXPECT_EQ(s.expiring(at(0) + days(30), days(14)).size(), 1u);  // expired: still warned of

    (void)s.certificate_seen("b.example", dir::inbound, certificate("bb", at(0) + days(400)), at(1));
    EXPECT_TRUE(s.expiring(at(0) + days(30), days(14)).empty()) << "the renewed one counts";
}

TEST(partner_state, expires_within_counts_the_boundary_and_the_past)
{
    EXPECT_TRUE(expires_within(at(100), at(90), 10s));
    EXPECT_FALSE(expires_within(at(101), at(90), 10s));
    EXPECT_TRUE(expires_within(at(50), at(90), 0s));
}

TEST(partner_state, dns_reasons_are_dns_code_of_and_close_reasons_are_their_metric_names)
{
    auto const dns = reasons_of(stage::dns);
    for (int e = static_cast<int>(dns::error::nxdomain); e <= static_cast<int>(dns::last_error_kind); ++e) {
        auto const code = dns::code_of(dns::make_error_code(static_cast<dns::error>(e)));
        EXPECT_NE(std::find(dns.begin(), dns.end(), code), dns.end()) << code;
    }
    namespace ng = negotiation;
    EXPECT_EQ(pf::tls_not_offered, ng::metric_name(ng::close_reason::tls_not_offered));
    EXPECT_EQ(pf::tls_refused, ng::metric_name(ng::close_reason::tls_refused));
    EXPECT_EQ(pf::certificate_invalid, ng::metric_name(ng::close_reason::certificate_invalid));
    EXPECT_EQ(pf::sasl_failed, ng::metric_name(ng::close_reason::sasl_failed));
    EXPECT_EQ(pf::dialback_invalid, ng::metric_name(ng::close_reason::dialback_invalid));
    EXPECT_EQ(pf::dialback_error, ng::metric_name(ng::close_reason::dialback_error));
    EXPECT_EQ(pf::no_common_method, ng::metric_name(ng::close_reason::no_common_method));
    EXPECT_EQ(pf::timeout, ng::metric_name(ng::close_reason::timeout));
    EXPECT_EQ(pf::peer_closed, ng::metric_name(ng::close_reason::peer_closed));
}

TEST(partner_state, every_stage_lists_other_and_no_code_twice)
{
    for (auto st : every_stage) {
        auto const codes = reasons_of(st);
        EXPECT_NE(std::find(codes.begin(), codes.end(), pf::other), codes.end()) << label_of(st);
        std::vector<std::string_view> sorted{codes.begin(), codes.end()};
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << label_of(st);
    }
}

}  // namespace
}  // namespace fedgate::operations
