// The initiating side against scripted peers: what fedgate sends, what it
// accepts, and the reason it gives when it cannot federate.
#include "negotiation/base64.hpp"
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;

negotiation_settings require_tls_policy()
{
    return {requirement::required, requirement::optional, true};
}

/// Through STARTTLS to the post-TLS features, with fabrikam's certificate as given.
std::vector<action> secure(outbound_fixture& f, std::string_view features, bool certificate_valid = true)
{
    (void)f.start();
    auto out = f.peer_opens(starttls_feature);
    EXPECT_EQ(sent_xml(out), "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    auto tls = f.receive("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    auto begin = only<begin_tls>(tls);
    EXPECT_EQ(begin.role, tls_role::client);
    EXPECT_EQ(begin.server_name, "fabrikam.test");
    EXPECT_EQ(begin.local_domain, "contoso.test");
    EXPECT_EQ(all<restart_stream>(tls).size(), 1u);
    // Restart first: the header sent after the handshake opens the new stream.
    EXPECT_TRUE(std::holds_alternative<restart_stream>(tls.front()));
    EXPECT_TRUE(std::holds_alternative<begin_tls>(tls.back()));
    auto header = only<send_header>(f.handle(tls_established{certificate_for("fabrikam.test", certificate_valid)}));
    EXPECT_EQ(header.from, "contoso.test");
    EXPECT_EQ(header.to, "fabrikam.test");
    return f.peer_opens(features, "peer-2");
}

TEST(outbound_session, opens_with_from_local_and_to_remote)
{
    outbound_fixture f;
    auto header = only<send_header>(f.start());
    EXPECT_EQ(header.from, "contoso.test");
    EXPECT_EQ(header.to, "fabrikam.test");
    EXPECT_EQ(header.id, "");
}

TEST(outbound_session, no_sasl_before_tls_when_policy_requires_tls)
{
    outbound_fixture f{require_tls_policy()};
    (void)f.start();
    auto out = f.peer_opens(std::string{external_feature} + std::string{dialback_feature});  // no <starttls/>
    auto close = only<close_stream>(out);
    EXPECT_EQ(close.condition, stream_error::policy_violation);
    EXPECT_EQ(close.reason, close_reason::tls_not_offered);
    EXPECT_TRUE(all<send_element>(out).empty());
}

TEST(outbound_session, a_peer_that_requires_tls_is_refused_when_tls_is_not_supported)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    auto close = only<close_stream>(f.peer_opens(std::string{starttls_required_feature} + std::string{dialback_feature}));
    EXPECT_EQ(close.reason, close_reason::tls_refused);
}

TEST(outbound_session, tls_not_supported_never_negotiates_tls_even_when_offered)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    auto out = f.peer_opens(std::string{starttls_feature} + std::string{dialback_feature});
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("starttls")));
    EXPECT_THAT(sent_xml(out), HasSubstr("<db:result from='contoso.test' to='fabrikam.test'>"));
}

TEST(outbound_session, sasl_external_asserts_our_domain_and_restarts)
{
    outbound_fixture f{require_tls_policy()};
    auto out = secure(f, std::string{external_feature} + std::string{dialback_feature});
    auto auth = only<send_element>(out).element;
    EXPECT_EQ(auth.attribute_or_empty("mechanism"), "EXTERNAL");
    EXPECT_EQ(fedgate::negotiation::sasl_base64_decode(auth.text()), "contoso.test");
    auto success = f.receive("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    EXPECT_EQ(all<restart_stream>(success).size(), 1u);
    EXPECT_EQ(all<send_header>(success).size(), 1u);
    EXPECT_FALSE(f.session->established());
    auto done = f.peer_opens("", "peer-3");
    auto authenticated_pair = only<authenticated>(done);
    EXPECT_EQ(authenticated_pair.pair, (domain_pair{"contoso.test", "fabrikam.test"}));
    EXPECT_EQ(authenticated_pair.method, auth_method::sasl_over_tls);
    EXPECT_TRUE(f.session->established());
}

TEST(outbound_session, an_invalid_peer_certificate_rules_out_sasl_and_falls_back_to_tls_dialback)
{
    outbound_fixture f{require_tls_policy()};
    auto out = secure(f, std::string{external_feature} + std::string{dialback_feature}, false);
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("<auth")));
    auto request = only<send_element>(out).element;
    EXPECT_TRUE(request.is("result", fedgate::protocol::ns::dialback));
    // XEP-0185 key over the receiving server's id of the *current* stream.
    EXPECT_EQ(request.text(), f.secret.key("fabrikam.test", "contoso.test", "peer-2"));
    auto valid = f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
    EXPECT_EQ(only<authenticated>(valid).method, auth_method::tls_dialback);
}

TEST(outbound_session, an_invalid_certificate_with_sasl_as_the_only_method_is_certificate_invalid)
{
    outbound_fixture f{{requirement::required, requirement::required, false}};
    auto close = only<close_stream>(secure(f, external_feature, false));
    EXPECT_EQ(close.reason, close_reason::certificate_invalid);
    EXPECT_THAT(close.detail, HasSubstr("not trusted"));
}

