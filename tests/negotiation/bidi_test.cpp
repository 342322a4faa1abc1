// XEP-0288 bidirectional streams: the receiving side offers it and, once the
// pair is authenticated, lets its stream carry ours back (bidi_ready, then
// bidi_counting when the peer has decided on XEP-0198); the
// initiating side asks for it before it authenticates and then takes the
// peer's stanzas for the pair on its own stream, checked and counted.
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view bidi_feature = "<bidi xmlns='urn:xmpp:features:bidi'/>";
constexpr std::string_view bidi_request = "<bidi xmlns='urn:xmpp:bidi'/>";
constexpr std::string_view sm_feature = "<sm xmlns='urn:xmpp:sm:3'/>";
domain_pair const contoso_fabrikam{"contoso.test", "fabrikam.test"};

// ---- inbound: we receive --------------------------------------------------------

/// fabrikam.test over TLS, asking for bidi, then SASL EXTERNAL; returns what
/// our header after the SASL restart came with.
std::vector<action> inbound_bidi_over_sasl(inbound_fixture& f)
{
    (void)f.open();
    EXPECT_THAT(sent_xml(f.secure_and_reopen()), HasSubstr(bidi_feature));
    EXPECT_TRUE(f.receive(bidi_request).empty());
    EXPECT_EQ(all<bidi_ready>(f.receive(auth_external("fabrikam.test"))).size(), 0u)
        << "nothing of ours before our header on the restarted stream";
    auto reopened = f.open();
    EXPECT_EQ(only<bidi_ready>(reopened).pair, contoso_fabrikam);
    return reopened;
}

TEST(bidi, inbound_offers_it_to_a_partner_that_allows_it_and_only_before_authentication)
{
    inbound_fixture on{tls_required_sasl_optional()};
    (void)on.open();
    EXPECT_THAT(sent_xml(on.secure_and_reopen()), HasSubstr(bidi_feature));
    (void)on.receive(auth_external("fabrikam.test"));
    EXPECT_THAT(sent_xml(on.open()), Not(HasSubstr("bidi")));

    inbound_fixture off{tls_required_sasl_optional(), false, {.bidi = false}};
    (void)off.open();
    EXPECT_THAT(sent_xml(off.secure_and_reopen()), Not(HasSubstr("bidi")));
    // Asked for all the same: ignored, our stanzas go on a stream of our own.
    EXPECT_THAT(only<discarded>(off.receive(bidi_request)).what, HasSubstr("not offered"));
    (void)off.receive(auth_external("fabrikam.test"));
    EXPECT_TRUE(all<bidi_ready>(off.open()).empty());
}

TEST(bidi, inbound_waits_for_the_peer_to_enable_stream_management_then_counts_ours)
{
    inbound_fixture f{tls_required_sasl_optional()};
    auto reopened = inbound_bidi_over_sasl(f);
    EXPECT_THAT(sent_xml(reopened), HasSubstr(sm_feature));
    EXPECT_TRUE(all<bidi_counting>(reopened).empty()) << "ours wait for the peer's decision";
    EXPECT_TRUE(f.session->awaiting_bidi_decision());
    // The peer's waiting stanzas may come first (Prosody's do): still waiting.
    EXPECT_EQ(only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "bob@contoso.test"))).pair,
              contoso_fabrikam);
    EXPECT_TRUE(f.session->awaiting_bidi_decision());

    auto enabled = f.receive("<enable xmlns='urn:xmpp:sm:3'/>");
    ASSERT_EQ(enabled.size(), 2u);
    EXPECT_EQ(sent_xml(enabled), "<enabled xmlns='urn:xmpp:sm:3'/>");
    auto go = std::get<bidi_counting>(enabled.back());  // after <enabled/>, where the peer's count of ours begins
    EXPECT_EQ(go.pair, contoso_fabrikam);
    EXPECT_TRUE(go.counted);
    EXPECT_FALSE(f.session->awaiting_bidi_decision());

    // Its <a/> now count our stanzas on this stream.
    EXPECT_EQ(only<acknowledged>(f.receive("<a xmlns='urn:xmpp:sm:3' h='5'/>")).handled, 5u);
    // An error of ours ends the stream after the count of the peer's stanzas
    // (none since <enable/>).
    auto bad = f.receive("<a xmlns='urn:xmpp:sm:3' h='x'/>");
    ASSERT_EQ(bad.size(), 2u);
    EXPECT_EQ(std::get<send_ack>(bad.front()).handled, 0u);
    EXPECT_EQ(std::get<close_stream>(bad.back()).condition, stream_error::invalid_xml);
}

