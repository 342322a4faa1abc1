// The receiving side against scripted peers: raw XML in, actions out. Each test
// is one rule of issue 5 or one attack a real server would never send.
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;

/// Authenticates fabrikam.test -> `to` by TCP dialback with a valid key.
void dialback_in(inbound_fixture& f, std::string_view from = "fabrikam.test", std::string_view to = "contoso.test")
{
    auto ask = only<ask_dialback>(f.receive(db_result(from, to, f.peer_key(from, to))));
    auto out = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    ASSERT_EQ(only<authenticated>(out).method, auth_method::tcp_dialback);
}

// ---- header --------------------------------------------------------------------

TEST(inbound_session, a_domain_that_is_not_a_partner_is_refused_by_name)
{
    inbound_fixture f;
    auto close = only<close_stream>(f.open("evil.test"));
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::unknown_partner);
    EXPECT_THAT(close.detail, HasSubstr("evil.test"));
}

TEST(inbound_session, a_to_that_is_not_ours_is_host_unknown)
{
    inbound_fixture f;
    auto close = only<close_stream>(f.open("fabrikam.test", "elsewhere.test"));
    EXPECT_EQ(close.condition, stream_error::host_unknown);
}

TEST(inbound_session, an_additional_domain_selects_its_partner)
{
    inbound_fixture f{tcp_dialback_only()};
    auto out = f.open("chat.fabrikam.test");
    EXPECT_TRUE(all<close_stream>(out).empty());
    EXPECT_EQ(only<send_header>(out).to, "chat.fabrikam.test");
}

TEST(inbound_session, a_header_without_version_1_0_is_unsupported)
{
    inbound_fixture f;
    auto out = f.receive("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                         "from='fabrikam.test' to='contoso.test'>");
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::unsupported_version);
}

TEST(inbound_session, the_reply_header_carries_a_fresh_id_on_every_restart)
{
    inbound_fixture f{tls_required_sasl_optional()};
    auto first = only<send_header>(f.open());
    auto second = only<send_header>(f.secure_and_reopen());
    EXPECT_EQ(first.from, "contoso.test");
    EXPECT_EQ(first.to, "fabrikam.test");
    EXPECT_FALSE(first.id.empty());
    EXPECT_NE(first.id, second.id);
}

// ---- features --------------------------------------------------------------------

TEST(inbound_session, tls_required_offers_starttls_as_required_and_nothing_else_usable)
{
    inbound_fixture f{{requirement::required, requirement::not_supported, true}};
    auto xml = sent_xml(f.open());
    EXPECT_THAT(xml, HasSubstr("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"));
    EXPECT_THAT(xml, ::testing::Not(HasSubstr("mechanisms")));
    // TLS dialback only: no dialback on this plaintext stream.
    EXPECT_THAT(xml, ::testing::Not(HasSubstr("urn:xmpp:features:dialback")));
}

TEST(inbound_session, tls_not_supported_offers_no_starttls_but_tcp_dialback)
{
    inbound_fixture f{tcp_dialback_only()};
    auto xml = sent_xml(f.open());
    EXPECT_THAT(xml, ::testing::Not(HasSubstr("starttls")));
    EXPECT_THAT(xml, HasSubstr("<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>"));
}

TEST(inbound_session, external_is_offered_only_with_a_certificate_valid_for_the_from_domain)
{
    inbound_fixture valid{tls_required_sasl_optional()};
    (void)valid.open();
    EXPECT_THAT(sent_xml(valid.secure_and_reopen(true)), HasSubstr("<mechanism>EXTERNAL</mechanism>"));

    inbound_fixture invalid{tls_required_sasl_optional()};
    (void)invalid.open();
    auto xml = sent_xml(invalid.secure_and_reopen(false));
    EXPECT_THAT(xml, ::testing::Not(HasSubstr("EXTERNAL")));
    EXPECT_THAT(xml, HasSubstr("urn:xmpp:features:dialback"));  // TLS dialback remains
}

TEST(inbound_session, a_header_without_from_defers_the_partner_to_db_result)
{
    inbound_fixture f{tcp_dialback_only()};
    auto out = f.receive(peer_header({}, "contoso.test"));
    EXPECT_EQ(only<send_header>(out).to, "");
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", "key")));
    EXPECT_EQ(ask.pair, (domain_pair{"contoso.test", "fabrikam.test"}));
    // ... and a db:result for a stranger is refused with a dialback error.
    auto refused = sent_xml(f.receive(db_result("evil.test", "contoso.test", "key")));
    EXPECT_THAT(refused, HasSubstr("type='error'"));
    EXPECT_THAT(refused, HasSubstr("<policy-violation"));
}

