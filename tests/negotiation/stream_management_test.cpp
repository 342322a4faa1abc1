// XEP-0198 on S2S, acknowledgements only: the initiating side enables it after
// authentication when offered, the receiving side counts and answers.
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;

constexpr std::string_view sm_feature = "<sm xmlns='urn:xmpp:sm:3'/>";

/// An outbound stream through TCP dialback (valid), the peer's features as given.
std::vector<action> outbound_through_dialback(outbound_fixture& f, std::string_view features)
{
    (void)f.start();
    auto request = f.peer_opens(std::string{dialback_feature} + std::string{features});
    EXPECT_THAT(sent_xml(request), HasSubstr("<db:result"));
    return f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
}

TEST(stream_management, outbound_enables_it_after_authentication_and_waits_for_the_answer)
{
    outbound_fixture f{tcp_dialback_only()};
    auto out = outbound_through_dialback(f, sm_feature);
    EXPECT_EQ(sent_xml(out), "<enable xmlns='urn:xmpp:sm:3'/>");
    EXPECT_TRUE(all<authenticated>(out).empty()) << "no stanza before the peer starts counting";
    EXPECT_FALSE(f.session->established());
    auto enabled = only<authenticated>(f.receive("<enabled xmlns='urn:xmpp:sm:3'/>"));
    EXPECT_TRUE(enabled.stream_management);
    EXPECT_EQ(enabled.method, auth_method::tcp_dialback);
    EXPECT_TRUE(f.session->established());

    EXPECT_EQ(only<acknowledged>(f.receive("<a xmlns='urn:xmpp:sm:3' h='7'/>")).handled, 7u);
    EXPECT_EQ(only<acknowledged>(f.receive("<a xmlns='urn:xmpp:sm:3' h='4294967295'/>")).handled, 4294967295u);
    // The peer asks too: it has been sent no stanza on our stream.
    EXPECT_EQ(sent_xml(f.receive("<r xmlns='urn:xmpp:sm:3'/>")), "<a xmlns='urn:xmpp:sm:3' h='0'/>");
}

TEST(stream_management, outbound_a_count_that_is_not_one_ends_the_stream)
{
    for (auto const* bad : {"<a xmlns='urn:xmpp:sm:3'/>", "<a xmlns='urn:xmpp:sm:3' h='-1'/>",
                            "<a xmlns='urn:xmpp:sm:3' h='4294967296'/>", "<a xmlns='urn:xmpp:sm:3' h='12x'/>"}) {
        outbound_fixture f{tcp_dialback_only()};
        (void)outbound_through_dialback(f, sm_feature);
        (void)f.receive("<enabled xmlns='urn:xmpp:sm:3'/>");
        auto close = only<close_stream>(f.receive(bad));
        EXPECT_EQ(close.condition, stream_error::invalid_xml) << bad;
        EXPECT_EQ(close.reason, close_reason::bad_input) << bad;
    }
}

TEST(stream_management, outbound_a_refusal_leaves_the_stream_without_acknowledgements)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)outbound_through_dialback(f, sm_feature);
    auto out = f.receive(
        "<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    EXPECT_FALSE(only<authenticated>(out).stream_management);
    EXPECT_THAT(only<discarded>(out).what, HasSubstr("refused to enable stream management"));
    // Acknowledgements on a stream without them are a protocol error.
    EXPECT_EQ(only<close_stream>(f.receive("<a xmlns='urn:xmpp:sm:3' h='1'/>")).condition,
              stream_error::unsupported_stanza_type);
}

TEST(stream_management, outbound_not_offered_or_switched_off_is_not_enabled)
{
    outbound_fixture not_offered{tcp_dialback_only()};
    auto plain = outbound_through_dialback(not_offered, "");
    EXPECT_FALSE(only<authenticated>(plain).stream_management);
    EXPECT_EQ(sent_xml(plain), "");

    outbound_fixture switched_off{tcp_dialback_only(), outbound_purpose::route, false, {.stream_management = false}};
    auto off = outbound_through_dialback(switched_off, sm_feature);
    EXPECT_FALSE(only<authenticated>(off).stream_management);
    EXPECT_EQ(sent_xml(off), "");
}

