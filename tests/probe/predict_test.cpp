// What a policy would negotiate with a peer, replayed from the probe's facts
// with outbound_session's order of decisions.
#include "probe/predict.hpp"

#include <gtest/gtest.h>

namespace fedgate::probe {
namespace {

using policy::auth_method;
using policy::requirement;

peer_capabilities healthy()
{
    return {.reachable = true, .direct_tls = false, .offers_starttls = true, .requires_tls = false,
            .tls_observed = true, .tls_works = true, .certificate_valid = true, .offers_external = true,
            .dialback_accepted = std::nullopt, .external_accepted = true};
}

TEST(probe_predict, eleven_combinations_are_valid)
{
    EXPECT_EQ(valid_settings().size(), 11u);
}

TEST(probe_predict, sasl_over_tls_when_allowed_and_possible)
{
    auto p = predict({requirement::required, requirement::optional, true}, healthy());
    EXPECT_EQ(p.method, auth_method::sasl_over_tls);
}

TEST(probe_predict, dialback_over_tls_when_sasl_is_not_supported)
{
    auto p = predict({requirement::required, requirement::not_supported, true}, healthy());
    EXPECT_EQ(p.method, auth_method::tls_dialback);
}

TEST(probe_predict, refused_combination_negotiates_nothing)
{
    auto p = predict({requirement::not_supported, requirement::required, true}, healthy());
    EXPECT_FALSE(p.method);
    EXPECT_EQ(p.reason, "policy-refused");
}

TEST(probe_predict, no_starttls_with_tls_required)
{
    auto peer = healthy();
    peer.offers_starttls = false;
    auto p = predict({requirement::required, requirement::optional, true}, peer);
    EXPECT_EQ(p.reason, "tls-not-offered");
    EXPECT_EQ(predict({requirement::optional, requirement::optional, true}, peer).method, auth_method::tcp_dialback);
}

TEST(probe_predict, peer_requiring_tls_and_policy_not_supporting_it)
{
    auto peer = healthy();
    peer.requires_tls = true;
    EXPECT_EQ(predict({requirement::not_supported, requirement::not_supported, true}, peer).reason, "tls-refused");
}

TEST(probe_predict, invalid_certificate_without_dialback)
{
    auto peer = healthy();
    peer.certificate_valid = false;
    auto p = predict({requirement::required, requirement::required, false}, peer);
    EXPECT_EQ(p.reason, "certificate-invalid");
    EXPECT_EQ(predict({requirement::required, requirement::optional, true}, peer).method, auth_method::tls_dialback);
}

TEST(probe_predict, refused_external_falls_back_to_dialback_or_fails)
{
    auto peer = healthy();
    peer.external_accepted = false;
    EXPECT_EQ(predict({requirement::required, requirement::optional, true}, peer).method, auth_method::tls_dialback);
    EXPECT_EQ(predict({requirement::required, requirement::required, false}, peer).reason, "sasl-failed");
}

TEST(probe_predict, what_tls_would_give_is_unknown_when_it_was_not_tried)
{
    auto peer = healthy();
    peer.tls_observed = false;
    peer.tls_works = false;
    EXPECT_EQ(predict({requirement::required, requirement::optional, true}, peer).reason, "not-observed");
    EXPECT_EQ(predict({requirement::not_supported, requirement::not_supported, true}, peer).method,
              auth_method::tcp_dialback);
}

TEST(probe_predict, capabilities_from_a_negotiation)
{
    negotiation_seen n;
    n.header_received = true;
    n.before_tls = features_seen{.starttls = true, .starttls_required = true, .mechanisms = {}, .dialback = false,
                                 .stream_management = false, .bidi = false};
    n.after_tls = features_seen{.starttls = false, .starttls_required = false, .mechanisms = {"EXTERNAL"},
                                .dialback = false, .stream_management = false, .bidi = false};
    n.tls_attempted = n.tls_established = true;
    n.certificate = certificate_seen{};
    n.certificate->matched = "DNS-ID";
    n.dialback = "invalid";
    auto peer = capabilities_of(n);
    EXPECT_TRUE(peer.reachable);
    EXPECT_TRUE(peer.requires_tls);
    EXPECT_TRUE(peer.certificate_valid);
    EXPECT_TRUE(peer.offers_external);
    EXPECT_EQ(peer.dialback_accepted, false);
    EXPECT_FALSE(capabilities_of(std::nullopt).reachable);
}

}  // namespace
}  // namespace fedgate::probe