// ---- STARTTLS --------------------------------------------------------------------

TEST(inbound_session, starttls_proceeds_then_discards_everything_learned_before)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    auto out = f.receive(starttls);
    EXPECT_EQ(sent_xml(out), "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    EXPECT_EQ(only<begin_tls>(out).role, tls_role::server);
    EXPECT_EQ(only<begin_tls>(out).local_domain, "contoso.test");
    EXPECT_EQ(all<restart_stream>(out).size(), 1u);
    // The new stream starts before the handshake, so the header that follows it
    // belongs to the new stream (the executor resets nothing after TLS).
    ASSERT_GE(out.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<restart_stream>(out[out.size() - 2]));
    EXPECT_TRUE(std::holds_alternative<begin_tls>(out.back()));
    EXPECT_TRUE(f.tls(certificate_for("fabrikam.test")).empty());
    // The post-TLS header is read afresh: another partner domain is judged anew.
    auto close = only<close_stream>(f.open("evil.test"));
    EXPECT_EQ(close.reason, close_reason::unknown_partner);
}

TEST(inbound_session, plaintext_buffered_after_starttls_is_refused_before_the_handshake)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    auto out = f.receive(std::string{starttls} + message("x@fabrikam.test", "y@contoso.test"));
    EXPECT_TRUE(all<begin_tls>(out).empty());
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.reason, close_reason::bad_input);
    EXPECT_THAT(close.detail, HasSubstr("after the request for TLS"));
    // Nothing more in the clear after <proceed/>, not even </stream:stream>.
    EXPECT_TRUE(close.drop_connection);
    EXPECT_TRUE(f.driver->finished());
}

TEST(inbound_session, a_second_starttls_is_refused)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    auto out = f.receive(starttls);
    EXPECT_EQ(sent_xml(out), "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
    EXPECT_EQ(only<close_stream>(out).reason, close_reason::policy);
}

TEST(inbound_session, starttls_on_a_direct_tls_stream_is_refused)
{
    inbound_fixture f{tls_required_sasl_optional(), true};
    EXPECT_TRUE(f.tls(certificate_for("fabrikam.test")).empty());
    EXPECT_THAT(sent_xml(f.open()), ::testing::Not(HasSubstr("starttls")));
    auto out = f.receive(starttls);
    EXPECT_THAT(sent_xml(out), HasSubstr("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    EXPECT_EQ(all<begin_tls>(out).size(), 0u);
}

TEST(inbound_session, starttls_when_the_policy_does_not_support_tls_is_refused)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    auto out = f.receive(starttls);
    EXPECT_EQ(all<begin_tls>(out).size(), 0u);
    EXPECT_EQ(only<close_stream>(out).reason, close_reason::policy);
}

// ---- SASL EXTERNAL -----------------------------------------------------------------

TEST(inbound_session, sasl_external_authenticates_the_pair_and_restarts)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    auto out = f.receive(auth_external("fabrikam.test"));
    EXPECT_EQ(sent_xml(out), "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    auto auth = only<authenticated>(out);
    EXPECT_EQ(auth.pair, (domain_pair{"contoso.test", "fabrikam.test"}));
    EXPECT_EQ(auth.method, auth_method::sasl_over_tls);
    EXPECT_EQ(all<restart_stream>(out).size(), 1u);
    // After the restart: no mechanisms again, and stanzas of the pair are routed.
    EXPECT_THAT(sent_xml(f.open()), ::testing::Not(HasSubstr("mechanisms")));
    auto routed = only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "bob@contoso.test")));
    EXPECT_EQ(routed.pair, auth.pair);
    EXPECT_EQ(routed.stanza.id(), "m1");
}

TEST(inbound_session, a_dialback_answer_between_the_sasl_restart_and_the_new_header_waits_for_our_header)
{
    inbound_fixture f{{requirement::required, requirement::optional, true}};
    (void)f.open();
    (void)f.secure_and_reopen();
    // TLS dialback for the partner's additional domain (its certificate names
    // fabrikam.test only: no XEP-0344 shortcut), then SASL for the stream's own.
    auto ask = only<ask_dialback>(f.receive("<db:result from='chat.fabrikam.test' to='contoso.test'>" +
                                            f.peer_key("chat.fabrikam.test", "contoso.test") + "</db:result>"));
    (void)f.receive(auth_external("fabrikam.test"));  // <success/>, restart
    auto early = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    EXPECT_EQ(sent_xml(early), "") << "nothing may precede our new stream header";
    auto reopened = f.open();
    ASSERT_FALSE(reopened.empty());
    EXPECT_TRUE(std::holds_alternative<send_header>(reopened.front()));
    EXPECT_THAT(sent_xml(reopened), HasSubstr("<db:result from='contoso.test' to='chat.fabrikam.test' type='valid'/>"));
}

