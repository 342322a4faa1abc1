// The partner state's certificate verdicts and advice (routing/partner_advice.hpp):
// a chain that fails because of the certificate's dates must read "renew", not
// "trust another CA".
#include "routing/partner_advice.hpp"

#include <gtest/gtest.h>

namespace fedgate::routing {
namespace {

using namespace std::chrono_literals;
using status = negotiation::certificate_verdict::status;

operations::wall_time const now = std::chrono::sys_days{std::chrono::December / 5 / 2026};

negotiation::certificate_facts valid_between(operations::wall_time from, operations::wall_time until)
{
    negotiation::certificate_facts facts;
    facts.subject = "CN=b.test";
    facts.not_before = from;
    facts.not_after = until;
    return facts;
}

TEST(CertificateVerdict, AnUntrustedChainOfACertificatePastItsValidityIsExpired)
{
    auto const facts = valid_between(now - 400 * 24h, now - 2 * 24h);
    EXPECT_EQ(certificate_verdict_of(status::untrusted, &facts, now), "expired");
}

TEST(CertificateVerdict, AnUntrustedChainOfACertificateBeforeItsValidityIsNotYetValid)
{
    auto const facts = valid_between(now + 24h, now + 90 * 24h);
    EXPECT_EQ(certificate_verdict_of(status::untrusted, &facts, now), "not_yet_valid");
}

TEST(CertificateVerdict, AnUntrustedChainWithinItsDatesOrWithoutFactsStaysUntrusted)
{
    auto const facts = valid_between(now - 24h, now + 90 * 24h);
    EXPECT_EQ(certificate_verdict_of(status::untrusted, &facts, now), "untrusted");
    EXPECT_EQ(certificate_verdict_of(status::untrusted, nullptr, now), "untrusted");
}

TEST(CertificateVerdict, TheOtherVerdictsAreNotChangedByTheDates)
{
    auto const expired = valid_between(now - 400 * 24h, now - 2 * 24h);
    EXPECT_EQ(certificate_verdict_of(status::valid, &expired, now), "valid");
    EXPECT_EQ(certificate_verdict_of(status::name_mismatch, &expired, now), "name_mismatch");
    EXPECT_EQ(certificate_verdict_of(status::no_certificate, nullptr, now), "no_certificate");
}

TEST(CertificateAdvice, AnExpiredCertificateIsToBeRenewedAndIsDated)
{
    auto const facts = valid_between(now - 400 * 24h, now - 2 * 24h);
    EXPECT_EQ(certificate_advice("b.test", "expired", "certificate has expired", &facts),
              "b.test's certificate expired on 2026-12-03 00:00 UTC (certificate has expired): "
              "the partner must renew it");
}

TEST(CertificateAdvice, ACertificateNotYetValidPointsAtTheClocks)
{
    auto const facts = valid_between(now + 24h, now + 90 * 24h);
    auto const advice = certificate_advice("b.test", "not_yet_valid", "", &facts);
    EXPECT_NE(advice.find("not valid before 2026-12-06 00:00 UTC"), std::string::npos) << advice;
    EXPECT_NE(advice.find("NTP"), std::string::npos) << advice;
}

TEST(CertificateAdvice, AValidCertificateNeedsNoneAndAnUntrustedOneNamesTheTrustStore)
{
    EXPECT_EQ(certificate_advice("b.test", "valid", ""), "");
    EXPECT_NE(certificate_advice("b.test", "untrusted", "unable to get local issuer certificate").find("ca_file"),
              std::string::npos);
}

}  // namespace
}  // namespace fedgate::routing
