// A stanza keeps the bytes it arrived as (element::as_received) only when those
// bytes, written on any stream, mean what its tree means there; serialize() writes
// them instead of the tree. Each test reads a stanza, then checks both that the
// bytes were kept or not, and that what is written parses back, under the stream it
// is written to, to the tree that was read.
#include "protocol/serializer.hpp"
#include "protocol/stream_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace fedgate::protocol;

// The header declares the prefixes a real S2S header does: stream and db.
constexpr std::string_view s2s_header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns:db='jabber:server:dialback' xmlns:x='urn:example:header' from='fabrikam.example' "
    "to='contoso.example' version='1.0'>";

// What a component stream's header declares (XEP-0114): no db, no x.
constexpr std::string_view component_header =
    "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' "
    "from='contoso.example' id='c1'>";

/// The one element read after `header`.
element read_one(std::string_view header, std::string_view stanza, std::string_view content = ns::server)
{
    stream_reader r{reader_limits{}, content};
    r.append(header);
    r.append(stanza);
    std::error_code ec;
    std::optional<element> found;
    while (auto e = r.next(ec))
        if (auto* got = std::get_if<element_received>(&*e))
            found = std::move(got->stanza);
    EXPECT_FALSE(ec) << r.error_text();
    EXPECT_TRUE(found.has_value()) << stanza;
    return found.value_or(element{});
}

/// `e` as written to a component stream, read back there.
element relayed_to_component(element const& e)
{
    return read_one(component_header, to_string(e, {.content = ns::component, .dialback_prefix = false}),
                    ns::component);
}

/// Stanza trees compare equal across streams once the content namespace is the
/// same: what the serializer does to the three stanza namespaces.
element in_content(element const& e, std::string_view content)
{
    element out{e.name(), ns::is_content_namespace(e.ns()) ? std::string{content} : e.ns()};
    for (auto const& a : e.attributes())
        out.set_attribute(a.name, a.value, a.ns);
    for (auto const& c : e.children()) {
        if (c.is_element())
            out.add_child(in_content(c.as_element(), content));
        else
            out.add_text(c.text());
    }
    return out;
}

/// `stanza`, read on an S2S stream, did not keep its bytes, and what is written
/// from its tree means the same on a component stream.
void expect_written_from_its_tree(std::string const& stanza)
{
    auto const e = read_one(s2s_header, stanza);
    EXPECT_EQ(e.as_received(), "") << stanza;
    auto const relayed = relayed_to_component(e);
    EXPECT_EQ(relayed, in_content(e, ns::component)) << stanza;
    EXPECT_EQ(relayed.child_elements().size(), e.child_elements().size()) << stanza;
}

TEST(as_received, a_plain_stanza_keeps_its_bytes_and_they_are_written_as_they_are)
{
    std::string const stanza = "<message from=\"a@fabrikam.example/r\" to='b@contoso.example' type='chat'>"
                               "<body>caf\xc3\xa9 &amp; &#x41;</body>\n<active "
                               "xmlns='http://jabber.org/protocol/chatstates'/></message>";
    auto const e = read_one(s2s_header, stanza);
    EXPECT_EQ(e.as_received(), stanza);
    EXPECT_EQ(to_string(e), stanza);
    EXPECT_EQ(relayed_to_component(e), in_content(e, ns::component));
    EXPECT_EQ(relayed_to_component(e).child_elements().size(), 2u);
}

TEST(as_received, prefixes_bound_inside_the_stanza_and_xml_lang_are_its_own)
{
    std::string const stanza = "<message xml:lang='en' from='a@fabrikam.example' to='b@contoso.example'>"
                               "<p:event xmlns:p='urn:example:p'><p:item p:id='1'/></p:event></message>";
    auto const e = read_one(s2s_header, stanza);
    EXPECT_EQ(e.as_received(), stanza);
    EXPECT_EQ(relayed_to_component(e), in_content(e, ns::component));
}

