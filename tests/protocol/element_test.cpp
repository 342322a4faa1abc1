#include "protocol/element.hpp"
#include "protocol/namespaces.hpp"
#include "protocol/serializer.hpp"
#include "protocol/stanza_error.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::protocol;

element chat()
{
    element m{"message", std::string{ns::server}};
    m.set_attribute("from", "bob@fabrikam.example/phone")
        .set_attribute("to", "alice@contoso.example")
        .set_attribute("type", "chat")
        .set_attribute("id", "m1");
    m.add_child(element{"body", std::string{ns::server}}).add_text("hi");
    return m;
}

TEST(element, routing_look_ups)
{
    auto m = chat();
    EXPECT_EQ(m.to(), "alice@contoso.example");
    EXPECT_EQ(m.from(), "bob@fabrikam.example/phone");
    EXPECT_EQ(m.type(), "chat");
    EXPECT_EQ(m.id(), "m1");
    EXPECT_EQ(m.find_attribute("nope"), std::nullopt);
    EXPECT_EQ(m.child("body", ns::server)->text(), "hi");
    EXPECT_EQ(m.child("body", "other:ns"), nullptr);
    m.set_attribute("type", "normal");
    EXPECT_EQ(m.type(), "normal");
    EXPECT_EQ(m.attributes().size(), 4u);
    m.remove_attribute("type");
    EXPECT_EQ(m.type(), "");
}

TEST(element, adjacent_text_is_merged_and_mixed_content_kept_in_order)
{
    element e{"p", "x"};
    e.add_text("a");
    e.add_text("b");
    e.add_child(element{"i", "x"});
    e.add_text("c");
    ASSERT_EQ(e.children().size(), 3u);
    EXPECT_EQ(e.text(), "abc");
    EXPECT_EQ(to_string(e, {"x"}), "<p>ab<i/>c</p>");
}

TEST(stanza_error, reply_swaps_addresses_and_carries_the_condition)
{
    auto reply = make_error_reply(chat(), stanza_condition::forbidden, "not a contact");
    EXPECT_EQ(to_string(reply),
              "<message id='m1' to='bob@fabrikam.example/phone' from='alice@contoso.example' type='error'>"
              "<body>hi</body><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
              "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>not a contact</text></error></message>");
    EXPECT_FALSE(may_bounce(reply)) << "an error is never answered with an error";
    EXPECT_TRUE(may_bounce(chat()));
}

TEST(stanza_error, condition_names_and_types)
{
    EXPECT_EQ(wire_name(stanza_condition::remote_server_not_found), "remote-server-not-found");
    EXPECT_EQ(default_type(stanza_condition::remote_server_timeout), stanza_error_type::wait);
    EXPECT_EQ(wire_name(stanza_condition::unexpected_request), "unexpected-request");
    EXPECT_EQ(wire_name(stanza_error_type::continue_), "continue");
}

}  // namespace
