// Open federation on the receiving side: with [default_partner], a domain no
// partner lists is accepted under the default terms, and its stream carries
// that domain alone; without it, such a domain is no partner. The blocklist's
// wildcards spare listed partners only.
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;
using ::testing::Not;

/// [default_partner]'s terms as routing/runtime.cpp gives them to the directory.
partner_rules default_terms(negotiation_settings settings)
{
    return {.domain = {},
            .settings = settings,
            .methods = {},
            .type = fedgate::policy::partner_type::public_unverified,
            .extensions = {},
            .rate_limit = {20, 131072}};
}

/// fabrikam.test listed, with `listed`; every other remote domain under
/// `unlisted` (open federation).
struct open_fixture : inbound_fixture {
    explicit open_fixture(negotiation_settings unlisted = tcp_dialback_only(),
                          negotiation_settings listed = tcp_dialback_only())
        : inbound_fixture{listed}
    {
        domains.set_default_partner(default_terms(unlisted));
    }
};

/// `from` -> `to` authenticates by TCP dialback with a valid key.
void dialback_in(inbound_fixture& f, std::string_view from, std::string_view to = "contoso.test")
{
    auto ask = only<ask_dialback>(f.receive(db_result(from, to, f.peer_key(from, to))));
    EXPECT_EQ(ask.pair, (domain_pair{std::string{to}, std::string{from}}));
    auto out = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    EXPECT_EQ(sent_xml(out), "<db:result from='" + std::string{to} + "' to='" + std::string{from} + "' type='valid'/>");
    auto const auth = only<authenticated>(out);
    EXPECT_EQ(auth.pair.remote, from);
    EXPECT_EQ(auth.method, auth_method::tcp_dialback);
}

/// A db:result refused with a dialback error; the stream stays up.
void refused_by_db_error(std::vector<action> const& out, std::string_view condition, std::string_view detail)
{
    EXPECT_TRUE(all<ask_dialback>(out).empty()) << sent_xml(out);
    EXPECT_TRUE(all<authenticated>(out).empty()) << sent_xml(out);
    EXPECT_TRUE(all<close_stream>(out).empty()) << sent_xml(out);
    EXPECT_THAT(sent_xml(out), HasSubstr("type='error'"));
    EXPECT_THAT(sent_xml(out), HasSubstr("<" + std::string{condition}));
    EXPECT_THAT(only<discarded>(out).what, HasSubstr(detail));
}

// ---- accepted under the default terms ---------------------------------------------

TEST(inbound_default_partner, an_unlisted_domain_is_authenticated_by_dialback_under_the_default_terms)
{
    open_fixture f;
    auto opened = f.open("stranger.test");
    EXPECT_TRUE(all<close_stream>(opened).empty()) << sent_xml(opened);
    EXPECT_EQ(only<send_header>(opened).to, "stranger.test");
    EXPECT_THAT(sent_xml(opened), HasSubstr("urn:xmpp:features:dialback"));
    EXPECT_THAT(sent_xml(opened), Not(HasSubstr("starttls"))) << "the default terms support no TLS here";
    dialback_in(f, "stranger.test");
    auto routed = only<route_stanza>(f.receive(message("alice@stranger.test/phone", "bob@contoso.test")));
    EXPECT_EQ(routed.pair, (domain_pair{"contoso.test", "stranger.test"}));
    EXPECT_EQ(f.session->authenticated_pairs().size(), 1u);
}

TEST(inbound_default_partner, the_default_terms_not_the_listed_partners_hold_for_an_unlisted_domain)
{
    // Listed: TCP dialback. Unlisted: TLS required.
    open_fixture f{tls_required_sasl_optional(), tcp_dialback_only()};
    auto opened = sent_xml(f.open("stranger.test"));
    EXPECT_THAT(opened, HasSubstr("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"));
    auto out = f.receive(db_result("stranger.test", "contoso.test", "k"));
    refused_by_db_error(out, "policy-violation",
                        "is not allowed for stranger.test (unlisted, [default_partner])");

    // The listed partner on plaintext, on a stream of its own: its terms.
    open_fixture g{tls_required_sasl_optional(), tcp_dialback_only()};
    EXPECT_THAT(sent_xml(g.open("fabrikam.test")), Not(HasSubstr("starttls")));
    dialback_in(g, "fabrikam.test");
}

TEST(inbound_default_partner, a_stream_without_from_takes_the_unlisted_domain_from_its_db_result)
{
    open_fixture f;
    auto opened = f.receive(peer_header({}, "contoso.test"));
    ASSERT_TRUE(all<close_stream>(opened).empty());
    dialback_in(f, "stranger.test");
}