TEST(outbound_session, refused_external_falls_back_to_dialback_or_fails_with_the_condition)
{
    outbound_fixture fallback{require_tls_policy()};
    (void)secure(fallback, std::string{external_feature} + std::string{dialback_feature});
    auto out = fallback.receive("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
    EXPECT_THAT(sent_xml(out), HasSubstr("<db:result"));

    outbound_fixture strict{{requirement::required, requirement::required, false}};
    (void)secure(strict, external_feature);
    auto close = only<close_stream>(
        strict.receive("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"));
    EXPECT_EQ(close.reason, close_reason::sasl_failed);
    EXPECT_THAT(close.detail, HasSubstr("not-authorized"));
}

TEST(outbound_session, no_common_method_names_what_is_allowed)
{
    // Only SASL allowed, but the peer offers no EXTERNAL.
    outbound_fixture f{{requirement::required, requirement::required, false}};
    auto close = only<close_stream>(secure(f, dialback_feature));
    EXPECT_EQ(close.reason, close_reason::no_common_method);
    EXPECT_THAT(close.detail, HasSubstr("allowed: SASL over TLS"));
}

TEST(outbound_session, features_received_twice_are_refused)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    (void)f.peer_opens(dialback_feature);
    auto close = only<close_stream>(f.receive("<stream:features/>"));
    EXPECT_EQ(close.condition, stream_error::policy_violation);
}

TEST(outbound_session, dialback_answers_must_match_our_request)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    // Before we asked anything, a valid answer is unsolicited.
    auto early = f.receive(peer_header("fabrikam.test", "contoso.test", "peer-1") +
                           "<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
    EXPECT_EQ(all<discarded>(early).size(), 1u);
    EXPECT_FALSE(f.session->established());
    auto features = "<stream:features>" + std::string{dialback_feature} + "</stream:features>";
    EXPECT_THAT(sent_xml(f.receive(features)), HasSubstr("<db:result"));
    // An answer for another pair does not authenticate ours.
    auto other = f.receive("<db:result from='evil.test' to='contoso.test' type='valid'/>");
    EXPECT_EQ(all<discarded>(other).size(), 1u);
    EXPECT_FALSE(f.session->established());
    auto invalid = only<close_stream>(f.receive("<db:result from='fabrikam.test' to='contoso.test' type='invalid'/>"));
    EXPECT_EQ(invalid.reason, close_reason::dialback_invalid);
}

TEST(outbound_session, a_dialback_error_ends_with_dialback_error)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    (void)f.peer_opens(dialback_feature);
    auto close = only<close_stream>(
        f.receive("<db:result from='fabrikam.test' to='contoso.test' type='error'><error type='cancel'>"
                  "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></db:result>"));
    EXPECT_EQ(close.reason, close_reason::dialback_error);
}

TEST(outbound_session, a_stream_error_from_the_peer_is_reported_by_condition)
{
    outbound_fixture f;
    (void)f.start();
    auto close = only<close_stream>(
        f.receive(peer_header("fabrikam.test", "contoso.test", "x") +
                  "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                  "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>go away</text></stream:error>"));
    EXPECT_EQ(close.reason, close_reason::stream_error_received);
    EXPECT_FALSE(close.condition);  // never answer an error with an error
    EXPECT_THAT(close.detail, HasSubstr("<policy-violation/>: go away"));
}

TEST(outbound_session, stanzas_on_an_outbound_stream_are_not_authorized)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    (void)f.peer_opens(dialback_feature);
    (void)f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
    ASSERT_TRUE(f.session->established());
    auto close = only<close_stream>(f.receive("<message from='a@fabrikam.test' to='b@contoso.test'/>"));
    EXPECT_EQ(close.condition, stream_error::not_authorized);
}

TEST(outbound_session, direct_tls_starts_with_the_handshake_and_never_starttls)
{
    outbound_fixture f{require_tls_policy(), outbound_purpose::route, true};
    auto begin = only<begin_tls>(f.start());
    EXPECT_EQ(begin.server_name, "fabrikam.test");
    EXPECT_EQ(only<send_header>(f.handle(tls_established{certificate_for("fabrikam.test")})).to, "fabrikam.test");
    auto out = f.peer_opens(std::string{external_feature});
    EXPECT_THAT(sent_xml(out), HasSubstr("mechanism='EXTERNAL'"));
}

TEST(outbound_session, a_deadline_before_establishment_is_a_timeout)
{
    outbound_fixture f;
    (void)f.start();
    auto close = only<close_stream>(f.handle(deadline_passed{}));
    EXPECT_EQ(close.reason, close_reason::timeout);
}

// ---- db:verify for the router ------------------------------------------------------

verify_request a_request(std::string id = "their-stream")
{
    return {{"contoso.test", "fabrikam.test"}, std::move(id), "the-key"};
}

TEST(outbound_session, verify_requests_wait_for_the_stream_and_match_their_answers)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    EXPECT_TRUE(f.handle(a_request()).empty());  // queued: not authenticated yet
    (void)f.peer_opens(dialback_feature);
    auto ready = f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
    EXPECT_THAT(sent_xml(ready),
                HasSubstr("<db:verify from='contoso.test' to='fabrikam.test' id='their-stream'>the-key</db:verify>"));
    // An answer with another id is not ours.
    auto stray = f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='other' type='valid'/>");
    EXPECT_EQ(all<discarded>(stray).size(), 1u);
    auto answer = only<dialback_verified>(
        f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='their-stream' type='invalid'/>"));
    EXPECT_EQ(answer.outcome, dialback_outcome::invalid);
    EXPECT_EQ(answer.request.stream_id, "their-stream");
    // Answered once: a replay is unsolicited.
    auto replay = f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='their-stream' type='valid'/>");
    EXPECT_TRUE(all<dialback_verified>(replay).empty());
}

TEST(outbound_session, a_verify_request_for_another_pair_is_never_sent_on_this_stream)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}};
    (void)f.start();
    (void)f.peer_opens(dialback_feature);
    (void)f.receive("<db:result from='fabrikam.test' to='contoso.test' type='valid'/>");
    // northwind.test's key asked on our stream to fabrikam.test: fabrikam's server
    // must not be the one to say whether it is valid.
    auto out = f.handle(verify_request{{"contoso.test", "northwind.test"}, "s9", "the-key"});
    EXPECT_THAT(sent_xml(out), Not(HasSubstr("db:verify")));
    auto refused = only<dialback_verified>(out);
    EXPECT_EQ(refused.outcome, dialback_outcome::unreachable);
    EXPECT_EQ(refused.request.pair.remote, "northwind.test");
}

