// A hostile remote server against the negotiation machines: elements in states
// where they make no sense, answers to questions never asked, and domains of
// other partners slipped onto a stream. Each test states what must (not) happen:
// the close condition, and no authenticated / route_stanza action.
#include "negotiation/component_session.hpp"
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;

constexpr std::string_view proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
constexpr std::string_view success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";

negotiation_settings tls_optional_dialback()
{
    return {requirement::optional, requirement::not_supported, true};
}

/// Authenticates `from` -> `to` by dialback with a valid answer from the router.
void dialback_in(inbound_fixture& f, std::string_view from = "fabrikam.test", std::string_view to = "contoso.test")
{
    auto ask = only<ask_dialback>(f.receive(db_result(from, to)));
    ASSERT_EQ(all<authenticated>(f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid})).size(),
              1u);
}

/// Nothing in `out` authenticates a pair or routes a stanza.
void expect_nothing_granted(std::vector<action> const& out)
{
    EXPECT_TRUE(all<authenticated>(out).empty()) << sent_xml(out);
    EXPECT_TRUE(all<route_stanza>(out).empty()) << sent_xml(out);
}

// ---- inbound: domains of another partner ---------------------------------------------

TEST(HostileInbound, db_result_for_a_domain_of_another_partner_is_refused)
{
    // The header selected fabrikam.test; northwind.test is a partner too, but its
    // domains must not be authenticated on fabrikam's stream.
    inbound_fixture f{tcp_dialback_only()};
    f.domains.add_partner("northwind.test", {}, tcp_dialback_only());
    (void)f.open("fabrikam.test");
    auto out = f.receive(db_result("northwind.test", "contoso.test"));
    EXPECT_TRUE(all<ask_dialback>(out).empty()) << sent_xml(out);
    expect_nothing_granted(out);
    EXPECT_THAT(sent_xml(out), HasSubstr("type='error'"));
    EXPECT_THAT(sent_xml(out), HasSubstr("<policy-violation"));
    // A stanza from it is then refused: the pair was never authenticated.
    dialback_in(f);
    auto stanza = f.receive(message("mallory@northwind.test", "bob@contoso.test"));
    EXPECT_EQ(only<close_stream>(stanza).condition, stream_error::invalid_from);
    expect_nothing_granted(stanza);
}

TEST(HostileInbound, xep_0344_shortcut_for_another_partners_certificate_is_refused)
{
    // TLS with a certificate valid for northwind.test, stream opened as fabrikam.test:
    // the "dialback without dialback" shortcut must not authenticate northwind here.
    inbound_fixture f{tls_required_sasl_optional()};
    f.domains.add_partner("northwind.test", {}, tls_required_sasl_optional());
    (void)f.open("fabrikam.test");
    (void)f.receive(starttls);
    (void)f.tls(certificate_for("northwind.test"));
    (void)f.open("fabrikam.test");
    auto out = f.receive(db_result("northwind.test", "contoso.test"));
    expect_nothing_granted(out);
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("type='valid'")));
    EXPECT_TRUE(f.session->authenticated_pairs().empty());
}

TEST(HostileInbound, additional_domains_of_the_header_partner_are_still_multiplexed)
{
    inbound_fixture f{tcp_dialback_only()};
    f.domains.add_partner("northwind.test", {}, tcp_dialback_only());
    (void)f.open("chat.fabrikam.test");
    dialback_in(f, "fabrikam.test", "contoso.test");
    dialback_in(f, "chat.fabrikam.test", "contoso-sales.test");
    EXPECT_EQ(f.session->authenticated_pairs().size(), 2u);
}

TEST(HostileInbound, the_header_after_sasl_cannot_switch_to_another_partner)
{
    // SASL authenticated fabrikam.test; the restarted stream claims northwind.test,
    // whose domains would then be dialed back on fabrikam's authenticated stream.
    inbound_fixture f{tls_required_sasl_optional()};
    f.domains.add_partner("northwind.test", {}, tls_required_sasl_optional());
    (void)f.open();
    (void)f.secure_and_reopen();
    ASSERT_EQ(all<authenticated>(f.receive(auth_external("fabrikam.test"))).size(), 1u);
    auto out = f.open("northwind.test");
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.condition, stream_error::invalid_from);
    EXPECT_TRUE(all<send_header>(out).empty());
    EXPECT_TRUE(f.receive(db_result("northwind.test", "contoso.test")).empty());
}