TEST(stream_management, outbound_the_features_after_the_sasl_restart_decide)
{
    outbound_fixture f{{requirement::required, requirement::optional, true}};
    (void)f.start();
    (void)f.peer_opens(starttls_feature);
    (void)f.receive("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    (void)f.handle(tls_established{certificate_for("fabrikam.test", true)});
    (void)f.peer_opens(std::string{external_feature}, "peer-2");
    (void)f.receive("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    auto out = f.peer_opens(sm_feature, "peer-3");
    EXPECT_EQ(sent_xml(out), "<enable xmlns='urn:xmpp:sm:3'/>");
    EXPECT_TRUE(only<authenticated>(f.receive("<enabled xmlns='urn:xmpp:sm:3'/>")).stream_management);
}

TEST(stream_management, outbound_a_deadline_while_waiting_for_the_answer_is_a_timeout)
{
    outbound_fixture f{tcp_dialback_only()};
    (void)outbound_through_dialback(f, sm_feature);
    EXPECT_EQ(only<close_stream>(f.handle(deadline_passed{})).reason, close_reason::timeout);
}

// ---- inbound -------------------------------------------------------------------

/// An inbound stream from fabrikam.test authenticated by TCP dialback.
void inbound_through_dialback(inbound_fixture& f)
{
    auto header = f.open();
    EXPECT_THAT(sent_xml(header), HasSubstr(sm_feature));
    auto ask = only<ask_dialback>(f.receive("<db:result from='fabrikam.test' to='contoso.test'>" + f.peer_key() +
                                            "</db:result>"));
    (void)f.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
}

TEST(stream_management, inbound_counts_every_stanza_handled_and_answers_requests)
{
    inbound_fixture f{tcp_dialback_only()};
    inbound_through_dialback(f);
    EXPECT_EQ(sent_xml(f.receive("<enable xmlns='urn:xmpp:sm:3'/>")), "<enabled xmlns='urn:xmpp:sm:3'/>");
    (void)only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "bob@contoso.test")));
    (void)only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "carol@contoso.test")));
    // A stanza to an invalid JID is answered with an error: handled too.
    (void)only<bounce_stanza>(f.receive(message("alice@fabrikam.test/phone", "@contoso.test")));
    EXPECT_EQ(only<send_ack>(f.receive("<r xmlns='urn:xmpp:sm:3'/>")).handled, 3u);
    // Its own count of what we sent it: nothing.
    EXPECT_TRUE(f.receive("<a xmlns='urn:xmpp:sm:3' h='0'/>").empty());
    // A last count before its </stream:stream> is answered.
    auto closing = f.receive("</stream:stream>");
    EXPECT_EQ(only<send_ack>(closing).handled, 3u);
    EXPECT_TRUE(std::holds_alternative<send_ack>(closing.front()));
}

/// An inbound stream through TCP dialback with stream management enabled and
/// `stanzas` messages routed on it since.
void enabled_with_routed(inbound_fixture& f, int stanzas)
{
    inbound_through_dialback(f);
    (void)f.receive("<enable xmlns='urn:xmpp:sm:3'/>");
    for (int i = 0; i < stanzas; ++i)
        (void)only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "bob@contoso.test")));
}

TEST(stream_management, inbound_an_error_of_ours_comes_after_the_count_of_what_was_passed_on)
{
    // A 'from' of a domain the stream never authenticated: the stream ends, and
    // that stanza is left out of the count, for the peer to bounce.
    inbound_fixture f{tcp_dialback_only()};
    enabled_with_routed(f, 2);
    auto spoofed = f.receive(message("mallory@evil.test/x", "bob@contoso.test"));
    ASSERT_EQ(spoofed.size(), 2u);
    EXPECT_EQ(std::get<send_ack>(spoofed.front()).handled, 2u);
    EXPECT_EQ(std::get<close_stream>(spoofed.back()).condition, stream_error::invalid_from);

    // An element the stream does not know, after a stanza: the count first.
    inbound_fixture g{tcp_dialback_only()};
    enabled_with_routed(g, 1);
    auto unknown = g.receive("<surprise xmlns='urn:example:surprise'/>");
    ASSERT_EQ(unknown.size(), 2u);
    EXPECT_EQ(std::get<send_ack>(unknown.front()).handled, 1u);
    EXPECT_EQ(std::get<close_stream>(unknown.back()).condition, stream_error::unsupported_stanza_type);

    // The peer's own stream error: its stream has ended, no count.
    inbound_fixture h{tcp_dialback_only()};
    enabled_with_routed(h, 1);
    (void)only<close_stream>(
        h.receive("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"));

    // Stream management never enabled: an error comes alone.
    inbound_fixture off{tcp_dialback_only()};
    inbound_through_dialback(off);
    (void)only<route_stanza>(off.receive(message("alice@fabrikam.test/phone", "bob@contoso.test")));
    (void)only<close_stream>(off.receive(message("mallory@evil.test/x", "bob@contoso.test")));
}