TEST(bidi, inbound_without_stream_management_the_stream_carries_ours_at_once)
{
    inbound_fixture f{tls_required_sasl_optional(), false, {.stream_management = false}};
    auto go = only<bidi_counting>(inbound_bidi_over_sasl(f));
    EXPECT_EQ(go.pair, contoso_fabrikam);
    EXPECT_FALSE(go.counted);
}

TEST(bidi, inbound_the_deadline_ends_the_wait_uncounted)
{
    inbound_fixture f{tls_required_sasl_optional()};
    (void)inbound_bidi_over_sasl(f);
    EXPECT_FALSE(only<bidi_counting>(f.handle(deadline_passed{})).counted);
    EXPECT_TRUE(f.handle(deadline_passed{}).empty()) << "once per stream, and no timeout once authenticated";
    // Enabled late: the peer's stanzas are counted from now on, ours never were.
    EXPECT_EQ(sent_xml(f.receive("<enable xmlns='urn:xmpp:sm:3'/>")), "<enabled xmlns='urn:xmpp:sm:3'/>");
    (void)only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "bob@contoso.test")));
    EXPECT_TRUE(f.receive("<a xmlns='urn:xmpp:sm:3' h='9'/>").empty());
    EXPECT_EQ(only<send_ack>(f.receive("<r xmlns='urn:xmpp:sm:3'/>")).handled, 1u);
}

TEST(bidi, inbound_over_dialback_once_the_key_is_verified)
{
    inbound_fixture f{tcp_dialback_only(), false, {.stream_management = false}};
    EXPECT_THAT(sent_xml(f.open()), HasSubstr(bidi_feature));
    (void)f.receive(bidi_request);
    auto ask = only<ask_dialback>(f.receive(db_result("fabrikam.test", "contoso.test", f.peer_key())));
    auto out = f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    EXPECT_THAT(sent_xml(out), HasSubstr("type='valid'"));
    EXPECT_EQ(only<bidi_ready>(out).pair, contoso_fabrikam);
    EXPECT_FALSE(only<bidi_counting>(out).counted);
    // A second pair on the same stream (multiplexing) gets no second bidi_ready.
    auto ask2 = only<ask_dialback>(
        f.receive(db_result("chat.fabrikam.test", "contoso.test", f.peer_key("chat.fabrikam.test"))));
    EXPECT_TRUE(all<bidi_ready>(f.handle(dialback_answer{ask2.pair, ask2.stream_id, dialback_outcome::valid})).empty());
}

TEST(bidi, inbound_a_request_after_authentication_or_before_tls_does_not_count)
{
    inbound_fixture late{tcp_dialback_only(), false, {.stream_management = false}};
    (void)late.open();
    auto ask = only<ask_dialback>(late.receive(db_result("fabrikam.test", "contoso.test", late.peer_key())));
    (void)late.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    EXPECT_THAT(only<discarded>(late.receive(bidi_request)).what, HasSubstr("after authentication"));

    // TLS starts a new stream: what was asked before it is forgotten (XEP-0288 §2.1).
    inbound_fixture early{tls_required_sasl_optional(), false, {.stream_management = false}};
    (void)early.open();
    (void)early.receive(bidi_request);
    (void)early.secure_and_reopen();
    (void)early.receive(auth_external("fabrikam.test"));
    auto reopened = early.open();
    EXPECT_TRUE(all<bidi_ready>(reopened).empty());
    EXPECT_TRUE(all<bidi_counting>(reopened).empty());
}

TEST(bidi, inbound_no_sasl_restart_once_the_stream_carries_ours)
{
    // TLS dialback answered at once (XEP-0344: the certificate names the
    // sender), then SASL: its restart would put our stanzas before our header.
    inbound_fixture f{tls_required_sasl_optional()};
    (void)f.open();
    (void)f.secure_and_reopen();
    (void)f.receive(bidi_request);
    auto out = f.receive(db_result("fabrikam.test", "contoso.test"));
    EXPECT_EQ(only<bidi_ready>(out).pair, contoso_fabrikam);
    auto refused = only<close_stream>(f.receive(auth_external("fabrikam.test")));
    EXPECT_EQ(refused.condition, stream_error::policy_violation);
    EXPECT_THAT(refused.detail, HasSubstr("already carries our stanzas"));
}