TEST(outbound_session, pending_verifications_fail_when_the_stream_ends)
{
    outbound_fixture f{{requirement::not_supported, requirement::not_supported, true}, outbound_purpose::verify_only};
    (void)f.start();
    (void)f.handle(a_request("s1"));
    EXPECT_THAT(sent_xml(f.peer_opens(dialback_feature)), HasSubstr("<db:verify"));
    (void)f.handle(a_request("s2"));
    auto out = f.handle(transport_closed{"reset by peer"});
    auto failed = all<dialback_verified>(out);
    ASSERT_EQ(failed.size(), 2u);
    EXPECT_EQ(failed[0].outcome, dialback_outcome::timeout);
}

TEST(outbound_session, a_verification_stream_closes_when_its_answers_are_in)
{
    outbound_fixture f{{requirement::optional, requirement::not_supported, true}, outbound_purpose::verify_only};
    (void)f.start();
    (void)f.handle(a_request());
    // TLS first, as the policy prefers it; no authentication on a verify-only stream.
    auto out = secure(f, dialback_feature);
    EXPECT_THAT(sent_xml(out), HasSubstr("<db:verify"));
    EXPECT_THAT(sent_xml(out), ::testing::Not(HasSubstr("<db:result")));
    auto done = f.receive("<db:verify from='fabrikam.test' to='contoso.test' id='their-stream' type='valid'/>");
    EXPECT_EQ(only<dialback_verified>(done).outcome, dialback_outcome::valid);
    EXPECT_EQ(only<close_stream>(done).reason, close_reason::done);
}

// ---- the Authoritative Server at the other end -------------------------------------------

TEST(outbound_session, a_verification_answered_by_a_real_inbound_session)
{
    // contoso.test (Receiving Server) asks fabrikam.test's gateway whether a key
    // that fabrikam's initiating side presented is genuine.
    auto fabrikam_secret = dialback_secret::from_text("fabrikam secret");
    directory fabrikam;
    fabrikam.add_local_domain("fabrikam.test");
    fabrikam.add_partner("contoso.test", {}, {requirement::not_supported, requirement::not_supported, true});
    auto sasl = make_cyrus_sasl_server();
    inbound_session authoritative{{.domains = &fabrikam, .secret = &fabrikam_secret, .sasl = sasl.get()}};
    stream_driver authoritative_driver{authoritative};

    outbound_fixture asking{{requirement::not_supported, requirement::not_supported, true},
                            outbound_purpose::verify_only};
    auto genuine = fabrikam_secret.key("contoso.test", "fabrikam.test", "in-1");
    (void)asking.handle(verify_request{{"contoso.test", "fabrikam.test"}, "in-1", genuine});
    (void)asking.handle(verify_request{{"contoso.test", "fabrikam.test"}, "in-2", genuine});  // wrong stream
    std::vector<dialback_verified> answers;
    auto to_authoritative = sent_xml(asking.start());
    for (int round = 0; round < 10 && !to_authoritative.empty(); ++round) {
        auto back = sent_xml(authoritative_driver.receive(to_authoritative));
        auto actions = asking.receive(back);
        for (auto const& v : all<dialback_verified>(actions))
            answers.push_back(v);
        to_authoritative = sent_xml(actions);
    }
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0].request.stream_id, "in-1");
    EXPECT_EQ(answers[0].outcome, dialback_outcome::valid);
    EXPECT_EQ(answers[1].outcome, dialback_outcome::invalid);
}

}  // namespace