TEST(stream_management, inbound_the_count_a_close_of_ours_sends_first)
{
    // Before <enable/>, no count: the peer takes nothing as delivered.
    inbound_fixture f{tcp_dialback_only()};
    inbound_through_dialback(f);
    EXPECT_EQ(f.session->handled_count(), std::nullopt);
    (void)f.receive("<enable xmlns='urn:xmpp:sm:3'/>");
    EXPECT_EQ(f.session->handled_count(), 0u);
    (void)only<route_stanza>(f.receive(message("alice@fabrikam.test/phone", "bob@contoso.test")));
    (void)only<bounce_stanza>(f.receive(message("alice@fabrikam.test/phone", "@contoso.test")));
    EXPECT_EQ(f.session->handled_count(), 2u) << "every stanza handled, routed or answered";

    // Switched off for the partner: its <enable/> refused, never a count.
    inbound_fixture off{tcp_dialback_only(), false, {.stream_management = false}};
    (void)off.open();
    auto ask = only<ask_dialback>(
        off.receive("<db:result from='fabrikam.test' to='contoso.test'>" + off.peer_key() + "</db:result>"));
    (void)off.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    (void)off.receive("<enable xmlns='urn:xmpp:sm:3'/>");
    (void)off.receive(message("alice@fabrikam.test/phone", "bob@contoso.test"));
    EXPECT_EQ(off.session->handled_count(), std::nullopt);
}

TEST(stream_management, outbound_a_close_of_ours_sends_no_count)
{
    // Whether a XEP-0288 peer keeps its own stanzas on our stream for its
    // stream management is not known: what it sends after our close is passed
    // on rather than left to it, so no count is given either.
    outbound_fixture f{tcp_dialback_only()};
    (void)outbound_through_dialback(f, sm_feature);
    (void)f.receive("<enabled xmlns='urn:xmpp:sm:3'/>");
    EXPECT_TRUE(f.session->stream_management());
    EXPECT_EQ(f.session->handled_count(), std::nullopt);
}

TEST(stream_management, inbound_refuses_to_enable_before_authentication_twice_or_when_switched_off)
{
    inbound_fixture early{tcp_dialback_only()};
    (void)early.open();
    EXPECT_THAT(sent_xml(early.receive("<enable xmlns='urn:xmpp:sm:3'/>")),
                HasSubstr("<failed xmlns='urn:xmpp:sm:3'><unexpected-request"));

    inbound_fixture twice{tcp_dialback_only()};
    inbound_through_dialback(twice);
    (void)twice.receive("<enable xmlns='urn:xmpp:sm:3'/>");
    EXPECT_THAT(sent_xml(twice.receive("<enable xmlns='urn:xmpp:sm:3'/>")), HasSubstr("<unexpected-request"));

    inbound_fixture off{tcp_dialback_only(), false, {.stream_management = false}};
    EXPECT_THAT(sent_xml(off.open()), ::testing::Not(HasSubstr("urn:xmpp:sm:3")));
    auto ask = only<ask_dialback>(
        off.receive("<db:result from='fabrikam.test' to='contoso.test'>" + off.peer_key() + "</db:result>"));
    (void)off.handle(dialback_answer{ask.pair, ask.stream_id, dialback_outcome::valid});
    EXPECT_THAT(sent_xml(off.receive("<enable xmlns='urn:xmpp:sm:3'/>")), HasSubstr("<feature-not-implemented"));
}

TEST(stream_management, inbound_resumption_is_refused_and_acks_of_what_we_never_sent_end_the_stream)
{
    inbound_fixture f{tcp_dialback_only()};
    inbound_through_dialback(f);
    EXPECT_THAT(sent_xml(f.receive("<resume xmlns='urn:xmpp:sm:3' h='0' previd='x'/>")), HasSubstr("<item-not-found"));
    (void)f.receive("<enable xmlns='urn:xmpp:sm:3'/>");
    auto close = only<close_stream>(f.receive("<a xmlns='urn:xmpp:sm:3' h='2'/>"));
    EXPECT_EQ(close.condition, stream_error::undefined_condition);
}

TEST(stream_management, inbound_a_request_before_enabling_is_not_understood)
{
    inbound_fixture f{tcp_dialback_only()};
    inbound_through_dialback(f);
    EXPECT_EQ(only<close_stream>(f.receive("<r xmlns='urn:xmpp:sm:3'/>")).condition,
              stream_error::unsupported_stanza_type);
}

TEST(stream_management, two_gateways_enable_it_over_the_wire)
{
    auto outcome = run_wire({.receiver_policy = {requirement::required, requirement::optional, true},
                             .initiator_policy = {requirement::required, requirement::optional, true}});
    ASSERT_TRUE(outcome.outbound_auth);
    EXPECT_EQ(outcome.outbound_auth->method, auth_method::sasl_over_tls);
    EXPECT_TRUE(outcome.outbound_auth->stream_management);
}

}  // namespace
