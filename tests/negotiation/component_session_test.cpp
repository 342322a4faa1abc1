// fedgate's XEP-0114 component link to the internal server, against a scripted
// internal server.
#include "negotiation/component_session.hpp"
#include "session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate::test;
using fedgate::protocol::stream_error;
using ::testing::HasSubstr;

constexpr std::string_view server_header =
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' "
    "from='fabrikam.test' id='3BF96D32'>";

struct link_fixture {
    directory domains;
    component_session session;
    stream_driver driver;

    link_fixture()
        : session{{"fabrikam.test", "test", &domains}},
          driver{session, {}, fedgate::protocol::ns::component}
    {
        domains.add_local_domain("contoso.test");
    }
    std::vector<action> connect()
    {
        (void)driver.start();
        return driver.receive(server_header);
    }
    void ready()
    {
        (void)connect();
        EXPECT_EQ(only<link_ready>(driver.receive("<handshake/>")).domain, "fabrikam.test");
    }
};

TEST(component_session, reproduces_the_xep_0114_handshake_example)
{
    EXPECT_EQ(component_handshake("3BF96D32", "test"), "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e");
}

TEST(component_session, opens_as_the_partner_domain_and_proves_the_secret)
{
    link_fixture f;
    auto open = f.driver.start();
    EXPECT_EQ(sent_xml(open), "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                              "xmlns:stream='http://etherx.jabber.org/streams' to='fabrikam.test' "
                              "xml:lang='en' version='1.0'>");
    EXPECT_EQ(sent_xml(f.driver.receive(server_header)),
              "<handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>");
    EXPECT_FALSE(f.session.ready());
    EXPECT_EQ(all<link_ready>(f.driver.receive("<handshake/>")).size(), 1u);
    EXPECT_TRUE(f.session.ready());
}

TEST(component_session, a_wrong_secret_is_reported_as_such)
{
    link_fixture f;
    (void)f.connect();
    auto close = only<close_stream>(f.driver.receive(
        "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"));
    EXPECT_EQ(close.reason, close_reason::stream_error_received);
    EXPECT_THAT(close.detail, HasSubstr("check the component secret: the internal server's for fabrikam.test and "
                                        "[internal] secret_file must be the same"));
}

TEST(component_session, a_wrong_secret_names_ejabberds_undeclared_domain_too)
{
    // ejabberd 23.01 answers a domain that no ejabberd_service listener lists
    // with <not-authorized/>, as for a wrong secret (interop: internal_ejabberd).
    link_fixture f;
    (void)f.connect();
    auto close = only<close_stream>(f.driver.receive(
        "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"));
    EXPECT_THAT(close.detail,
                HasSubstr("ejabberd also says this when no ejabberd_service listener lists fabrikam.test in its hosts"));
}

TEST(component_session, a_component_another_connection_holds_is_told_apart_from_a_failure)
{
    // Prosody 0.12, to a second instance of a deployment: the link stands by.
    link_fixture f;
    (void)f.connect();
    auto close = only<close_stream>(f.driver.receive(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Component already connected</text></stream:error>"));
    EXPECT_EQ(close.reason, close_reason::component_conflict);
    EXPECT_FALSE(close.condition.has_value());  // nothing is sent back
    EXPECT_THAT(close.detail, HasSubstr("another connection for component fabrikam.test"));
    EXPECT_THAT(close.detail, HasSubstr("Component already connected"));
}

TEST(component_session, a_domain_the_internal_server_does_not_know_is_named_with_what_to_declare)
{
    // Prosody 0.12 opens the stream it refuses without an id, then says why.
    link_fixture f;
    (void)f.driver.start();
    EXPECT_TRUE(f.driver.receive("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                                 "xmlns='jabber:component:accept' from='fabrikam.test'>")
                    .empty());
    auto close = only<close_stream>(f.driver.receive(
        "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>fabrikam.test does not match any configured external "
        "components</text></stream:error>"));
    EXPECT_EQ(close.reason, close_reason::stream_error_received);
    EXPECT_THAT(close.detail, HasSubstr("<host-unknown/>: fabrikam.test does not match"));
    EXPECT_THAT(close.detail, HasSubstr("Component \"fabrikam.test\" with component_secret"));
}

TEST(component_session, a_header_without_an_id_and_nothing_after_it_is_blamed_on_the_id)
{
    link_fixture f;
    (void)f.driver.start();
    (void)f.driver.receive("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                           "xmlns='jabber:component:accept' from='fabrikam.test'>");
    auto close = only<close_stream>(f.driver.receive("<handshake/>"));
    EXPECT_EQ(close.condition, stream_error::invalid_xml);
    EXPECT_THAT(close.detail, HasSubstr("no stream id"));
}

TEST(component_session, stanzas_before_the_handshake_completes_are_refused)
{
    link_fixture f;
    (void)f.connect();
    auto close = only<close_stream>(f.driver.receive("<message from='a@contoso.test' to='b@fabrikam.test'/>"));
    EXPECT_EQ(close.condition, stream_error::not_authorized);
}

TEST(component_session, stanzas_from_our_users_to_the_partner_are_routed)
{
    link_fixture f;
    f.ready();
    auto routed = only<route_stanza>(
        f.driver.receive("<message from='alice@contoso.test/laptop' to='bob@fabrikam.test' id='1'><body>hi</body>"
                         "</message>"));
    EXPECT_EQ(routed.pair, (domain_pair{"contoso.test", "fabrikam.test"}));
    EXPECT_EQ(routed.stanza.ns(), fedgate::protocol::ns::component);
    EXPECT_EQ(routed.stanza.child("body", fedgate::protocol::ns::component)->text(), "hi");
}

TEST(component_session, the_internal_server_cannot_speak_for_other_domains)
{
    link_fixture f;
    f.ready();
    auto out = f.driver.receive("<message from='mallory@evil.test' to='bob@fabrikam.test'/>");
    EXPECT_TRUE(all<route_stanza>(out).empty());
    EXPECT_THAT(only<discarded>(out).what, HasSubstr("not one of our domains"));
}

TEST(component_session, a_stanza_for_another_domain_is_bounced_on_the_link)
{
    link_fixture f;
    f.ready();
    auto bounce = only<bounce_stanza>(f.driver.receive("<iq type='get' id='q' from='alice@contoso.test' "
                                                        "to='carol@northwind.test'><query xmlns='x'/></iq>"));
    EXPECT_EQ(bounce.reply.type(), "error");
    EXPECT_EQ(bounce.reply.to(), "alice@contoso.test");
    EXPECT_EQ(bounce.reply.from(), "fabrikam.test");
    // ... but an error stanza is never answered with another (RFC 6120 §8.3.1).
    auto quiet = f.driver.receive("<message type='error' from='alice@contoso.test' to='carol@northwind.test'/>");
    EXPECT_TRUE(all<bounce_stanza>(quiet).empty());
    EXPECT_EQ(all<discarded>(quiet).size(), 1u);
}

TEST(component_session, a_silent_internal_server_times_out)
{
    link_fixture f;
    (void)f.connect();
    EXPECT_EQ(only<close_stream>(f.driver.handle(deadline_passed{})).condition, stream_error::connection_timeout);
}

}  // namespace