// ---- outbound: we initiate --------------------------------------------------------

/// contoso.test -> fabrikam.test over TLS and SASL EXTERNAL, the peer offering
/// `features` (inner XML) beside EXTERNAL after TLS; returns what we sent then.
std::vector<action> outbound_over_sasl(outbound_fixture& f, std::string_view features)
{
    (void)f.start();
    (void)f.peer_opens(std::string{starttls_feature} + std::string{features});
    (void)f.receive("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    (void)f.handle(tls_established{certificate_for("fabrikam.test", true)});
    return f.peer_opens(std::string{external_feature} + std::string{features}, "peer-2");
}

TEST(bidi, outbound_asks_for_it_after_tls_and_before_authenticating)
{
    outbound_fixture f{tls_required_sasl_optional()};
    auto out = outbound_over_sasl(f, bidi_feature);
    EXPECT_THAT(sent_xml(out), ::testing::StartsWith(std::string{bidi_request} + "<auth "));
    (void)f.receive("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    auto auth = only<authenticated>(f.peer_opens("", "peer-3"));
    EXPECT_TRUE(auth.bidi);
    EXPECT_EQ(auth.method, auth_method::sasl_over_tls);
}

TEST(bidi, outbound_does_not_ask_when_not_offered_switched_off_or_only_verifying)
{
    outbound_fixture not_offered{tls_required_sasl_optional()};
    EXPECT_THAT(sent_xml(outbound_over_sasl(not_offered, "")), Not(HasSubstr("bidi")));

    outbound_fixture off{tls_required_sasl_optional(), outbound_purpose::route, false, {.bidi = false}};
    EXPECT_THAT(sent_xml(outbound_over_sasl(off, bidi_feature)), Not(HasSubstr("bidi")));

    outbound_fixture verifier{tcp_dialback_only(), outbound_purpose::verify_only};
    (void)verifier.start();
    EXPECT_THAT(sent_xml(verifier.peer_opens(std::string{dialback_feature} + std::string{bidi_feature})),
                Not(HasSubstr("bidi")));
}

/// Through TCP dialback with bidi asked for; `features` beside dialback and bidi.
void outbound_bidi_over_dialback(outbound_fixture& f, std::string_view features = "")
{
    (void)f.start();
    auto request = f.peer_opens(std::string{dialback_feature} + std::string{bidi_feature} + std::string{features});
    EXPECT_THAT(sent_xml(request), ::testing::StartsWith(std::string{bidi_request} + "<db:result"));
    (void)f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
}

TEST(bidi, outbound_routes_the_peers_stanzas_for_the_pair_and_nothing_else)
{
    outbound_fixture f{tcp_dialback_only()};
    outbound_bidi_over_dialback(f);
    auto routed = only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "bob@contoso.test")));
    EXPECT_EQ(routed.pair, contoso_fabrikam);
    EXPECT_EQ(routed.addresses.from.domain(), "fabrikam.test");
    // A 'to' that is no JID is bounced on our own stream's behalf.
    EXPECT_EQ(only<bounce_stanza>(f.receive(message("alice@fabrikam.test/phone", "@contoso.test"))).pair,
              contoso_fabrikam);

    outbound_fixture other_sender{tcp_dialback_only()};
    outbound_bidi_over_dialback(other_sender);
    EXPECT_EQ(only<close_stream>(other_sender.receive(message("mallory@evil.test", "bob@contoso.test"))).condition,
              stream_error::invalid_from);

    outbound_fixture other_recipient{tcp_dialback_only()};
    outbound_bidi_over_dialback(other_recipient);
    EXPECT_EQ(only<close_stream>(other_recipient.receive(message("alice@fabrikam.test", "eve@elsewhere.test")))
                  .condition,
              stream_error::host_unknown);
}

TEST(bidi, outbound_without_bidi_a_peer_stanza_ends_the_stream)
{
    outbound_fixture f{tcp_dialback_only(), outbound_purpose::route, false, {.bidi = false}};
    (void)f.start();
    (void)f.peer_opens(std::string{dialback_feature} + std::string{bidi_feature});
    (void)f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
    EXPECT_EQ(only<close_stream>(f.receive(message("alice@fabrikam.test", "bob@contoso.test"))).condition,
              stream_error::not_authorized);
}