TEST(as_received, a_stanza_using_a_prefix_of_the_stream_header_is_written_from_its_tree)
{
    // On the component stream neither db nor x is declared: the bytes as they
    // came would not be well-formed there.
    for (std::string const stanza :
         {"<message from='a@fabrikam.example' to='b@contoso.example'><db:thing/></message>",
          "<message from='a@fabrikam.example' to='b@contoso.example'><item x:id='1'/></message>",
          "<x:message from='a@fabrikam.example' to='b@contoso.example'/>"})
        expect_written_from_its_tree(stanza);
}

TEST(as_received, a_prefix_bound_in_a_sibling_does_not_count_outside_it)
{
    // The second db: is the header's binding again, once <a/>'s has gone out of scope.
    std::string const stanza = "<message from='a@fabrikam.example' to='b@contoso.example'>"
                               "<a xmlns:db='urn:example:mine'><db:in/></a><db:out/></message>";
    expect_written_from_its_tree(stanza);
    auto const e = read_one(s2s_header, stanza);
    ASSERT_EQ(e.child_elements().size(), 2u);
    EXPECT_EQ(e.child_elements()[1]->ns(), ns::dialback);
}

TEST(as_received, a_stanza_binding_a_content_namespace_is_written_from_its_tree)
{
    // The serializer writes these in the content namespace of the stream written
    // to; the bytes as they came would say jabber:server on a component stream.
    for (std::string const stanza :
         {"<message xmlns='jabber:server' from='a@fabrikam.example' to='b@contoso.example'/>",
          "<message from='a@fabrikam.example' to='b@contoso.example'><body xmlns='jabber:client'>hi</body></message>",
          "<message xmlns:s='jabber:server' from='a@fabrikam.example' to='b@contoso.example'><s:body/></message>"})
        expect_written_from_its_tree(stanza);
}

TEST(as_received, each_stanza_of_a_stream_is_judged_on_its_own)
{
    stream_reader r;
    r.append(s2s_header);
    r.append("<message from='a@fabrikam.example' to='b@contoso.example'><db:x/></message>"
             "<message from='a@fabrikam.example' to='b@contoso.example' id='2'/>");
    std::error_code ec;
    std::vector<element> read;
    while (auto e = r.next(ec))
        if (auto* got = std::get_if<element_received>(&*e))
            read.push_back(std::move(got->stanza));
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read[0].as_received(), "");
    EXPECT_EQ(read[1].as_received(), "<message from='a@fabrikam.example' to='b@contoso.example' id='2'/>");
}

TEST(as_received, bytes_split_over_many_reads_are_kept_whole)
{
    std::string const stanza = "<iq type='get' id='p' from='fabrikam.example' to='contoso.example'>"
                               "<ping xmlns='urn:xmpp:ping'/></iq>";
    std::string const input = std::string{s2s_header} + stanza;
    stream_reader r;
    std::error_code ec;
    std::optional<element> found;
    for (char c : input) {
        r.append(std::string_view{&c, 1});
        while (auto e = r.next(ec))
            if (auto* got = std::get_if<element_received>(&*e))
                found = std::move(got->stanza);
    }
    ASSERT_TRUE(found);
    EXPECT_EQ(found->as_received(), stanza);
}

TEST(as_received, any_change_forgets_the_bytes)
{
    auto const original = read_one(s2s_header, "<message from='a@fabrikam.example' to='b@contoso.example'/>");
    ASSERT_NE(original.as_received(), "");

    auto changed = original;
    changed.set_attribute("from", "c@fabrikam.example");
    EXPECT_EQ(changed.as_received(), "");
    EXPECT_EQ(to_string(changed), "<message from='c@fabrikam.example' to='b@contoso.example'/>");

    changed = original;
    changed.remove_attribute("to");
    EXPECT_EQ(to_string(changed), "<message from='a@fabrikam.example'/>");

    changed = original;
    changed.add_child(element{"body", std::string{ns::server}}).add_text("hi");
    EXPECT_EQ(to_string(changed), "<message from='a@fabrikam.example' to='b@contoso.example'><body>hi</body></message>");

    changed = original;
    changed.add_text(" ");
    EXPECT_EQ(changed.as_received(), "");

    changed = original;
    changed.add_attribute() = {"id", "1", ""};
    EXPECT_EQ(changed.as_received(), "");

    // Inside another element the bytes are not used: the namespaces there differ.
    element wrapper{"forwarded", "urn:xmpp:forward:0"};
    wrapper.add_child(original);
    EXPECT_EQ(to_string(wrapper), "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:server' "
                                  "from='a@fabrikam.example' to='b@contoso.example'/></forwarded>");
    EXPECT_EQ(wrapper.children().front().as_element().as_received(), "");
}

