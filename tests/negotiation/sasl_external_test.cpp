// SASL EXTERNAL through the real Cyrus SASL library (XEP-0178 §3 and §4).
#include "negotiation/base64.hpp"
#include "negotiation/sasl_external.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::negotiation;

TEST(sasl_external, empty_authzid_authorizes_the_verified_domain)
{
    auto server = make_cyrus_sasl_server();
    auto r = server->authenticate_external("", "fabrikam.example");
    ASSERT_TRUE(r.ok()) << r.text;
    EXPECT_EQ(r.authorized_identity, "fabrikam.example");
}

TEST(sasl_external, authzid_equal_to_the_verified_domain_is_accepted)
{
    auto r = make_cyrus_sasl_server()->authenticate_external("fabrikam.example", "fabrikam.example");
    ASSERT_TRUE(r.ok()) << r.text;
    EXPECT_EQ(r.authorized_identity, "fabrikam.example");
}

TEST(sasl_external, another_authzid_is_invalid_authzid)
{
    auto server = make_cyrus_sasl_server();
    auto r = server->authenticate_external("contoso.example", "fabrikam.example");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.failure, sasl_condition::invalid_authzid);
    EXPECT_EQ(wire_name(*r.failure), "invalid-authzid");
    // A user of the verified domain is not the domain either.
    EXPECT_EQ(server->authenticate_external("admin@fabrikam.example", "fabrikam.example").failure,
              sasl_condition::invalid_authzid);
}

TEST(sasl_external, no_verified_certificate_is_not_authorized)
{
    EXPECT_EQ(make_cyrus_sasl_server()->authenticate_external("", "").failure, sasl_condition::not_authorized);
}

TEST(sasl_external, each_exchange_is_independent)
{
    // A failed exchange leaves nothing behind that a retry could ride on.
    auto server = make_cyrus_sasl_server();
    EXPECT_FALSE(server->authenticate_external("contoso.example", "fabrikam.example").ok());
    auto r = server->authenticate_external("", "northwind.example");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.authorized_identity, "northwind.example");
}

TEST(sasl_external, client_asserts_its_domain_and_the_server_accepts_it)
{
    auto response = make_cyrus_sasl_client()->external_initial_response("contoso.example", "fabrikam.example");
    EXPECT_EQ(response, "contoso.example");
    EXPECT_EQ(sasl_base64_encode(response), "Y29udG9zby5leGFtcGxl");
    auto r = make_cyrus_sasl_server()->authenticate_external(response, "contoso.example");
    EXPECT_TRUE(r.ok()) << r.text;
}

TEST(sasl_base64, empty_payload_is_a_single_equals_sign)
{
    EXPECT_EQ(sasl_base64_encode(""), "=");
    EXPECT_EQ(sasl_base64_decode("="), std::string{});
}

TEST(sasl_base64, round_trips_every_length)
{
    std::string data;
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(sasl_base64_decode(sasl_base64_encode(data)), data);
        data += static_cast<char>(i * 37);
    }
    EXPECT_EQ(sasl_base64_encode("example.org"), "ZXhhbXBsZS5vcmc=");
}

TEST(sasl_base64, refuses_what_is_not_canonical_base64)
{
    for (auto bad : {"", "Zm9", "Zm9v YmFy", "Zm9v\nYmFy", "Zm=v", "Zm9=", "Zg==Zg==", "Zh==", "Zm9v!!!!", "===="})
        EXPECT_EQ(sasl_base64_decode(bad), std::nullopt) << bad;
}

}  // namespace
