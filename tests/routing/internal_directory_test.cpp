// The internal leg's directory ([internal] mode = "s2s"): the roles turned round,
// so that the unchanged inbound session accepts the internal server's streams for
// the partner domains, answers its db:verify for them, and refuses the rest.
#include "routing/runtime.hpp"

#include "../negotiation/session_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace fedgate;
using ::testing::HasSubstr;

conf::config two_partners_two_local_domains(policy::requirement tls = policy::requirement::required)
{
    conf::config cfg;
    for (auto const* name : {"contoso.test", "sales.contoso.test"}) {
        conf::local_domain d;
        d.name = name;
        cfg.local_domains.push_back(d);
    }
    conf::partner fabrikam;
    fabrikam.domain = "fabrikam.test";
    fabrikam.additional_domains = {"chat.fabrikam.test"};
    cfg.partners.push_back(fabrikam);
    conf::partner adatum;
    adatum.domain = "adatum.test";
    cfg.partners.push_back(adatum);
    cfg.internal.mode = conf::internal_settings::link_mode::s2s;
    cfg.internal.negotiation = {tls, policy::requirement::not_supported, true};
    return cfg;
}

TEST(internal_directory, the_partner_domains_are_ours_and_the_internal_server_the_one_peer)
{
    auto const d = routing::internal_directory(two_partners_two_local_domains());
    for (auto const* ours : {"fabrikam.test", "chat.fabrikam.test", "adatum.test"})
        EXPECT_TRUE(d.is_local(ours)) << ours;
    EXPECT_FALSE(d.is_local("contoso.test"));
    for (auto const* local : {"contoso.test", "sales.contoso.test"}) {
        auto const* peer = d.find_partner(local);
        ASSERT_NE(peer, nullptr) << local;
        EXPECT_EQ(peer->domain, "contoso.test");
        EXPECT_EQ(peer->settings.sasl, policy::requirement::not_supported) << "[internal]'s settings";
        EXPECT_TRUE(peer->settings.dialback);
        EXPECT_FALSE(peer->extensions.bidi);
        EXPECT_TRUE(peer->extensions.stream_management);
    }
    EXPECT_EQ(d.find_partner("fabrikam.test"), nullptr) << "a partner never speaks on the internal leg";
}

TEST(internal_directory, the_inbound_session_answers_the_internal_servers_db_verify_for_a_partner_domain)
{
    test::inbound_fixture f{{policy::requirement::not_supported, policy::requirement::not_supported, true}};
    f.domains = routing::internal_directory(two_partners_two_local_domains(policy::requirement::not_supported));
    auto opened = test::sent_xml(f.open("contoso.test", "fabrikam.test"));
    EXPECT_THAT(opened, HasSubstr("from='fabrikam.test'"));
    EXPECT_THAT(opened, Not(HasSubstr("stream:error")));
    // Our key for fabrikam.test -> contoso.test on the internal server's stream 'S1'.
    auto const key = f.secret.key("contoso.test", "fabrikam.test", "S1");
    EXPECT_EQ(test::sent_xml(f.receive("<db:verify from='contoso.test' to='fabrikam.test' id='S1'>" + key +
                                       "</db:verify>")),
              "<db:verify from='fabrikam.test' to='contoso.test' id='S1' type='valid'/>");
    EXPECT_THAT(test::sent_xml(f.receive("<db:verify from='contoso.test' to='fabrikam.test' id='S1'>00</db:verify>")),
                HasSubstr("type='invalid'"));
}

TEST(internal_directory, the_internal_legs_tls_setting_holds_there)
{
    test::inbound_fixture f{{policy::requirement::not_supported, policy::requirement::not_supported, true}};
    f.domains = routing::internal_directory(two_partners_two_local_domains(policy::requirement::required));
    EXPECT_THAT(test::sent_xml(f.open("contoso.test", "fabrikam.test")), HasSubstr("<starttls"));
    EXPECT_THAT(test::sent_xml(f.receive("<db:verify from='contoso.test' to='fabrikam.test' id='S1'>00</db:verify>")),
                HasSubstr("db:verify before TLS from contoso.test, whose policy requires TLS"));
}

TEST(internal_directory, a_stream_for_a_domain_that_is_no_partner_is_refused)
{
    test::inbound_fixture f{{policy::requirement::not_supported, policy::requirement::not_supported, true}};
    f.domains = routing::internal_directory(two_partners_two_local_domains());
    EXPECT_THAT(test::sent_xml(f.open("contoso.test", "stranger.test")), HasSubstr("<host-unknown"));
}

TEST(internal_directory, only_the_internal_server_may_open_a_stream_there)
{
    test::inbound_fixture f{{policy::requirement::not_supported, policy::requirement::not_supported, true}};
    f.domains = routing::internal_directory(two_partners_two_local_domains());
    EXPECT_THAT(test::sent_xml(f.open("adatum.test", "fabrikam.test")), HasSubstr("<policy-violation"));
}

// ---- open federation ([default_partner]) -----------------------------------------------

conf::config open_federation(policy::requirement tls = policy::requirement::required)
{
    auto cfg = two_partners_two_local_domains(tls);
    cfg.default_partner.emplace();
    return cfg;
}

TEST(internal_directory, with_a_default_partner_every_other_domain_is_ours)
{
    auto const d = routing::internal_directory(open_federation());
    for (auto const* ours : {"fabrikam.test", "chat.fabrikam.test", "stranger.test", "muc.elsewhere.example"})
        EXPECT_TRUE(d.is_local(ours)) << ours;
    for (auto const* theirs : {"contoso.test", "sales.contoso.test"})
        EXPECT_FALSE(d.is_local(theirs)) << theirs;
    EXPECT_FALSE(d.is_local(""));
    EXPECT_EQ(d.find_partner("stranger.test"), nullptr) << "the internal leg serves no stranger as a partner";
    EXPECT_FALSE(d.open_federation());
    ASSERT_NE(d.find_partner("sales.contoso.test"), nullptr);
    EXPECT_EQ(d.find_partner("sales.contoso.test")->domain, "contoso.test");
    // Without it, a stranger is nobody's there.
    EXPECT_FALSE(routing::internal_directory(two_partners_two_local_domains()).is_local("stranger.test"));
}

TEST(internal_directory, with_a_default_partner_the_internal_server_may_write_to_an_unlisted_domain)
{
    test::inbound_fixture f{{policy::requirement::not_supported, policy::requirement::not_supported, true}};
    f.domains = routing::internal_directory(open_federation(policy::requirement::not_supported));
    auto opened = test::sent_xml(f.open("contoso.test", "stranger.test"));
    EXPECT_THAT(opened, HasSubstr("from='stranger.test'"));
    EXPECT_THAT(opened, Not(HasSubstr("stream:error")));
    // Our key for stranger.test -> contoso.test, as for a partner domain.
    auto const key = f.secret.key("contoso.test", "stranger.test", "S1");
    EXPECT_EQ(test::sent_xml(f.receive("<db:verify from='contoso.test' to='stranger.test' id='S1'>" + key +
                                       "</db:verify>")),
              "<db:verify from='stranger.test' to='contoso.test' id='S1' type='valid'/>");
    // Still only the internal server may open a stream there.
    test::inbound_fixture g{{policy::requirement::not_supported, policy::requirement::not_supported, true}};
    g.domains = routing::internal_directory(open_federation(policy::requirement::not_supported));
    EXPECT_THAT(test::sent_xml(g.open("stranger.test", "fabrikam.test")), HasSubstr("<policy-violation"));
}

}  // namespace