TEST(inbound_default_partner, a_stream_without_from_carries_the_first_unlisted_domain_alone)
{
    // The first db:result chose stranger.test: neither another stranger nor a
    // listed partner shares its stream.
    open_fixture f;
    ASSERT_TRUE(all<close_stream>(f.receive(peer_header({}, "contoso.test"))).empty());
    dialback_in(f, "stranger.test");
    refused_by_db_error(f.receive(db_result("other.example", "contoso.test")), "policy-violation",
                        "other.example belongs to other.example (unlisted, [default_partner]), not to "
                        "stranger.test (unlisted, [default_partner]), whose stream this is");
    refused_by_db_error(f.receive(db_result("fabrikam.test", "contoso.test")), "policy-violation",
                        "fabrikam.test belongs to fabrikam.test, not to stranger.test (unlisted, [default_partner])");
    EXPECT_EQ(f.session->authenticated_pairs().size(), 1u);

    // Chosen by a listed partner first: no stranger joins it, but the listed
    // partners may still multiplex (XEP-0220 §4.3, as without [default_partner]).
    open_fixture g;
    ASSERT_TRUE(all<close_stream>(g.receive(peer_header({}, "contoso.test"))).empty());
    dialback_in(g, "fabrikam.test");
    refused_by_db_error(g.receive(db_result("stranger.test", "contoso.test")), "policy-violation",
                        "stranger.test belongs to stranger.test (unlisted, [default_partner]), not to fabrikam.test");
    dialback_in(g, "chat.fabrikam.test");
}

// ---- refused without a default -----------------------------------------------------

TEST(inbound_default_partner, without_a_default_an_unlisted_domain_is_not_a_partner)
{
    inbound_fixture f{tcp_dialback_only()};
    auto out = f.open("stranger.test");
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::unknown_partner);
    EXPECT_EQ(close.detail, "stranger.test is not a federation partner of contoso.test");
    EXPECT_THAT(sent_xml(out), HasSubstr("<policy-violation"));

    // Named by a db:result on a stream without 'from': that pair alone is refused.
    inbound_fixture g{tcp_dialback_only()};
    ASSERT_TRUE(all<close_stream>(g.receive(peer_header({}, "contoso.test"))).empty());
    refused_by_db_error(g.receive(db_result("stranger.test", "contoso.test")), "policy-violation",
                        "stranger.test is not a federation partner");
}

TEST(inbound_default_partner, a_local_domain_is_no_stranger)
{
    // Our own domain as the sender is never given the default terms.
    open_fixture f;
    auto close = only<close_stream>(f.open("contoso-sales.test"));
    EXPECT_EQ(close.reason, close_reason::unknown_partner);
}

// ---- one unlisted domain a stream ----------------------------------------------------

TEST(inbound_default_partner, a_second_unlisted_domain_on_the_first_ones_stream_is_refused)
{
    open_fixture f;
    ASSERT_TRUE(all<close_stream>(f.open("stranger.test")).empty());
    dialback_in(f, "stranger.test");
    refused_by_db_error(f.receive(db_result("other.example", "contoso.test")), "policy-violation",
                        "other.example belongs to other.example (unlisted, [default_partner]), not to "
                        "stranger.test (unlisted, [default_partner]), whose stream this is");
    // A subdomain is another domain, too.
    refused_by_db_error(f.receive(db_result("muc.stranger.test", "contoso.test")), "policy-violation",
                        "muc.stranger.test belongs to muc.stranger.test (unlisted, [default_partner])");
    // The stream stays up for its own domain.
    EXPECT_EQ(only<route_stanza>(f.receive(message("alice@stranger.test", "bob@contoso.test"))).pair.remote,
              "stranger.test");
    EXPECT_EQ(f.session->authenticated_pairs().size(), 1u);
    // Its own domain to our other local domain is fine.
    dialback_in(f, "stranger.test", "contoso-sales.test");
}

TEST(inbound_default_partner, a_listed_partners_stream_carries_no_unlisted_domain)
{
    open_fixture f;
    ASSERT_TRUE(all<close_stream>(f.open("fabrikam.test")).empty());
    dialback_in(f, "fabrikam.test");
    refused_by_db_error(f.receive(db_result("stranger.test", "contoso.test")), "policy-violation",
                        "stranger.test belongs to stranger.test (unlisted, [default_partner]), not to "
                        "fabrikam.test, whose stream this is");
    // Its own additional domain still shares it.
    dialback_in(f, "chat.fabrikam.test");
}

TEST(inbound_default_partner, an_unlisted_domains_stream_carries_no_listed_partner)
{
    open_fixture f;
    ASSERT_TRUE(all<close_stream>(f.open("stranger.test")).empty());
    refused_by_db_error(f.receive(db_result("fabrikam.test", "contoso.test")), "policy-violation",
                        "fabrikam.test belongs to fabrikam.test, not to stranger.test (unlisted, [default_partner])");
}