TEST(HostileInbound, the_header_after_sasl_may_name_the_same_partner)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    ASSERT_EQ(all<authenticated>(f.receive(auth_external("fabrikam.test"))).size(), 1u);
    EXPECT_TRUE(all<close_stream>(f.open("fabrikam.test")).empty());
    EXPECT_EQ(all<route_stanza>(f.receive(message("alice@fabrikam.test", "bob@contoso.test"))).size(), 1u);
}

TEST(HostileInbound, a_header_without_from_still_judges_each_db_result_by_its_own_from)
{
    inbound_fixture f{tcp_dialback_only()};
    f.domains.add_partner("northwind.test", {}, tcp_dialback_only());
    (void)f.receive(peer_header({}, "contoso.test"));
    EXPECT_EQ(only<ask_dialback>(f.receive(db_result("northwind.test", "contoso.test"))).pair.remote,
              "northwind.test");
    EXPECT_EQ(only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test"))).pair.remote, "fabrikam.test");
}

TEST(HostileInbound, db_verify_before_tls_is_refused_for_a_tls_required_asker_even_without_header_from)
{
    // Omitting 'from' in the header must not bypass the partner's TLS requirement.
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.receive(peer_header({}, "contoso.test"));
    auto key = f.secret.key("fabrikam.test", "contoso.test", "S1");
    auto out = f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='S1'>" + key + "</db:verify>");
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("type='valid'")));
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::policy);
}

TEST(HostileInbound, db_verify_before_tls_is_answered_for_an_asker_without_tls_requirement)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.receive(peer_header({}, "contoso.test"));
    auto key = f.secret.key("fabrikam.test", "contoso.test", "S1");
    auto out = f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='S1'>" + key + "</db:verify>");
    EXPECT_EQ(sent_xml(out), "<db:verify from='contoso.test' to='fabrikam.test' id='S1' type='valid'/>");
}

// ---- inbound: certificates -------------------------------------------------------------

TEST(HostileInbound, no_certificate_means_no_shortcut_and_no_sasl)
{
    negotiation_settings policy{requirement::required, requirement::optional, true};
    inbound_fixture f{policy};
    (void)f.open();
    (void)f.receive(starttls);
    EXPECT_TRUE(f.tls(nullptr).empty());
    EXPECT_THAT(sent_xml(f.open()), ::testing::Not(HasSubstr("EXTERNAL")));
    auto sasl = f.receive(auth_external("fabrikam.test"));
    EXPECT_THAT(sent_xml(sasl), HasSubstr("<not-authorized/>"));
    expect_nothing_granted(sasl);
    auto out = f.receive(db_result("fabrikam.test", "contoso.test"));
    EXPECT_EQ(all<ask_dialback>(out).size(), 1u);
    expect_nothing_granted(out);
}

TEST(HostileInbound, an_untrusted_certificate_gets_no_xep_0344_shortcut)
{
    inbound_fixture f{{requirement::required, requirement::not_supported, true}};
    (void)f.open();
    (void)f.secure_and_reopen(false);
    auto out = f.receive(db_result("fabrikam.test", "contoso.test"));
    EXPECT_EQ(all<ask_dialback>(out).size(), 1u);
    expect_nothing_granted(out);
}

// ---- inbound: elements out of sequence ---------------------------------------------------

TEST(HostileInbound, sasl_success_or_failure_sent_to_the_receiving_side_closes)
{
    inbound_fixture a{tls_required_sasl_optional()};
    (void)a.open();
    (void)a.secure_and_reopen();
    auto out = a.receive(success);
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::policy_violation);
    expect_nothing_granted(out);

    inbound_fixture b{tls_required_sasl_optional()};
    (void)b.open();
    (void)b.secure_and_reopen();
    auto failure = b.receive("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>");
    EXPECT_EQ(only<close_stream>(failure).condition, stream_error::policy_violation);
}

