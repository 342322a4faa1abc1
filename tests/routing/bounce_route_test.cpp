// Which way an error reply goes, decided from its addresses before it is moved
// (issue 16: every bounce for a remote sender once went to the pair ('', remote)).
#include "routing/bounce_route.hpp"

#include "protocol/namespaces.hpp"
#include "protocol/stanza_error.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::routing;
using fedgate::protocol::element;
using fedgate::protocol::stanza_condition;

element message(std::string from, std::string to)
{
    element m{"message", std::string{fedgate::protocol::ns::server}};
    m.set_attribute("from", std::move(from));
    m.set_attribute("to", std::move(to));
    m.set_attribute("id", "m1");
    return m;
}

bool ours(std::string_view domain)
{
    return domain == "contoso.test" || domain == "sales.contoso.test";
}

TEST(bounce_route, a_reply_to_a_remote_sender_goes_out_on_the_pair_of_its_addresses)
{
    // bob@fabrikam.test wrote to alice, whose internal server is away: the reply
    // comes from alice's address and goes to bob over (contoso.test, fabrikam.test).
    auto const reply = fedgate::protocol::make_error_reply(message("bob@fabrikam.test/phone", "alice@contoso.test"),
                                                           stanza_condition::remote_server_timeout);
    bounce_route const expected = bounce_to_remote{{"contoso.test", "fabrikam.test"}};
    EXPECT_EQ(route_of_bounce(reply, ours), expected);
}

TEST(bounce_route, the_local_domain_of_the_pair_is_the_one_the_sender_wrote_to)
{
    auto const reply = fedgate::protocol::make_error_reply(message("bob@fabrikam.test", "carol@sales.contoso.test"),
                                                           stanza_condition::resource_constraint);
    bounce_route const expected = bounce_to_remote{{"sales.contoso.test", "fabrikam.test"}};
    EXPECT_EQ(route_of_bounce(reply, ours), expected);
}

TEST(bounce_route, a_reply_to_a_local_sender_goes_to_the_link_of_the_remote_domain)
{
    auto const reply = fedgate::protocol::make_error_reply(message("alice@contoso.test/desk", "bob@fabrikam.test"),
                                                           stanza_condition::remote_server_not_found);
    bounce_route const expected = bounce_to_internal{{"contoso.test", "fabrikam.test"}};
    EXPECT_EQ(route_of_bounce(reply, ours), expected) << "a local user of contoso.test, from fabrikam.test's link";
}

TEST(bounce_route, a_reply_between_two_foreign_domains_goes_nowhere)
{
    auto const reply = fedgate::protocol::make_error_reply(message("bob@fabrikam.test", "eve@evil.test"),
                                                           stanza_condition::service_unavailable);
    auto const way = route_of_bounce(reply, ours);
    ASSERT_TRUE(std::holds_alternative<bounce_nowhere>(way));
    EXPECT_NE(std::get<bounce_nowhere>(way).why.find("evil.test"), std::string::npos);
}

TEST(bounce_route, an_address_that_is_not_a_jid_goes_nowhere_and_never_to_an_empty_domain)
{
    auto reply = fedgate::protocol::make_error_reply(message("bob@fabrikam.test", "alice@contoso.test"),
                                                     stanza_condition::service_unavailable);
    reply.set_attribute("from", "");
    EXPECT_TRUE(std::holds_alternative<bounce_nowhere>(route_of_bounce(reply, ours)));
}

}  // namespace