/// STARTTLS with a certificate valid for `domain`, SASL EXTERNAL as `domain`:
/// the stream awaits the peer's restarted header.
void external_in(inbound_fixture& f, std::string const& domain)
{
    ASSERT_TRUE(all<close_stream>(f.open(domain)).empty());
    ASSERT_EQ(all<begin_tls>(f.receive(std::string{starttls})).size(), 1u);
    (void)f.tls(certificate_for(domain));
    ASSERT_THAT(sent_xml(f.open(domain)), HasSubstr("<mechanism>EXTERNAL</mechanism>"));
    auto out = f.receive(auth_external(domain));
    ASSERT_EQ(only<authenticated>(out).pair, (domain_pair{"contoso.test", domain}));
    ASSERT_EQ(all<restart_stream>(out).size(), 1u);
}

TEST(inbound_default_partner, the_restarted_stream_must_claim_the_same_unlisted_domain)
{
    open_fixture f{tls_required_sasl_optional()};
    external_in(f, "stranger.test");
    auto close = only<close_stream>(f.open("other.example"));
    EXPECT_EQ(close.condition, stream_error::invalid_from);
    EXPECT_EQ(close.reason, close_reason::not_authenticated);
    EXPECT_THAT(close.detail, HasSubstr("'other.example'"));

    open_fixture g{tls_required_sasl_optional()};
    external_in(g, "stranger.test");
    auto again = g.open("stranger.test");
    EXPECT_TRUE(all<close_stream>(again).empty()) << sent_xml(again);
    EXPECT_EQ(only<route_stanza>(g.receive(message("alice@stranger.test", "bob@contoso.test"))).pair.remote,
              "stranger.test");
}

TEST(inbound_default_partner, a_listed_partner_may_restart_as_another_of_its_domains)
{
    // The contrast: fabrikam.test and chat.fabrikam.test are one partner.
    open_fixture f{tls_required_sasl_optional(), tls_required_sasl_optional()};
    external_in(f, "fabrikam.test");
    EXPECT_TRUE(all<close_stream>(f.open("chat.fabrikam.test")).empty());
}

// ---- the blocklist ---------------------------------------------------------------

std::shared_ptr<fedgate::policy::blocklist const> wildcards()
{
    fedgate::policy::blocklist b;
    (void)b.add_suffix("spam.test", 2);
    (void)b.add_suffix("fabrikam.test", 3);  // meant for strangers: never the listed partner
    return std::make_shared<fedgate::policy::blocklist const>(std::move(b));
}

TEST(inbound_default_partner, a_wildcard_blocks_an_unlisted_domain)
{
    open_fixture f;
    f.use_blocklist(wildcards());
    auto out = f.open("muc.spam.test");
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::blocked);
    EXPECT_THAT(close.detail, HasSubstr("line 2: *.spam.test"));
    EXPECT_THAT(sent_xml(out), HasSubstr("<policy-violation"));
}

TEST(inbound_default_partner, a_listed_partners_wildcard_blocks_its_unlisted_subdomains_only)
{
    // chat.fabrikam.test is listed: spared. evil.fabrikam.test is not: the
    // default terms would serve it, but the wildcard blocks it.
    open_fixture f;
    f.use_blocklist(wildcards());
    auto listed = f.open("chat.fabrikam.test");
    EXPECT_TRUE(all<close_stream>(listed).empty()) << sent_xml(listed);
    EXPECT_EQ(only<send_header>(listed).to, "chat.fabrikam.test");

    open_fixture g;
    g.use_blocklist(wildcards());
    auto unlisted = g.open("evil.fabrikam.test");
    auto close = only<close_stream>(unlisted);
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::blocked);
    EXPECT_THAT(close.detail, HasSubstr("line 3: *.fabrikam.test"));
}

TEST(inbound_default_partner, an_unlisted_domain_off_the_blocklist_is_accepted)
{
    open_fixture f;
    f.use_blocklist(wildcards());
    ASSERT_TRUE(all<close_stream>(f.open("stranger.test")).empty());
    dialback_in(f, "stranger.test");
}

TEST(inbound_default_partner, a_blocked_unlisted_domain_named_by_a_db_result_is_refused)
{
    // On a listed partner's stream: its pair alone, not-allowed.
    open_fixture f;
    f.use_blocklist(wildcards());
    ASSERT_TRUE(all<close_stream>(f.open("fabrikam.test")).empty());
    refused_by_db_error(f.receive(db_result("evil.fabrikam.test", "contoso.test")), "not-allowed",
                        "evil.fabrikam.test is blocked here");
    dialback_in(f, "fabrikam.test");

    // On a stream without 'from': the stream ends.
    open_fixture g;
    g.use_blocklist(wildcards());
    ASSERT_TRUE(all<close_stream>(g.receive(peer_header({}, "contoso.test"))).empty());
    auto out = g.receive(db_result("x.spam.test", "contoso.test"));
    EXPECT_TRUE(all<ask_dialback>(out).empty());
    EXPECT_EQ(only<close_stream>(out).reason, close_reason::blocked);
}

}  // namespace