TEST(as_received, equality_is_of_the_tree_alone)
{
    auto const read = read_one(s2s_header, "<message to=\"b@contoso.example\"/>");
    element built{"message", std::string{ns::server}};
    built.set_attribute("to", "b@contoso.example");
    EXPECT_EQ(read, built);
    EXPECT_NE(to_string(read), to_string(built));  // the same tree, written as each was
}

TEST(as_received, children_left_unread_are_the_children_a_reader_builds_at_once)
{
    std::string const input = std::string{s2s_header} +
                              "<message from='a@fabrikam.example/r' to='b@contoso.example' type='chat'>"
                              "<body>one &amp; <![CDATA[two <b>]]></body><html xmlns='http://jabber.org/protocol/xhtml-im'>"
                              "<body xmlns='http://www.w3.org/1999/xhtml'><p>hi <b>there</b></p></body></html></message>"
                              "<iq type='result' id='1' from='fabrikam.example' to='contoso.example'>"
                              "<query xmlns='jabber:iq:version'><name>x</name><db:extra/></query></iq>"
                              "<presence from='a@fabrikam.example'>\n  <show>away</show>\n</presence>";
    std::vector<element> lazily;
    std::vector<element> at_once;
    for (auto when : {children_when::on_demand, children_when::at_once}) {
        stream_reader r{reader_limits{}, ns::server, when};
        r.append(input);
        std::error_code ec;
        while (auto e = r.next(ec))
            if (auto* got = std::get_if<element_received>(&*e))
                (when == children_when::on_demand ? lazily : at_once).push_back(std::move(got->stanza));
        ASSERT_FALSE(ec) << r.error_text();
    }
    ASSERT_EQ(lazily.size(), 3u);
    ASSERT_EQ(at_once.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(lazily[i], at_once[i]) << i;
        EXPECT_EQ(to_string(lazily[i]), to_string(at_once[i])) << i;
    }
    // Spelled out, so that two empty trees cannot pass for equal ones.
    ASSERT_EQ(lazily[0].child_elements().size(), 2u);
    EXPECT_EQ(lazily[0].child("body", ns::server)->text(), "one & two <b>");
    EXPECT_EQ(lazily[0].child_elements()[1]->child_elements()[0]->ns(), "http://www.w3.org/1999/xhtml");
    EXPECT_EQ(lazily[1].as_received(), "");  // db: is the header's: read again at once, under it
    EXPECT_EQ(lazily[1].child("query", "jabber:iq:version")->child_elements()[1]->ns(), ns::dialback);
    EXPECT_EQ(lazily[2].child("show", ns::server)->text(), "away");
    EXPECT_EQ(lazily[2].children().size(), 3u);  // the white space around <show/> is text too
}

TEST(as_received, a_change_builds_the_unread_children_first)
{
    auto e = read_one(s2s_header, "<message from='a@fabrikam.example' to='b@contoso.example'><body>hi</body></message>");
    e.set_attribute("id", "7");
    EXPECT_EQ(e.as_received(), "");
    EXPECT_EQ(to_string(e),
              "<message from='a@fabrikam.example' to='b@contoso.example' id='7'><body>hi</body></message>");
    auto f = read_one(s2s_header, "<message from='a@fabrikam.example' to='b@contoso.example'><body>hi</body></message>");
    f.add_child(element{"thread", std::string{ns::server}}).add_text("t");
    EXPECT_EQ(to_string(f), "<message from='a@fabrikam.example' to='b@contoso.example'><body>hi</body>"
                            "<thread>t</thread></message>");
}

}  // namespace
