// Real certificates (made by test_pki) through make_x509_peer_certificate into
// an inbound session: what XEP-0178 offers depends on the actual chain and names.
#include "negotiation/x509_peer_certificate.hpp"
#include "session_harness.hpp"
#include "test_pki.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using ::testing::HasSubstr;

TEST(x509_peer_certificate, keeps_its_own_references_and_checks_each_domain)
{
    auto ca = authority::create("partner CA");
    auto key = make_key();
    std::shared_ptr<peer_certificate const> certificate;
    {
        auto leaf = ca.issue({"fabrikam", "DNS:fabrikam.test"}, key.get());
        auto store = ca.trust_store();
        certificate = make_x509_peer_certificate(leaf.get(), nullptr, store.get());
    }  // the TLS stream's objects are gone; the verdicts are still available
    EXPECT_TRUE(certificate->check("fabrikam.test").valid());
    EXPECT_EQ(certificate->check("chat.fabrikam.test").result, certificate_verdict::status::name_mismatch);
    EXPECT_EQ(make_x509_peer_certificate(nullptr, nullptr, ca.trust_store().get()), nullptr);
}

TEST(x509_peer_certificate, an_untrusted_chain_stays_untrusted_for_every_domain_and_every_check)
{
    // The chain's verdict is verified once and reused: the reuse must keep a
    // refusal a refusal, whatever the domain asked.
    auto trusted = authority::create("trusted CA");
    auto stranger = authority::create("unknown CA");
    auto key = make_key();
    auto leaf = stranger.issue({"fabrikam", "DNS:fabrikam.test,DNS:chat.fabrikam.test"}, key.get());
    auto certificate = make_x509_peer_certificate(leaf.get(), nullptr, trusted.trust_store().get());
    for (auto const* domain : {"fabrikam.test", "chat.fabrikam.test", "fabrikam.test"}) {
        auto verdict = certificate->check(domain);
        EXPECT_EQ(verdict.result, certificate_verdict::status::untrusted) << domain;
        EXPECT_THAT(verdict.reason, HasSubstr("not trusted")) << domain;
    }
}

TEST(x509_peer_certificate, decides_whether_an_inbound_stream_offers_external)
{
    auto trusted = authority::create("trusted CA");
    auto stranger = authority::create("unknown CA");
    auto key = make_key();
    auto store = trusted.trust_store();
    for (auto const* issuer : {&trusted, &stranger}) {
        auto leaf = issuer->issue({"fabrikam", "DNS:fabrikam.test"}, key.get());
        inbound_fixture f{{requirement::required, requirement::optional, true}};
        (void)f.open();
        (void)f.receive("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        (void)f.tls(make_x509_peer_certificate(leaf.get(), nullptr, store.get()));
        auto xml = sent_xml(f.open());
        if (issuer == &trusted)
            EXPECT_THAT(xml, HasSubstr("<mechanism>EXTERNAL</mechanism>"));
        else
            EXPECT_THAT(xml, ::testing::Not(HasSubstr("EXTERNAL")));
    }
}

}  // namespace