TEST(inbound_session, sasl_without_an_initial_response_gets_an_empty_challenge)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    auto challenge = f.receive("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'/>");
    EXPECT_EQ(sent_xml(challenge), "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    auto out = f.receive("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</response>");
    EXPECT_EQ(only<authenticated>(out).method, auth_method::sasl_over_tls);
}

TEST(inbound_session, sasl_before_tls_is_encryption_required_and_closes)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    auto out = f.receive(auth_external("fabrikam.test"));
    EXPECT_THAT(sent_xml(out), HasSubstr("<encryption-required/>"));
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::policy_violation);
    EXPECT_TRUE(all<authenticated>(out).empty());
}

TEST(inbound_session, external_with_a_certificate_for_another_domain_is_not_authorized)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.receive(starttls);
    (void)f.tls(certificate_for("evil.test"));
    (void)f.open();
    auto out = f.receive(auth_external("fabrikam.test"));
    EXPECT_THAT(sent_xml(out), HasSubstr("<not-authorized/>"));
    EXPECT_TRUE(all<authenticated>(out).empty());
    EXPECT_THAT(only<discarded>(out).what, HasSubstr("names evil.test"));
}

TEST(inbound_session, an_authzid_other_than_the_from_domain_is_invalid_authzid)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    auto out = f.receive(auth_external("contoso.test"));
    EXPECT_THAT(sent_xml(out), HasSubstr("<invalid-authzid/>"));
    EXPECT_TRUE(all<authenticated>(out).empty());
}

TEST(inbound_session, external_is_refused_when_the_policy_allows_no_sasl)
{
    inbound_fixture f{{requirement::required, requirement::not_supported, true}};
    (void)f.open();
    (void)f.secure_and_reopen();
    EXPECT_THAT(sent_xml(f.receive(auth_external("fabrikam.test"))), HasSubstr("<invalid-mechanism/>"));
}

TEST(inbound_session, repeated_sasl_failures_end_in_policy_violation)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    EXPECT_TRUE(all<close_stream>(f.receive(auth_external("a.test"))).empty());
    EXPECT_TRUE(all<close_stream>(f.receive(auth_external("b.test"))).empty());
    auto out = f.receive(auth_external("c.test"));
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::policy_violation);
    EXPECT_EQ(only<close_stream>(out).reason, close_reason::too_many_failures);
}

TEST(inbound_session, bad_base64_is_incorrect_encoding)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    auto out = f.receive("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>@@@</auth>");
    EXPECT_THAT(sent_xml(out), HasSubstr("<incorrect-encoding/>"));
}

// ---- dialback as Receiving Server ------------------------------------------------------

TEST(inbound_session, dialback_asks_the_authoritative_server_and_answers_valid)
{
    inbound_fixture f{tcp_dialback_only()};
    auto id = only<send_header>(f.open()).id;
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", "the-key")));
    EXPECT_EQ(ask.pair, (domain_pair{"contoso.test", "fabrikam.test"}));
    EXPECT_EQ(ask.stream_id, id);
    EXPECT_EQ(ask.key, "the-key");
    auto out = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    EXPECT_EQ(sent_xml(out), "<db:result from='contoso.test' to='fabrikam.test' type='valid'/>");
    EXPECT_EQ(only<authenticated>(out).method, auth_method::tcp_dialback);
}

TEST(inbound_session, tls_dialback_with_a_certificate_valid_for_the_sender_skips_the_verification)
{
    // XEP-0344 §2.4. With a certificate for another domain, the key is checked.
    negotiation_settings tls_dialback_only{requirement::required, requirement::not_supported, true};
    inbound_fixture f{tls_dialback_only};
    (void)f.open();
    (void)f.secure_and_reopen(true);
    auto out = f.receive(db_result("fabrikam.test", "contoso.test", "whatever"));
    EXPECT_TRUE(all<ask_dialback>(out).empty());
    EXPECT_EQ(only<authenticated>(out).method, auth_method::tls_dialback);
    EXPECT_THAT(sent_xml(out), HasSubstr("type='valid'"));
    // chat.fabrikam.test is not named by that certificate: it goes to its authoritative server.
    EXPECT_EQ(all<ask_dialback>(f.receive(db_result("chat.fabrikam.test", "contoso.test", "k"))).size(), 1u);
}