TEST(bidi, outbound_a_stanza_before_we_are_authenticated_ends_the_stream)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)f.start();
    (void)f.peer_opens(std::string{dialback_feature} + std::string{bidi_feature});
    EXPECT_EQ(only<close_stream>(f.receive(message("alice@fabrikam.test", "bob@contoso.test"))).condition,
              stream_error::not_authorized);
}

TEST(bidi, outbound_counts_the_peers_stanzas_from_enabled_on)
{
    outbound_fixture f{tcp_dialback_only()};
    outbound_bidi_over_dialback(f, sm_feature);
    // Before <enabled/>: routed, not counted (the peer's queue begins there too).
    (void)only<route_stanza>(f.receive(message("alice@fabrikam.test", "bob@contoso.test")));
    EXPECT_TRUE(only<authenticated>(f.receive("<enabled xmlns='urn:xmpp:sm:3'/>")).stream_management);
    (void)only<route_stanza>(f.receive(message("alice@fabrikam.test", "bob@contoso.test")));
    (void)only<route_stanza>(f.receive(message("alice@fabrikam.test", "carol@contoso.test")));
    EXPECT_EQ(only<send_ack>(f.receive("<r xmlns='urn:xmpp:sm:3'/>")).handled, 2u);
}

TEST(bidi, outbound_a_last_count_of_the_peers_stanzas_before_a_clean_close)
{
    outbound_fixture f{tcp_dialback_only()};
    outbound_bidi_over_dialback(f, sm_feature);
    (void)f.receive("<enabled xmlns='urn:xmpp:sm:3'/>");
    (void)f.receive(message("alice@fabrikam.test", "bob@contoso.test") + message("alice@fabrikam.test", "carol@contoso.test"));
    auto closing = f.receive("</stream:stream>");
    ASSERT_FALSE(closing.empty());
    EXPECT_EQ(std::get<send_ack>(closing.front()).handled, 2u);
    EXPECT_EQ(only<close_stream>(closing).reason, close_reason::peer_closed);
}

TEST(bidi, outbound_a_last_count_before_an_error_of_ours_leaves_out_the_stanza_refused)
{
    outbound_fixture f{tcp_dialback_only()};
    outbound_bidi_over_dialback(f, sm_feature);
    (void)f.receive("<enabled xmlns='urn:xmpp:sm:3'/>");
    (void)f.receive(message("alice@fabrikam.test", "bob@contoso.test") + message("alice@fabrikam.test", "carol@contoso.test"));
    auto refused = f.receive(message("mallory@evil.test", "bob@contoso.test"));
    ASSERT_EQ(refused.size(), 2u);
    EXPECT_EQ(std::get<send_ack>(refused.front()).handled, 2u);
    EXPECT_EQ(std::get<close_stream>(refused.back()).condition, stream_error::invalid_from);
}

TEST(bidi, outbound_a_dialback_request_of_the_peer_on_our_stream_is_refused_with_an_error)
{
    outbound_fixture f{tcp_dialback_only()};
    outbound_bidi_over_dialback(f);
    auto out = f.receive("<db:result from='conference.fabrikam.test' to='contoso.test'>key</db:result>");
    EXPECT_THAT(sent_xml(out), HasSubstr("<db:result from='contoso.test' to='conference.fabrikam.test' type='error'>"));
    EXPECT_TRUE(all<close_stream>(out).empty());
}

// ---- both ends -----------------------------------------------------------------------

TEST(bidi, two_gateways_agree_on_it_over_the_wire)
{
    auto outcome = run_wire({.receiver_policy = tls_required_sasl_optional(),
                             .initiator_policy = tls_required_sasl_optional(),
                             .receiver_extensions = {.stream_management = false},
                             .initiator_extensions = {.stream_management = false}});
    ASSERT_TRUE(outcome.outbound_auth);
    EXPECT_TRUE(outcome.outbound_auth->bidi);
    auto ready = all<bidi_ready>(outcome.inbound_actions);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready.front().pair, (domain_pair{"contoso.test", "fabrikam.test"}));
}

}  // namespace