TEST(HostileInbound, a_second_sasl_after_success_closes)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    ASSERT_EQ(all<authenticated>(f.receive(auth_external("fabrikam.test"))).size(), 1u);
    (void)f.open();
    auto out = f.receive(auth_external("fabrikam.test"));
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::policy_violation);
    EXPECT_TRUE(all<authenticated>(out).empty());
}

TEST(HostileInbound, starttls_while_dialback_is_pending_is_refused)
{
    inbound_fixture f{tls_optional_dialback()};
    (void)f.open();
    (void)only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test")));
    auto out = f.receive(starttls);
    EXPECT_TRUE(all<begin_tls>(out).empty());
    EXPECT_THAT(sent_xml(out), HasSubstr("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    EXPECT_EQ(only<close_stream>(out).reason, close_reason::policy);
}

TEST(HostileInbound, a_plaintext_header_after_proceed_is_not_a_restart)
{
    // The peer skips the TLS handshake and opens a new stream in plaintext.
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    ASSERT_EQ(all<begin_tls>(f.receive(starttls)).size(), 1u);
    auto out = f.open();
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::bad_format);
    EXPECT_TRUE(all<send_header>(out).empty());
    EXPECT_FALSE(f.session->secured());
}

TEST(HostileInbound, a_dialback_answer_for_a_pair_never_asked_is_discarded)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test")));
    // Same stream id, but another pair.
    auto out = f.handle(dialback_answer{{"contoso-sales.test", "fabrikam.test"}, ask.stream_id, dialback_outcome::valid});
    EXPECT_EQ(all<discarded>(out).size(), 1u);
    expect_nothing_granted(out);
    EXPECT_TRUE(f.session->authenticated_pairs().empty());
}

TEST(HostileInbound, a_malformed_to_from_an_unauthenticated_domain_is_not_bounced)
{
    // Authenticated fabrikam -> contoso only: a stanza from chat.fabrikam.test with a
    // malformed 'to' gets no bounce (which would be routed for an unauthenticated pair).
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    dialback_in(f);
    auto out = f.receive(message("room@chat.fabrikam.test", "bad@@contoso.test"));
    EXPECT_TRUE(all<bounce_stanza>(out).empty());
    expect_nothing_granted(out);
}

// ---- outbound ----------------------------------------------------------------------

TEST(HostileOutbound, sasl_success_without_auth_is_refused)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)f.start();
    auto out = f.receive(peer_header("fabrikam.test", "contoso.test", "p1") + std::string{success});
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::not_authorized);
    EXPECT_TRUE(all<restart_stream>(out).empty());
    EXPECT_TRUE(all<authenticated>(out).empty());
    EXPECT_FALSE(f.session->established());
}

TEST(HostileOutbound, sasl_success_while_awaiting_dialback_is_refused)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)f.start();
    ASSERT_THAT(sent_xml(f.peer_opens(dialback_feature)), HasSubstr("<db:result"));
    auto out = f.receive(success);
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::not_authorized);
    EXPECT_TRUE(all<authenticated>(out).empty());
}

TEST(HostileOutbound, proceed_without_starttls_starts_no_tls)
{
    outbound_fixture f{tls_required_sasl_optional()};
    (void)f.start();
    auto out = f.receive(peer_header("fabrikam.test", "contoso.test", "p1") + std::string{proceed});
    EXPECT_TRUE(all<begin_tls>(out).empty());
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::not_authorized);
}

TEST(HostileOutbound, a_restart_without_the_tls_handshake_is_refused)
{
    outbound_fixture f{tls_required_sasl_optional()};
    (void)f.start();
    (void)f.peer_opens(starttls_feature);
    ASSERT_EQ(all<begin_tls>(f.receive(proceed)).size(), 1u);
    // The peer opens a new stream and offers EXTERNAL as if TLS were up.
    auto out = f.peer_opens(external_feature, "p2");
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::bad_format);
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("<auth")));
    EXPECT_TRUE(all<authenticated>(out).empty());
}

