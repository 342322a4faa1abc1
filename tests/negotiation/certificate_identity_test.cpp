// RFC 6125 / RFC 9525 / RFC 7590 / XEP-0178 identity checks over certificates made
// by the test itself (test_pki), so each case states the names it presents.
#include "negotiation/certificate_identity.hpp"
#include "test_pki.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::negotiation;
using fedgate::test::authority;
using fedgate::test::certificate_spec;
using status = certificate_verdict::status;

class certificate_identity : public ::testing::Test {
protected:
    certificate_verdict check(std::string const& sans, std::string const& domain, std::string const& cn = "ignored")
    {
        auto leaf = ca_.issue({cn, sans}, key_.get());
        return check_peer_certificate(leaf.get(), nullptr, store_.get(), domain);
    }

    authority ca_ = authority::create("test CA");
    fedgate::test::pkey_ptr key_ = fedgate::test::make_key();
    fedgate::test::store_ptr store_ = ca_.trust_store();
};

TEST_F(certificate_identity, dns_id_exact)
{
    auto v = check("DNS:fabrikam.example", "fabrikam.example");
    ASSERT_TRUE(v.valid()) << v.reason;
    EXPECT_EQ(v.matched, identity_kind::dns_id);
    EXPECT_EQ(check("DNS:FABRIKAM.example", "fabrikam.example").matched, identity_kind::dns_id);
}

TEST_F(certificate_identity, dns_id_wildcard_covers_exactly_the_left_most_label)
{
    EXPECT_EQ(check("DNS:*.fabrikam.example", "chat.fabrikam.example").matched, identity_kind::dns_id_wildcard);
    EXPECT_EQ(check("DNS:*.fabrikam.example", "fabrikam.example").result, status::name_mismatch);
    EXPECT_EQ(check("DNS:*.fabrikam.example", "a.chat.fabrikam.example").result, status::name_mismatch);
    // Partial-label wildcards are not accepted (RFC 9525 §6.3).
    EXPECT_EQ(check("DNS:ch*.fabrikam.example", "chat.fabrikam.example").result, status::name_mismatch);
    EXPECT_EQ(check("DNS:chat.*.example", "chat.fabrikam.example").result, status::name_mismatch);
    EXPECT_EQ(check("DNS:*.example", "fabrikam.example").result, status::name_mismatch);
}

TEST_F(certificate_identity, srv_id_for_xmpp_server_only)
{
    EXPECT_EQ(check("otherName:1.3.6.1.5.5.7.8.7;IA5:_xmpp-server.fabrikam.example", "fabrikam.example").matched,
              identity_kind::srv_id);
    auto client = check("otherName:1.3.6.1.5.5.7.8.7;IA5:_xmpp-client.fabrikam.example", "fabrikam.example");
    EXPECT_EQ(client.result, status::name_mismatch);
    EXPECT_EQ(client.reason, "certificate is not valid for fabrikam.example (it names "
                             "_xmpp-client.fabrikam.example)");
}

TEST_F(certificate_identity, xmpp_addr_must_be_a_bare_domain)
{
    EXPECT_EQ(check("otherName:1.3.6.1.5.5.7.8.5;UTF8:fabrikam.example", "fabrikam.example").matched,
              identity_kind::xmpp_addr);
    EXPECT_EQ(check("otherName:1.3.6.1.5.5.7.8.5;UTF8:admin@fabrikam.example", "fabrikam.example").result,
              status::name_mismatch);
    EXPECT_EQ(check("otherName:1.3.6.1.5.5.7.8.5;UTF8:fabrikam.example/res", "fabrikam.example").result,
              status::name_mismatch);
}

TEST_F(certificate_identity, idn_compares_in_a_label_form)
{
    // The reference domain is canonical (U-label); certificates carry A-labels in
    // dNSName and UTF-8 in XmppAddr.
    EXPECT_EQ(check("DNS:xn--bcher-kva.example", "bücher.example").matched, identity_kind::dns_id);
    certificate_spec spec{"x", "", "serverAuth"};
    spec.xmpp_addrs_utf8 = {"bücher.example"};
    auto leaf = ca_.issue(spec, key_.get());
    EXPECT_EQ(check_peer_certificate(leaf.get(), nullptr, store_.get(), "bücher.example").matched,
              identity_kind::xmpp_addr);
}