TEST(inbound_session, a_forged_dialback_key_is_invalid_and_closes_the_stream)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", "forged")));
    bool valid = f.peer_secret.verify(ask.key, ask.pair.local, ask.pair.remote, ask.stream_id);
    EXPECT_FALSE(valid);
    auto out = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::invalid});
    EXPECT_THAT(sent_xml(out), HasSubstr("<db:result from='contoso.test' to='fabrikam.test' type='invalid'/>"));
    EXPECT_EQ(only<close_stream>(out).reason, close_reason::dialback_invalid);
    EXPECT_TRUE(all<authenticated>(out).empty());
}

TEST(inbound_session, an_unreachable_authoritative_server_is_a_dialback_error_not_a_stream_error)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", "k")));
    auto out = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::timeout});
    EXPECT_THAT(sent_xml(out), HasSubstr("type='error'"));
    EXPECT_THAT(sent_xml(out), HasSubstr("<remote-server-timeout"));
    EXPECT_TRUE(all<close_stream>(out).empty());
}

TEST(inbound_session, dialback_on_plaintext_without_tcp_dialback_is_a_policy_error)
{
    inbound_fixture f{{requirement::optional, requirement::not_supported, true}};
    (void)f.open();  // TLS and TCP dialback allowed: accepted on plaintext
    EXPECT_EQ(all<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", "k"))).size(), 1u);

    inbound_fixture strict{{requirement::required, requirement::not_supported, true}};
    (void)strict.open();
    auto out = strict.receive(db_result("fabrikam.test", "contoso.test", "k"));
    EXPECT_TRUE(all<ask_dialback>(out).empty());
    EXPECT_THAT(sent_xml(out), HasSubstr("<policy-violation"));
}

TEST(inbound_session, dialback_to_a_domain_we_do_not_serve_is_item_not_found)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    auto xml = sent_xml(f.receive(db_result("fabrikam.test", "elsewhere.test", "k")));
    EXPECT_THAT(xml, HasSubstr("from='elsewhere.test' to='fabrikam.test' type='error'"));
    EXPECT_THAT(xml, HasSubstr("<item-not-found"));
}

TEST(inbound_session, unsolicited_dialback_answers_are_dropped)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    // Typed db:result and db:verify are answers: never requests on an inbound stream.
    auto out = f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>"
                         "<db:verify from='fabrikam.test' to='contoso.test' id='x' type='valid'/>");
    EXPECT_EQ(all<discarded>(out).size(), 2u);
    EXPECT_TRUE(all<authenticated>(out).empty());
    // A router answer for a request this stream never made changes nothing.
    auto stray = f.handle(dialback_answer{{"contoso.test", "fabrikam.test"}, f.session->stream_id(),
                                          dialback_outcome::valid});
    EXPECT_EQ(all<discarded>(stray).size(), 1u);
    EXPECT_TRUE(f.session->authenticated_pairs().empty());
    // Nor does one carrying another stream's id.
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", "k")));
    EXPECT_EQ(all<discarded>(f.handle(dialback_answer{ask.pair, "other-stream", dialback_outcome::valid})).size(), 1u);
    EXPECT_TRUE(f.session->authenticated_pairs().empty());
}

// ---- dialback as Authoritative Server ----------------------------------------------

TEST(inbound_session, db_verify_is_answered_statelessly_from_the_secret)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    // Our key for contoso.test -> fabrikam.test on fabrikam's stream 'S1'.
    auto key = f.secret.key("fabrikam.test", "contoso.test", "S1");
    auto good = "<db:verify from='fabrikam.test' to='contoso.test' id='S1'>" + key + "</db:verify>";
    EXPECT_EQ(sent_xml(f.receive(good)),
              "<db:verify from='contoso.test' to='fabrikam.test' id='S1' type='valid'/>");
    // Another instance sharing the secret answers the same (XEP-0185).
    inbound_fixture other{tcp_dialback_only()};
    other.secret = dialback_secret::from_text("our secret");
    (void)other.open();
    EXPECT_THAT(sent_xml(other.receive(good)), HasSubstr("type='valid'"));
    // A forged key, or the right key for another stream id, is invalid.
    EXPECT_THAT(sent_xml(f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='S1'>00</db:verify>")),
                HasSubstr("type='invalid'"));
    EXPECT_THAT(sent_xml(f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='S2'>" + key +
                                   "</db:verify>")),
                HasSubstr("type='invalid'"));
    EXPECT_THAT(sent_xml(f.receive("<db:verify from='fabrikam.test' to='elsewhere.test' id='S1'>" + key +
                                   "</db:verify>")),
                HasSubstr("<item-not-found"));
}

// ---- stanzas ----------------------------------------------------------------------