TEST(HostileOutbound, bytes_after_proceed_drop_the_connection_without_a_word)
{
    outbound_fixture f{tls_required_sasl_optional()};
    (void)f.start();
    (void)f.peer_opens(starttls_feature);
    // What follows <proceed/> in the clear would be read as if it came over TLS.
    auto out = f.receive(std::string{proceed} + "<stream:features/>");
    EXPECT_TRUE(all<begin_tls>(out).empty());
    auto close = only<close_stream>(out);
    EXPECT_TRUE(close.drop_connection);  // not even </stream:stream> in the clear
    EXPECT_FALSE(close.condition);
    EXPECT_EQ(sent_xml(out), "");
}

TEST(HostileOutbound, no_certificate_is_no_sasl_and_no_crash)
{
    outbound_fixture f{tls_required_sasl_optional()};
    (void)f.start();
    (void)f.peer_opens(starttls_feature);
    (void)f.receive(proceed);
    (void)only<send_header>(f.handle(tls_established{nullptr}));
    auto out = f.peer_opens(std::string{external_feature} + std::string{dialback_feature}, "p2");
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("<auth")));
    EXPECT_THAT(sent_xml(out), HasSubstr("<db:result"));

    outbound_fixture strict{{requirement::required, requirement::required, false}};
    (void)strict.start();
    (void)strict.peer_opens(starttls_feature);
    (void)strict.receive(proceed);
    (void)strict.handle(tls_established{nullptr});
    EXPECT_EQ(only<close_stream>(strict.peer_opens(external_feature, "p2")).reason, close_reason::certificate_invalid);
}

TEST(HostileOutbound, a_valid_dialback_answer_for_another_pair_authenticates_nothing)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)f.start();
    (void)f.peer_opens(dialback_feature);
    auto out = f.receive("<db:result from='fabrikam.test' to='contoso-sales.test' type='valid'/>"
                         "<db:result from='chat.fabrikam.test' to='contoso.test' type='valid'/>"
                         "<db:result from='fabrikam.test' to='contoso.test'>key</db:result>");
    EXPECT_EQ(all<discarded>(out).size(), 3u);
    EXPECT_TRUE(all<authenticated>(out).empty());
    EXPECT_FALSE(f.session->established());
}

TEST(HostileOutbound, features_after_authentication_close_the_stream)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)f.start();
    (void)f.peer_opens(dialback_feature);
    ASSERT_EQ(all<authenticated>(f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>")).size(),
              1u);
    auto out = f.receive("<stream:features>" + std::string{starttls_feature} + "</stream:features>");
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::policy_violation);
    EXPECT_TRUE(all<send_element>(out).empty());
}

TEST(HostileOutbound, an_unrequested_db_verify_answer_is_discarded)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)f.start();
    (void)f.peer_opens(dialback_feature);
    (void)f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
    auto out = f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='never-asked' type='valid'/>");
    EXPECT_TRUE(all<dialback_verified>(out).empty());
    EXPECT_EQ(all<discarded>(out).size(), 1u);
}

// ---- component link ------------------------------------------------------------------

TEST(HostileComponent, nothing_but_the_handshake_answer_completes_the_link)
{
    directory domains;
    domains.add_local_domain("contoso.test");
    component_session session{{"fabrikam.test", "test", &domains}};
    stream_driver driver{session, {}, fedgate::protocol::ns::component};
    (void)driver.start();
    auto out = driver.receive(
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' "
        "from='fabrikam.test' id='3BF96D32'><message from='a@contoso.test' to='b@fabrikam.test'/>");
    EXPECT_EQ(all<send_element>(out).size(), 1u);  // our handshake
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::not_authorized);
    EXPECT_TRUE(all<link_ready>(out).empty());
    EXPECT_TRUE(all<route_stanza>(out).empty());
    EXPECT_FALSE(session.ready());
}

}  // namespace