TEST_F(certificate_identity, common_name_is_ignored)
{
    auto v = check("", "fabrikam.example", "fabrikam.example");
    EXPECT_EQ(v.result, status::name_mismatch);
    EXPECT_EQ(v.reason, "certificate is not valid for fabrikam.example (it names no XMPP or DNS identity; a "
                        "subject CN alone does not count)");
}

TEST_F(certificate_identity, wrong_domain)
{
    auto v = check("DNS:contoso.example,DNS:*.contoso.example", "fabrikam.example");
    EXPECT_EQ(v.result, status::name_mismatch);
    EXPECT_EQ(v.reason, "certificate is not valid for fabrikam.example (it names contoso.example, *.contoso.example)");
}

TEST_F(certificate_identity, expired_and_not_yet_valid_are_untrusted)
{
    auto expired = ca_.issue({"x", "DNS:fabrikam.example", "serverAuth", -10 * 86400, -86400}, key_.get());
    auto v = check_peer_certificate(expired.get(), nullptr, store_.get(), "fabrikam.example");
    EXPECT_EQ(v.result, status::untrusted);
    EXPECT_EQ(v.reason, "certificate chain not trusted: certificate has expired");

    auto future = ca_.issue({"x", "DNS:fabrikam.example", "serverAuth", 86400, 10 * 86400}, key_.get());
    EXPECT_EQ(check_peer_certificate(future.get(), nullptr, store_.get(), "fabrikam.example").reason,
              "certificate chain not trusted: certificate is not yet valid");
}

TEST_F(certificate_identity, untrusted_issuer)
{
    auto stranger = authority::create("someone else");
    auto leaf = stranger.issue({"x", "DNS:fabrikam.example"}, key_.get());
    auto v = check_peer_certificate(leaf.get(), nullptr, store_.get(), "fabrikam.example");
    EXPECT_EQ(v.result, status::untrusted);
    EXPECT_EQ(v.reason, "certificate chain not trusted: unable to get local issuer certificate");
}

TEST_F(certificate_identity, server_auth_only_certificate_is_accepted_from_an_initiating_server)
{
    // Public CAs issue serverAuth-only certificates since 2026; an initiating server
    // presents one as its client certificate and must still be accepted.
    auto leaf = ca_.issue({"x", "DNS:fabrikam.example", "serverAuth"}, key_.get());
    EXPECT_TRUE(check_peer_certificate(leaf.get(), nullptr, store_.get(), "fabrikam.example").valid());
    auto client_only = ca_.issue({"x", "DNS:fabrikam.example", "clientAuth"}, key_.get());
    EXPECT_EQ(check_peer_certificate(client_only.get(), nullptr, store_.get(), "fabrikam.example").result,
              status::untrusted);
}

TEST_F(certificate_identity, verification_time_can_be_injected)
{
    auto leaf = ca_.issue({"x", "DNS:fabrikam.example"}, key_.get());
    auto const next_year = std::time(nullptr) + 2L * 365 * 86400;
    EXPECT_EQ(check_peer_certificate(leaf.get(), nullptr, store_.get(), "fabrikam.example", next_year).result,
              status::untrusted);
}

TEST_F(certificate_identity, no_certificate)
{
    EXPECT_EQ(check_peer_certificate(nullptr, nullptr, store_.get(), "fabrikam.example").result,
              status::no_certificate);
}

TEST(certificate_names, reads_every_kind_of_name)
{
    auto ca = authority::create("ca");
    auto key = fedgate::test::make_key();
    auto leaf = ca.issue({"cn.example",
                          "DNS:a.example,otherName:1.3.6.1.5.5.7.8.7;IA5:_xmpp-server.b.example,"
                          "otherName:1.3.6.1.5.5.7.8.5;UTF8:c.example,email:x@d.example"},
                         key.get());
    auto names = extract_names(leaf.get());
    EXPECT_EQ(names.dns_ids, std::vector<std::string>{"a.example"});
    EXPECT_EQ(names.srv_ids, std::vector<std::string>{"_xmpp-server.b.example"});
    EXPECT_EQ(names.xmpp_addrs, std::vector<std::string>{"c.example"});
}

}  // namespace