TEST(inbound_session, a_stanza_before_authentication_is_not_authorized)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    auto close = only<close_stream>(f.receive(message("alice@fabrikam.test", "bob@contoso.test")));
    EXPECT_EQ(close.condition, stream_error::not_authorized);
    EXPECT_EQ(close.reason, close_reason::not_authenticated);
}

TEST(inbound_session, a_stanza_before_tls_when_tls_is_required_is_not_authorized)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    auto out = f.receive(message("alice@fabrikam.test", "bob@contoso.test"));
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::not_authorized);
    EXPECT_TRUE(all<route_stanza>(out).empty());
}

TEST(inbound_session, a_spoofed_from_on_a_multiplexed_stream_is_invalid_from)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    dialback_in(f);
    EXPECT_EQ(all<route_stanza>(f.receive(message("alice@fabrikam.test", "bob@contoso.test"))).size(), 1u);
    // chat.fabrikam.test belongs to the same partner but was never authenticated here.
    auto close = only<close_stream>(f.receive(message("room@chat.fabrikam.test", "bob@contoso.test")));
    EXPECT_EQ(close.condition, stream_error::invalid_from);
}

TEST(inbound_session, a_pair_is_authorised_alone_not_the_set_of_its_domains)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    dialback_in(f, "fabrikam.test", "contoso.test");
    // contoso-sales.test is ours too, but the pair fabrikam -> sales is not authenticated.
    auto close = only<close_stream>(f.receive(message("alice@fabrikam.test", "carol@contoso-sales.test")));
    EXPECT_EQ(close.condition, stream_error::invalid_from);
    EXPECT_THAT(close.detail, HasSubstr("contoso-sales.test"));
}

TEST(inbound_session, multiplexed_pairs_each_route_once_authenticated)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    dialback_in(f, "fabrikam.test", "contoso.test");
    dialback_in(f, "chat.fabrikam.test", "contoso-sales.test");
    EXPECT_EQ(only<route_stanza>(f.receive(message("room@chat.fabrikam.test/nick", "carol@contoso-sales.test"))).pair,
              (domain_pair{"contoso-sales.test", "chat.fabrikam.test"}));
    EXPECT_EQ(f.session->authenticated_pairs().size(), 2u);
}

TEST(inbound_session, addressing_errors_follow_rfc_6120)
{
    inbound_fixture a{tcp_dialback_only()};
    (void)a.open();
    dialback_in(a);
    EXPECT_EQ(only<close_stream>(a.receive(message("alice@fabrikam.test", "bob@elsewhere.test"))).condition,
              stream_error::host_unknown);

    inbound_fixture b{tcp_dialback_only()};
    (void)b.open();
    dialback_in(b);
    EXPECT_EQ(only<close_stream>(b.receive("<message to='bob@contoso.test'/>")).condition,
              stream_error::improper_addressing);

    inbound_fixture c{tcp_dialback_only()};
    (void)c.open();
    dialback_in(c);
    auto bounce = only<bounce_stanza>(c.receive(message("alice@fabrikam.test", "bad@@contoso.test")));
    EXPECT_EQ(bounce.reply.type(), "error");
    EXPECT_EQ(bounce.reply.to(), "alice@fabrikam.test");
    EXPECT_EQ(bounce.reply.from(), "contoso.test");
    EXPECT_EQ(bounce.pair, (domain_pair{"contoso.test", "fabrikam.test"}));
    EXPECT_FALSE(c.driver->finished());
}

TEST(inbound_session, an_unknown_top_level_element_is_unsupported_stanza_type)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    dialback_in(f);
    auto out = f.receive("<compress xmlns='http://jabber.org/protocol/compress'><method>zlib</method></compress>");
    EXPECT_EQ(only<close_stream>(out).condition, stream_error::unsupported_stanza_type);
}

// ---- time and endings ------------------------------------------------------------------

TEST(inbound_session, a_deadline_before_authentication_is_connection_timeout)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    EXPECT_EQ(only<close_stream>(f.handle(deadline_passed{})).condition, stream_error::connection_timeout);

    inbound_fixture done{tcp_dialback_only()};
    (void)done.open();
    dialback_in(done);
    EXPECT_TRUE(done.handle(deadline_passed{}).empty());
}

TEST(inbound_session, malformed_xml_closes_with_the_readers_condition)
{
    inbound_fixture f{tcp_dialback_only()};
    (void)f.open();
    auto close = only<close_stream>(f.receive("<!-- no comments -->"));
    EXPECT_EQ(close.condition, stream_error::restricted_xml);
    EXPECT_TRUE(f.receive(message("a@fabrikam.test", "b@contoso.test")).empty());
}

}  // namespace
