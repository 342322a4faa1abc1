// The explainer on scripted peers: each failure a probe must explain, with the
// stage it names, its reason code and the advice that points at the fix.
#include "probe/explain.hpp"
#include "scripted_peers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fedgate::probe {
namespace {

using namespace testing;
using policy::auth_method;
using policy::requirement;
using ::testing::HasSubstr;

TEST(probe_explain, healthy_partner_negotiates_sasl_external)
{
    auto r = explain(healthy_peer());
    EXPECT_TRUE(r.negotiable());
    EXPECT_EQ(r.method, auth_method::sasl_over_tls);
    for (auto const& s : r.steps)
        EXPECT_EQ(s.result, outcome::ok) << name_of(s.stage) << ": " << s.summary;
    EXPECT_EQ(step_of(r, stage::authentication).reason, "sasl-over-tls");
    EXPECT_EQ(step_of(r, stage::certificate).reason, "certificate-valid");
    // SASL succeeded: the partner's view of our certificate was shown, so it is
    // not among the things left unchecked; the dialback callback is.
    ASSERT_EQ(r.not_checked.size(), 2u);
    EXPECT_THAT(r.not_checked[0], HasSubstr("call back a.test"));
    EXPECT_TRUE(r.alternatives.empty());
}

TEST(probe_explain, certificate_naming_another_domain_blocks_sasl_when_dialback_is_off)
{
    auto o = healthy_peer();
    o.partner->settings = {requirement::required, requirement::required, false};
    auto& n = *o.negotiation;
    n.certificate->dns_ids = {"c.test"};
    n.certificate->matched.reset();
    n.sasl.reset();
    n.method.reset();
    n.close_reason = "certificate-invalid";
    n.close_detail = "the certificate of b.test is not valid: it names c.test";
    auto r = explain(o);
    EXPECT_FALSE(r.negotiable());
    auto const& cert = step_of(r, stage::certificate);
    EXPECT_EQ(cert.result, outcome::failed);
    EXPECT_EQ(cert.reason, "certificate-name-mismatch");
    EXPECT_THAT(cert.summary, HasSubstr("c.test"));
    EXPECT_THAT(cert.advice, HasSubstr("naming b.test"));
    auto const& auth = step_of(r, stage::authentication);
    EXPECT_EQ(auth.reason, "certificate-invalid");
    EXPECT_THAT(auth.advice, HasSubstr("b.test fixes its certificate"));
    // The nearest policy that works: dialback over TLS.
    EXPECT_THAT(auth.advice, HasSubstr("dialback = true"));
    EXPECT_THAT(auth.advice, HasSubstr("TLS dialback"));
}

TEST(probe_explain, certificate_naming_another_domain_is_a_warning_when_dialback_carries_the_stream)
{
    auto o = healthy_peer();
    auto& n = *o.negotiation;
    n.certificate->matched.reset();
    n.sasl.reset();
    n.dialback_sent = true;
    n.dialback = "valid";
    n.method = auth_method::tls_dialback;
    auto r = explain(o);
    EXPECT_TRUE(r.negotiable());
    EXPECT_EQ(step_of(r, stage::certificate).result, outcome::warning);
    auto const& auth = step_of(r, stage::authentication);
    EXPECT_EQ(auth.reason, "tls-dialback");
    EXPECT_EQ(auth.result, outcome::note);
    EXPECT_THAT(auth.advice, HasSubstr("SASL over TLS is allowed but not possible"));
}

TEST(probe_explain, no_tls_offered_while_the_policy_requires_it)
{
    auto o = healthy_peer();
    auto& n = *o.negotiation;
    n.before_tls = features_seen{.starttls = false, .starttls_required = false, .mechanisms = {}, .dialback = true,
                                 .stream_management = false, .bidi = false};
    n.after_tls.reset();
    n.tls_attempted = n.tls_established = false;
    n.certificate.reset();
    n.sasl.reset();
    n.method.reset();
    n.close_reason = "tls-not-offered";
    n.close_detail = "b.test does not offer STARTTLS, which its policy requires";
    auto r = explain(o);
    EXPECT_FALSE(r.negotiable());
    auto const& tls = step_of(r, stage::tls);
    EXPECT_EQ(tls.result, outcome::failed);
    EXPECT_EQ(tls.reason, "tls-not-offered");
    EXPECT_THAT(tls.advice, HasSubstr("tls = \"optional\""));
    EXPECT_TRUE(steps_of(r, stage::certificate).empty());
    auto const& auth = step_of(r, stage::authentication);
    EXPECT_EQ(auth.reason, "tls-not-offered");
    EXPECT_THAT(auth.advice, HasSubstr("b.test enables TLS"));
    EXPECT_THAT(auth.advice, HasSubstr("with tls = \"optional\" for partner b.test, fedgate would negotiate TCP dialback"));
}

TEST(probe_explain, srv_record_pointing_at_a_closed_port)
{
    auto o = healthy_peer();
    o.addresses.front().connected = false;
    o.addresses.front().error = "192.0.2.7 port 5269: Connection refused";
    o.negotiation.reset();
    auto r = explain(o);
    EXPECT_FALSE(r.negotiable());
    auto const& tcp = step_of(r, stage::tcp);
    EXPECT_EQ(tcp.result, outcome::failed);
    EXPECT_EQ(tcp.reason, "connection-refused");
    EXPECT_THAT(tcp.advice, HasSubstr("closed port"));
    EXPECT_EQ(step_of(r, stage::authentication).reason, "unreachable");
    EXPECT_TRUE(steps_of(r, stage::tls).empty());
}

TEST(probe_explain, a_refused_address_is_a_warning_when_another_connects)
{
    auto o = healthy_peer();
    auto refused = o.addresses.front();
    refused.ip = "2001:db8::7";
    refused.ipv6 = true;
    refused.connected = false;
    refused.error = "Connection refused";
    o.addresses.insert(o.addresses.begin(), refused);
    auto r = explain(o);
    EXPECT_TRUE(r.negotiable());
    auto tcp = steps_of(r, stage::tcp);
    ASSERT_EQ(tcp.size(), 2u);
    EXPECT_EQ(tcp[0]->result, outcome::warning);
    EXPECT_THAT(tcp[0]->advice, HasSubstr("another address"));
    EXPECT_EQ(tcp[1]->result, outcome::ok);
}

TEST(probe_explain, expired_certificate)
{
    auto o = healthy_peer();
    o.partner->settings = {requirement::required, requirement::required, false};
    auto& n = *o.negotiation;
    n.certificate->expired = true;
    n.certificate->not_after = "2025-01-01T00:00:00Z";
    n.certificate->untrusted = "certificate chain not trusted: certificate has expired";
    n.sasl.reset();
    n.method.reset();
    n.close_reason = "certificate-invalid";
    auto r = explain(o);
    auto const& cert = step_of(r, stage::certificate);
    EXPECT_EQ(cert.reason, "certificate-expired");
    EXPECT_THAT(cert.summary, HasSubstr("2025-01-01"));
    EXPECT_THAT(cert.advice, HasSubstr("renew"));
}

TEST(probe_explain, untrusted_chain_points_at_the_trust_store)
{
    auto o = healthy_peer();
    o.negotiation->certificate->untrusted = "certificate chain not trusted: unable to get local issuer certificate";
    auto r = explain(o);
    auto const& cert = step_of(r, stage::certificate);
    EXPECT_EQ(cert.reason, "certificate-untrusted");
    EXPECT_THAT(cert.advice, HasSubstr("ca_file"));
}

TEST(probe_explain, eku_without_server_auth)
{
    auto o = healthy_peer();
    o.negotiation->certificate->extended_key_usage = {"clientAuth"};
    o.negotiation->certificate->untrusted = "certificate chain not trusted: unsupported certificate purpose";
    EXPECT_EQ(step_of(explain(o), stage::certificate).reason, "certificate-purpose");
}

TEST(probe_explain, xmpps_record_on_the_starttls_port)
{
    auto o = healthy_peer();
    o.direct_tls_srv = {"_xmpps-server._tcp.b.test", {{"xmpp.b.test", 5269, 0, 5}}, ""};
    o.addresses.front().direct_tls = true;
    auto& n = *o.negotiation;
    n = negotiation_seen{};
    n.address = "192.0.2.7 port 5269";
    n.direct_tls = true;
    n.tls_attempted = true;
    n.close_reason = "transport-closed";
    n.close_detail = "TLS handshake failed: wrong version number";
    auto r = explain(o);
    auto const& dns = step_of(r, stage::dns);
    EXPECT_EQ(dns.result, outcome::warning);
    EXPECT_EQ(dns.reason, "srv-xmpps-on-starttls-port");
    EXPECT_THAT(dns.advice, HasSubstr("TLS starts at once"));
    auto const& tls = step_of(r, stage::tls);
    EXPECT_EQ(tls.reason, "direct-tls-handshake-failed");
    EXPECT_THAT(tls.summary, HasSubstr("wrong version number"));
    EXPECT_FALSE(r.negotiable());
}

TEST(probe_explain, dot_target_says_the_domain_does_not_federate)
{
    auto o = healthy_peer();
    o.starttls_srv = {"_xmpp-server._tcp.b.test", {{".", 0, 0, 0}}, ""};
    o.resolve_error = "service_unavailable";
    o.addresses.clear();
    o.negotiation.reset();
    auto r = explain(o);
    auto const& dns = step_of(r, stage::dns);
    EXPECT_EQ(dns.result, outcome::failed);
    EXPECT_EQ(dns.reason, "srv-target-dot");
    EXPECT_THAT(dns.summary, HasSubstr("decidedly"));
}

TEST(probe_explain, no_srv_falls_back_to_the_domain_on_5269)
{
    auto o = healthy_peer();
    o.starttls_srv = {"_xmpp-server._tcp.b.test", {}, "nxdomain"};
    o.used_fallback = true;
    o.addresses.front().host = "b.test";
    auto r = explain(o);
    auto const& dns = step_of(r, stage::dns);
    EXPECT_EQ(dns.result, outcome::note);
    EXPECT_EQ(dns.reason, "no-srv");
    EXPECT_THAT(dns.summary, HasSubstr("port 5269"));
    EXPECT_TRUE(r.negotiable());
}

TEST(probe_explain, srv_target_without_address)
{
    auto o = healthy_peer();
    o.starttls_srv.records.push_back({"gone.b.test", 5269, 10, 0});
    auto r = explain(o);
    auto dns = steps_of(r, stage::dns);
    ASSERT_EQ(dns.size(), 2u);
    EXPECT_EQ(dns[1]->reason, "srv-target-without-address");
    EXPECT_THAT(dns[1]->summary, HasSubstr("gone.b.test"));
}

TEST(probe_explain, no_external_offered_says_what_one_side_cannot_tell)
{
    auto o = healthy_peer();
    auto& n = *o.negotiation;
    n.after_tls->mechanisms.clear();
    n.sasl.reset();
    n.dialback_sent = true;
    n.dialback = "valid";
    n.method = auth_method::tls_dialback;
    auto r = explain(o);
    auto const& features = step_of(r, stage::features);
    EXPECT_EQ(features.reason, "no-external");
    EXPECT_THAT(features.advice, HasSubstr("our certificate valid for a.test"));
    // Dialback worked: the callback was shown; our certificate's judgement was not.
    ASSERT_EQ(r.not_checked.size(), 2u);
    EXPECT_THAT(r.not_checked[0], HasSubstr("judges our certificate"));
}

TEST(probe_explain, dialback_timeout_points_at_our_authoritative_server)
{
    auto o = healthy_peer();
    o.partner->settings = {requirement::required, requirement::not_supported, true};
    auto& n = *o.negotiation;
    n.sasl.reset();
    n.method.reset();
    n.dialback_sent = true;
    n.close_reason = "timeout";
    n.close_detail = "negotiation with b.test did not complete in time";
    auto r = explain(o);
    auto const& auth = step_of(r, stage::authentication);
    EXPECT_EQ(auth.reason, "timeout");
    EXPECT_THAT(auth.advice, HasSubstr("can call back a.test's authoritative server"));
}

TEST(probe_explain, a_domain_that_is_no_partner_gets_every_policy_and_type)
{
    auto o = healthy_peer();
    o.partner.reset();
    auto r = explain(o);
    EXPECT_FALSE(r.partner);
    EXPECT_FALSE(r.negotiable());
    auto const& auth = step_of(r, stage::authentication);
    EXPECT_EQ(auth.reason, "not-a-partner");
    EXPECT_THAT(auth.advice, HasSubstr("[[partner]]"));
    ASSERT_EQ(r.alternatives.size(), 11u);
    EXPECT_EQ(r.alternatives.front().method, auth_method::sasl_over_tls);  // tls, sasl required; dialback on
    EXPECT_EQ(r.partner_types.size(), 3u);
}

}  // namespace
}  // namespace fedgate::probe
