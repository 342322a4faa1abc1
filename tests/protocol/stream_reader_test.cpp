#include "protocol/stream_reader.hpp"

#include "protocol/serializer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace {

using namespace fedgate::protocol;

constexpr std::string_view header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns:db='jabber:server:dialback' from='fabrikam.example' to='contoso.example' version='1.0' xml:lang='de'>";

// A realistic inbound stream: features, dialback, stanzas with multi-byte UTF-8
// (2-, 3- and 4-byte sequences), entities, nesting, a keepalive, the close.
std::string const realistic = std::string{header} +
                              "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
                              "</starttls></stream:features>"
                              "<db:result from='fabrikam.example' to='contoso.example'>d3adb33f</db:result> \n "
                              "<message from='jürgen@fabrikam.example/Küche' to='alice@contoso.example' type='chat' "
                              "id='m1'><body>Grüße, 日本, 😀 &lt;b&gt; &amp; &#x41;&#66;</body>"
                              "<x xmlns='urn:example:nested'><y a='1'><z/></y></x></message>"
                              "<iq type='get' id='i1' from='fabrikam.example' to='contoso.example'>"
                              "<ping xmlns='urn:xmpp:ping'/></iq>"
                              "<presence from='b@fabrikam.example'/></stream:stream>";

/// Appends `input` and drains every event; stops at the first error.
std::vector<stream_event> drain(stream_reader& r, std::string_view input, std::error_code& ec)
{
    r.append(input);
    std::vector<stream_event> events;
    while (auto e = r.next(ec))
        events.push_back(std::move(*e));
    return events;
}

std::vector<stream_event> parse_all(std::string_view input, std::error_code& ec, reader_limits limits = {})
{
    stream_reader r{limits};
    return drain(r, input, ec);
}

TEST(stream_reader, reads_a_realistic_stream)
{
    std::error_code ec;
    auto events = parse_all(realistic, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(events.size(), 7u);

    auto const& h = std::get<stream_opened>(events[0]).header;
    EXPECT_EQ(h.content_ns, "jabber:server");
    EXPECT_EQ(h.from(), "fabrikam.example");
    EXPECT_EQ(h.to(), "contoso.example");
    EXPECT_EQ(h.version(), "1.0");
    EXPECT_EQ(h.lang(), "de");
    EXPECT_EQ(h.namespace_of("db"), "jabber:server:dialback");
    EXPECT_EQ(h.namespace_of("stream"), "http://etherx.jabber.org/streams");

    auto const& features = std::get<element_received>(events[1]).stanza;
    EXPECT_TRUE(features.is("features", ns::streams));
    ASSERT_NE(features.child("starttls", ns::tls), nullptr);
    EXPECT_NE(features.child("starttls", ns::tls)->child("required", ns::tls), nullptr);

    auto const& result = std::get<element_received>(events[2]).stanza;
    EXPECT_TRUE(result.is("result", ns::dialback));
    EXPECT_EQ(result.text(), "d3adb33f");

    auto const& message = std::get<element_received>(events[3]).stanza;
    EXPECT_TRUE(message.is("message", ns::server));
    EXPECT_EQ(message.from(), "jürgen@fabrikam.example/Küche");
    EXPECT_EQ(message.type(), "chat");
    EXPECT_EQ(message.child("body", ns::server)->text(), "Grüße, 日本, 😀 <b> & AB");
    auto const* x = message.child("x", "urn:example:nested");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->child("y", "urn:example:nested")->attribute_or_empty("a"), "1");

    EXPECT_TRUE(std::get<element_received>(events[4]).stanza.is("iq", ns::server));
    EXPECT_TRUE(std::get<element_received>(events[5]).stanza.is("presence", ns::server));
    EXPECT_TRUE(std::holds_alternative<stream_ended>(events[6]));
}

TEST(stream_reader, identical_events_at_every_split_point)
{
    std::error_code ec;
    auto const expected = parse_all(realistic, ec);
    ASSERT_FALSE(ec);
    for (std::size_t cut = 0; cut <= realistic.size(); ++cut) {
        stream_reader r;
        auto events = drain(r, std::string_view{realistic}.substr(0, cut), ec);
        ASSERT_FALSE(ec) << "cut at " << cut;
        auto rest = drain(r, std::string_view{realistic}.substr(cut), ec);
        ASSERT_FALSE(ec) << "cut at " << cut;
        events.insert(events.end(), rest.begin(), rest.end());
        ASSERT_EQ(events, expected) << "cut at " << cut;
    }
}

TEST(stream_reader, identical_events_byte_by_byte_and_at_every_pair_of_split_points)
{
    std::string const small = std::string{header} + "<message to='a@b'><body>é😀</body></message></stream:stream>";
    std::error_code ec;
    auto const expected = parse_all(small, ec);
    ASSERT_EQ(expected.size(), 3u);

    stream_reader bytewise;
    std::vector<stream_event> events;
    for (char c : small) {
        auto some = drain(bytewise, std::string_view{&c, 1}, ec);
        ASSERT_FALSE(ec);
        events.insert(events.end(), some.begin(), some.end());
    }
    EXPECT_EQ(events, expected);

    for (std::size_t a = 0; a <= small.size(); ++a) {
        for (std::size_t b = a; b <= small.size(); ++b) {
            stream_reader r;
            auto all = drain(r, std::string_view{small}.substr(0, a), ec);
            auto mid = drain(r, std::string_view{small}.substr(a, b - a), ec);
            auto end = drain(r, std::string_view{small}.substr(b), ec);
            ASSERT_FALSE(ec);
            all.insert(all.end(), mid.begin(), mid.end());
            all.insert(all.end(), end.begin(), end.end());
            ASSERT_EQ(all, expected) << "cuts at " << a << " and " << b;
        }
    }
}

TEST(stream_reader, next_stops_after_each_event_and_reports_what_follows)
{
    // RFC 6120 §5.4.3.3: after <starttls/> the next bytes belong to TLS. Whatever
    // arrived with it must be visible, so the caller can refuse it.
    std::string const tail = "\x16\x03\x01\x02\x00";
    stream_reader r;
    r.append(std::string{header} + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + tail);
    std::error_code ec;
    ASSERT_TRUE(std::holds_alternative<stream_opened>(*r.next(ec)));
    EXPECT_GT(r.unparsed_size(), tail.size());
    auto starttls = r.next(ec);
    ASSERT_TRUE(starttls);
    EXPECT_TRUE(std::get<element_received>(*starttls).stanza.is("starttls", ns::tls));
    EXPECT_EQ(r.unparsed_size(), tail.size());
    EXPECT_EQ(r.take_unparsed(), tail);
}

TEST(stream_reader, a_restart_hands_the_tail_to_a_fresh_reader)
{
    stream_reader first;
    first.append(std::string{header} + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" + std::string{header});
    std::error_code ec;
    ASSERT_TRUE(first.next(ec));
    ASSERT_TRUE(first.next(ec));  // <success/>: the stream restarts (RFC 6120 §6.4.6)
    stream_reader second;
    second.append(first.take_unparsed());
    auto reopened = second.next(ec);
    ASSERT_TRUE(reopened) << ec.message();
    EXPECT_EQ(std::get<stream_opened>(*reopened).header.from(), "fabrikam.example");
}

/// `ascii` in UTF-16 (little- or big-endian), with a byte-order mark or not.
std::string utf16(std::string_view ascii, bool little_endian, bool mark)
{
    std::string out;
    if (mark)
        out = little_endian ? "\xff\xfe" : "\xfe\xff";
    for (char c : ascii) {
        out += little_endian ? c : '\0';
        out += little_endian ? '\0' : c;
    }
    return out;
}

struct refusal {
    char const* what;
    std::string input;
    stream_error condition;
    char const* text;  // nullptr: not checked
};

std::vector<refusal> const refusals = {
    {"comment", std::string{header} + "<!-- hi -->", stream_error::restricted_xml,
     "XML comments are not allowed (RFC 6120 §11.1)"},
    {"processing instruction", std::string{header} + "<?evil data?>", stream_error::restricted_xml,
     "processing instructions are not allowed (RFC 6120 §11.1)"},
    {"doctype", "<?xml version='1.0'?><!DOCTYPE stream:stream>" + std::string{header}.substr(21),
     stream_error::restricted_xml, "document type declarations are not allowed (RFC 6120 §11.1)"},
    {"undefined entity", std::string{header} + "<message><body>&foo;</body></message>", stream_error::restricted_xml,
     nullptr},
    {"mismatched tags", std::string{header} + "<message></presence>", stream_error::not_well_formed, nullptr},
    {"wrong stream namespace",
     "<stream:stream xmlns='jabber:server' xmlns:stream='http://example.com/streams'>",
     stream_error::invalid_namespace, nullptr},
    {"wrong content namespace",
     "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
     stream_error::invalid_namespace,
     "the stream's content namespace is 'jabber:client', not 'jabber:server'"},
    {"unbound prefix", std::string{header} + "<foo:bar/>", stream_error::bad_namespace_prefix, nullptr},
    {"text between stanzas", std::string{header} + "hello", stream_error::bad_format, "text outside any stanza"},
    {"other encoding",
     "<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream xmlns='jabber:server' "
     "xmlns:stream='http://etherx.jabber.org/streams'>",
     stream_error::unsupported_encoding, "the stream declares encoding 'ISO-8859-1'; XMPP is UTF-8"},
    {"invalid UTF-8", std::string{header} + "<message><body>\xff\xfe</body></message>", stream_error::not_well_formed,
     nullptr},
    // expat, forced to UTF-8, would still follow a UTF-16 byte-order mark.
    {"UTF-16LE with a byte-order mark", utf16(header, true, true), stream_error::unsupported_encoding,
     "the stream is UTF-16 or UTF-32, not UTF-8 (RFC 6120 §11.6: XMPP is UTF-8 only)"},
    {"UTF-16BE with a byte-order mark", utf16(header, false, true), stream_error::unsupported_encoding, nullptr},
    {"UTF-16LE without a mark", utf16(header, true, false), stream_error::unsupported_encoding, nullptr},
    {"UTF-16BE without a mark", utf16(header, false, false), stream_error::unsupported_encoding, nullptr},
    // expat reads any XML version as if it were 1.0.
    {"XML 1.1", "<?xml version='1.1'?>" + std::string{header}.substr(21), stream_error::bad_format,
     "the stream declares XML version '1.1'; XMPP streams are XML 1.0 (RFC 6120 §11)"},
};

TEST(stream_reader, a_utf8_byte_order_mark_and_a_first_byte_alone_are_still_utf8)
{
    std::error_code ec;
    auto events = parse_all("\xef\xbb\xbf" + std::string{header}, ec);
    EXPECT_FALSE(ec) << ec.message();
    ASSERT_FALSE(events.empty());
    EXPECT_TRUE(std::holds_alternative<stream_opened>(events.front()));
    // One byte cannot tell UTF-8 from UTF-16LE: the reader waits for the second.
    stream_reader reader;
    reader.append(std::string_view{header}.substr(0, 1));
    EXPECT_FALSE(reader.next(ec));
    EXPECT_FALSE(ec) << ec.message();
    reader.append(std::string_view{header}.substr(1));
    auto opened = reader.next(ec);
    ASSERT_TRUE(opened) << ec.message();
    EXPECT_TRUE(std::holds_alternative<stream_opened>(*opened));
}

TEST(stream_reader, refuses_what_xmpp_forbids_with_the_right_stream_error)
{
    for (auto const& r : refusals) {
        std::error_code ec;
        parse_all(r.input, ec);
        EXPECT_EQ(ec, make_error_code(r.condition)) << r.what << ": " << ec.message();
        if (r.text) {
            stream_reader reader;
            drain(reader, r.input, ec);
            EXPECT_EQ(reader.error_text(), r.text) << r.what;
        }
    }
}

TEST(stream_reader, a_self_closing_stream_opens_then_ends)
{
    // expat reports the end of an empty element right after its start, even though
    // the start handler suspended the parser: both events must come out, in order.
    std::error_code ec;
    auto events = parse_all("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                            "from='a.example'/>",
                            ec);
    EXPECT_FALSE(ec);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(std::get<stream_opened>(events[0]).header.from(), "a.example");
    EXPECT_TRUE(std::holds_alternative<stream_ended>(events[1]));
}

TEST(stream_reader, callbacks_after_a_failure_are_ignored)
{
    // Found by tests/fuzz/stream_reader: a refused empty root element, and an empty
    // element refused for its attributes; expat still reports their ends.
    std::error_code ec;
    parse_all("<ired/></starttls>", ec);
    EXPECT_EQ(ec, make_error_code(stream_error::invalid_namespace));

    reader_limits limits;
    limits.max_attributes = 1;
    parse_all(std::string{header} + "<a><b x='1' y='2'/></a>", ec, limits);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
}

TEST(stream_reader, billion_laughs_fails_fast)
{
    std::string bomb = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>";
    for (int i = 1; i < 10; ++i) {
        bomb += "<!ENTITY lol" + std::to_string(i) + " '";
        for (int j = 0; j < 10; ++j)
            bomb += "&lol" + (i == 1 ? std::string{} : std::to_string(i - 1)) + ";";
        bomb += "'>";
    }
    bomb += "]><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>"
            "<message><body>&lol9;</body></message>";
    std::error_code ec;
    auto events = parse_all(bomb, ec);
    EXPECT_TRUE(events.empty());
    EXPECT_EQ(ec, make_error_code(stream_error::restricted_xml));
}

TEST(stream_reader, limits_are_policy_violations_naming_the_limit)
{
    reader_limits limits{12000, 4, 3};
    std::error_code ec;

    stream_reader big{limits};
    std::string const body(20000, 'x');
    drain(big, std::string{header} + "<message><body>" + body.substr(0, 8000), ec);
    EXPECT_FALSE(ec);
    drain(big, body.substr(8000) + "</body></message>", ec);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(big.error_text(), "stanza larger than 12000 bytes (max_stanza_bytes)");

    stream_reader deep{limits};
    drain(deep, std::string{header} + "<a><b><c><d><e/></d></c></b></a>", ec);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(deep.error_text(), "elements nested deeper than 4 (max_depth)");

    stream_reader attrs{limits};
    drain(attrs, std::string{header} + "<a w='1' x='2' y='3' z='4'/>", ec);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(attrs.error_text(), "an element has more than 3 attributes (max_attributes)");

    stream_reader fits{limits};
    auto events = drain(fits, std::string{header} + "<a><b><c><d/></c></b></a><a w='1' x='2' y='3'/>", ec);
    EXPECT_FALSE(ec) << fits.error_text();
    EXPECT_EQ(events.size(), 3u);
}

TEST(stream_reader, a_huge_unterminated_stanza_is_refused_without_buffering_it_all)
{
    stream_reader r{reader_limits{}};
    std::error_code ec;
    drain(r, std::string{header} + "<message><body>", ec);
    std::string const chunk(16 * 1024, 'a');
    int chunks = 0;
    while (!ec && chunks < 1000) {
        drain(r, chunk, ec);
        ++chunks;
    }
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_LE(chunks, 17) << "refused only after " << chunks << " chunks of 16 KiB";
}

/// `input` split once at every point: each split yields the events it yields in
/// one piece, then fails with `condition` and `text` (with no condition: no error).
/// Returns the events.
std::vector<stream_event> expect_at_every_split_point(std::string const& input, reader_limits limits,
                                                      std::optional<stream_error> condition,
                                                      std::string const& text = {})
{
    std::error_code ec;
    auto const whole = parse_all(input, ec, limits);
    EXPECT_EQ(ec, condition ? make_error_code(*condition) : std::error_code{}) << "in one piece";
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        stream_reader r{limits};
        auto events = drain(r, std::string_view{input}.substr(0, cut), ec);
        if (!ec) {
            auto rest = drain(r, std::string_view{input}.substr(cut), ec);
            events.insert(events.end(), rest.begin(), rest.end());
        }
        EXPECT_EQ(events, whole) << "cut at " << cut;
        if (condition) {
            EXPECT_EQ(ec, make_error_code(*condition)) << "cut at " << cut << ": " << r.error_text();
            EXPECT_EQ(r.error_text(), text) << "cut at " << cut;
        } else {
            EXPECT_FALSE(ec) << "cut at " << cut << ": " << r.error_text();
        }
        if (::testing::Test::HasFailure())
            break;  // one cut's report is enough
    }
    return whole;
}

constexpr std::string_view header_start =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' ";

/// A stream header of exactly `size` bytes, XML declaration included: the id
/// attribute takes up the slack.
std::string header_of_size(std::size_t size)
{
    std::string h = std::string{header_start} + "from='fabrikam.example' to='contoso.example' version='1.0' id='";
    std::string const end = "'>";
    h.append(size - h.size() - end.size(), 'x');
    return h + end;
}

TEST(stream_reader, the_stream_header_attribute_limit_at_every_split_point)
{
    auto header_with = [](int attributes) {
        std::string h{header_start};
        for (int i = 0; i < attributes; ++i)
            h += "a" + std::to_string(i) + "='x' ";
        return h + "><presence/></stream:stream>";
    };
    reader_limits const limits;  // 16 header attributes; namespace declarations do not count
    EXPECT_TRUE(expect_at_every_split_point(header_with(17), limits, stream_error::policy_violation,
                                            "the stream header has more than 16 attributes (max_header_attributes)")
                    .empty());
    auto events = expect_at_every_split_point(header_with(16), limits, std::nullopt);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(std::get<stream_opened>(events[0]).header.attributes.size(), 16u);

    // The limit is the stream header's own: a stanza may have more (max_attributes).
    reader_limits few;
    few.max_header_attributes = 2;
    std::error_code ec;
    events = parse_all(std::string{header_start} + "to='a' from='b'><a w='1' x='2' y='3'/>", ec, few);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(events.size(), 2u);
    parse_all(std::string{header_start} + "to='a' from='b' version='1.0'>", ec, few);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
}

TEST(stream_reader, the_stream_header_byte_limit_at_every_split_point)
{
    reader_limits const limits;  // 4096 bytes up to and including the header's '>'
    std::string const after = "<presence/> <message to='a@contoso.example'><body>hi</body></message></stream:stream>";
    ASSERT_EQ(header_of_size(4096).size(), 4096u);
    // Bytes past the header budget stay in the buffer and are parsed once the
    // header has opened, whatever the split.
    EXPECT_EQ(expect_at_every_split_point(header_of_size(4096) + after, limits, std::nullopt).size(), 4u);
    EXPECT_TRUE(expect_at_every_split_point(header_of_size(4097) + after, limits, stream_error::policy_violation,
                                            "stream header larger than 4096 bytes (max_header_bytes)")
                    .empty());
    // The same with a small limit, without an XML declaration (it counts when present).
    reader_limits small;
    small.max_header_bytes = 120;
    std::string const bare = "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                             "to='contoso.example'>";
    ASSERT_LT(bare.size(), 120u);
    std::string const padded = bare.substr(0, bare.size() - 1) + std::string(120 - bare.size(), ' ') + ">";
    ASSERT_EQ(padded.size(), 120u);
    EXPECT_EQ(expect_at_every_split_point(padded + after, small, std::nullopt).size(), 4u);
    EXPECT_TRUE(expect_at_every_split_point(" " + padded + after, small, stream_error::policy_violation,
                                            "stream header larger than 120 bytes (max_header_bytes)")
                    .empty());
}

TEST(stream_reader, a_header_exactly_at_the_byte_limit_opens_and_one_byte_more_does_not)
{
    // In one piece, with what follows the header in the same chunk: STARTTLS must
    // still see exactly the bytes after <starttls/>, and a restart the right tail.
    std::string const tail = "\x16\x03\x01\x02\x00";
    std::string const starttls_element = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    stream_reader r;
    r.append(header_of_size(4096) + starttls_element + tail);
    std::error_code ec;
    auto opened = r.next(ec);
    ASSERT_TRUE(opened) << r.error_text();
    EXPECT_EQ(std::get<stream_opened>(*opened).header.from(), "fabrikam.example");
    EXPECT_EQ(r.unparsed_size(), starttls_element.size() + tail.size());
    auto starttls = r.next(ec);
    ASSERT_TRUE(starttls) << r.error_text();
    EXPECT_TRUE(std::get<element_received>(*starttls).stanza.is("starttls", ns::tls));
    EXPECT_EQ(r.unparsed_size(), tail.size());
    EXPECT_EQ(r.take_unparsed(), tail);

    stream_reader first;
    first.append(header_of_size(4096) + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" + header_of_size(4096) +
                 "<presence/>");
    ASSERT_TRUE(first.next(ec));
    ASSERT_TRUE(first.next(ec)) << first.error_text();
    stream_reader second;  // a fresh reader, a fresh budget
    second.append(first.take_unparsed());
    ASSERT_TRUE(second.next(ec)) << second.error_text();
    auto presence = second.next(ec);
    ASSERT_TRUE(presence) << second.error_text();
    EXPECT_TRUE(std::get<element_received>(*presence).stanza.is("presence", ns::server));

    stream_reader over;
    auto events = drain(over, header_of_size(4097) + "<presence/>", ec);
    EXPECT_TRUE(events.empty());
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(over.error_text(), "stream header larger than 4096 bytes (max_header_bytes)");

    // Not yet failed at 4095 bytes of an unfinished header, failed at 4096.
    stream_reader growing;
    std::string const unfinished = header_of_size(4097).substr(0, 4096);
    drain(growing, unfinished.substr(0, 4095), ec);
    EXPECT_FALSE(ec) << growing.error_text();
    drain(growing, unfinished.substr(4095), ec);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
}

TEST(stream_reader, a_header_that_keeps_growing_is_refused_within_one_chunk_of_the_limit)
{
    stream_reader r;
    std::error_code ec;
    std::size_t appended = header_start.size();
    drain(r, header_start, ec);
    int chunks = 0;
    while (!ec && appended < 1024 * 1024) {
        std::string chunk = " a" + std::to_string(chunks) + "='";
        chunk.append(1024 - chunk.size() - 1, 'x');
        chunk += "'";
        ASSERT_EQ(chunk.size(), 1024u);
        drain(r, chunk, ec);
        appended += chunk.size();
        ++chunks;
    }
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(r.error_text(), "stream header larger than 4096 bytes (max_header_bytes)");
    EXPECT_LE(appended, 4096u + 1024u) << "refused only after " << appended << " bytes";
}

TEST(stream_reader, expat_is_never_given_more_than_the_header_budget)
{
    // The byte just past the budget is invalid UTF-8: had expat seen it, the error
    // would be not-well-formed. 1 MiB more follows, all in one append.
    std::string input = header_of_size(4097).substr(0, 4096);
    input += "\xff";
    input.append(1024 * 1024, 'x');
    input += "'><presence/>";
    stream_reader r;
    std::error_code ec;
    auto events = drain(r, input, ec);
    EXPECT_TRUE(events.empty());
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation)) << r.error_text();
    EXPECT_EQ(r.error_text(), "stream header larger than 4096 bytes (max_header_bytes)");

    // One byte earlier, inside the budget, expat does see it.
    input[4095] = '\xff';
    stream_reader inside;
    drain(inside, input, ec);
    EXPECT_EQ(ec, make_error_code(stream_error::not_well_formed)) << inside.error_text();
}

TEST(stream_reader, an_unterminated_stanza_start_tag_is_refused_without_buffering_it_all)
{
    std::string const too_big = "stanza larger than 262144 bytes (max_stanza_bytes)";
    // In 16 KiB chunks, never closed: expat calls no handler meanwhile.
    stream_reader r;
    std::error_code ec;
    drain(r, std::string{header} + "<presence/>\n<message", ec);
    ASSERT_FALSE(ec);
    int chunks = 0;
    while (!ec && chunks < 1000) {
        std::string chunk;
        while (chunk.size() < 16 * 1024)
            chunk += " a" + std::to_string(chunks) + "_" + std::to_string(chunk.size()) + "='x'";
        drain(r, chunk, ec);
        ++chunks;
    }
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(r.error_text(), too_big);
    EXPECT_LE(chunks, 17) << "refused only after " << chunks << " chunks of 16 KiB";

    // All of it in one chunk, behind another stanza: refused in the same next()
    // loop that delivered the stanza, not one append later.
    std::string const unterminated = "<message to='" + std::string(1024 * 1024, 'x');
    stream_reader one;
    auto events = drain(one, std::string{header} + "<presence/>" + unterminated, ec);
    EXPECT_EQ(events.size(), 2u);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(one.error_text(), too_big);

    // Right after the header too, in the chunk that carries it.
    stream_reader first;
    events = drain(first, std::string{header} + unterminated, ec);
    EXPECT_EQ(events.size(), 1u);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(first.error_text(), too_big);

    // A huge start tag that is complete is refused as it closes.
    stream_reader closed;
    events = drain(closed, std::string{header} + unterminated + "'>", ec);
    EXPECT_EQ(events.size(), 1u);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(closed.error_text(), too_big);

    // With a small limit, at every split point.
    reader_limits small;
    small.max_stanza_bytes = 100;
    EXPECT_EQ(expect_at_every_split_point(std::string{header} + "<presence/> <message to='" + std::string(100, 'x'),
                                          small, stream_error::policy_violation,
                                          "stanza larger than 100 bytes (max_stanza_bytes)")
                  .size(),
              2u);
}

TEST(stream_reader, whitespace_keepalives_never_add_up_to_a_stanza)
{
    reader_limits limits;
    limits.max_stanza_bytes = 100;
    stream_reader r{limits};
    std::error_code ec;
    std::size_t events = drain(r, header, ec).size();
    // Months of keepalives, one byte at a time, far more than 100 bytes in all,
    // with stanzas now and then.
    for (int i = 0; i < 20000; ++i) {
        events += drain(r, i % 2 ? " " : "\n", ec).size();
        ASSERT_FALSE(ec) << "after " << i << " keepalives: " << r.error_text();
        if (i % 5000 == 4999)
            events += drain(r, "<presence/>", ec).size();
    }
    drain(r, std::string(300, ' ') + "\r\n\t", ec);  // many at once
    ASSERT_FALSE(ec) << r.error_text();
    EXPECT_EQ(events, 5u);
    // What is bounded is what follows the last keepalive: an unfinished start tag
    // of 100 bytes is held, one of 101 refused.
    std::string const tag = "<message to='" + std::string(100 - 13, 'x');
    ASSERT_EQ(tag.size(), 100u);
    drain(r, tag, ec);
    EXPECT_FALSE(ec) << r.error_text();
    drain(r, "x", ec);
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(r.error_text(), "stanza larger than 100 bytes (max_stanza_bytes)");
}

TEST(stream_reader, the_component_link_header_from_the_internal_server_has_the_same_limits)
{
    // XEP-0114: the internal server's header is read by the same reader.
    std::string const open = "<stream:stream xmlns='jabber:component:accept' "
                             "xmlns:stream='http://etherx.jabber.org/streams' from='fabrikam.test'";
    std::error_code ec;
    stream_reader many{reader_limits{}, ns::component};
    std::string attributes;
    for (int i = 0; i < 17; ++i)
        attributes += " a" + std::to_string(i) + "='x'";
    EXPECT_TRUE(drain(many, open + attributes + ">", ec).empty());
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(many.error_text(), "the stream header has more than 16 attributes (max_header_attributes)");

    stream_reader endless{reader_limits{}, ns::component};
    EXPECT_TRUE(drain(endless, open + " id='" + std::string(1 << 20, 'x'), ec).empty());
    EXPECT_EQ(ec, make_error_code(stream_error::policy_violation));
    EXPECT_EQ(endless.error_text(), "stream header larger than 4096 bytes (max_header_bytes)");
}

TEST(stream_reader, whitespace_keepalives_between_stanzas_are_ignored)
{
    std::error_code ec;
    auto events = parse_all(std::string{header} + " \n\t <presence/>\n \n", ec);
    EXPECT_FALSE(ec);
    EXPECT_EQ(events.size(), 2u);
}

TEST(serializer, round_trips_what_the_reader_read)
{
    std::error_code ec;
    auto events = parse_all(realistic, ec);
    ASSERT_FALSE(ec);
    auto const* opened = std::get_if<stream_opened>(&events.front());
    ASSERT_NE(opened, nullptr);
    auto const& h = opened->header;
    // The header too: written from what was read, it reads back the same.
    std::string rewritten = open_stream({.content = h.content_ns, .from = h.from(), .to = h.to(), .id = h.id(),
                                         .lang = h.lang(), .dialback = !h.namespace_of("db").empty()});
    for (auto const& e : events)
        if (auto const* received = std::get_if<element_received>(&e))
            serialize(received->stanza, rewritten);
    rewritten += close_stream();
    auto again = parse_all(rewritten, ec);
    ASSERT_FALSE(ec) << rewritten;
    ASSERT_EQ(again.size(), events.size());
    auto const* reopened = std::get_if<stream_opened>(&again.front());
    ASSERT_NE(reopened, nullptr);
    auto const& h2 = reopened->header;
    EXPECT_EQ(h2.content_ns, h.content_ns);
    EXPECT_EQ(h2.from(), "fabrikam.example");
    EXPECT_EQ(h2.to(), "contoso.example");
    EXPECT_EQ(h2.version(), "1.0");
    EXPECT_EQ(h2.lang(), "de");
    EXPECT_EQ(h2.id(), h.id());
    EXPECT_EQ(h2.namespace_of("db"), ns::dialback);
    EXPECT_EQ(h2.namespace_of("stream"), ns::streams);
    for (std::size_t i = 1; i < events.size(); ++i)
        EXPECT_EQ(again[i], events[i]) << i;
}

TEST(serializer, a_stanza_keeps_its_meaning_from_a_server_stream_to_a_component_stream)
{
    std::error_code ec;
    auto events = parse_all(realistic, ec);
    auto const& message = std::get<element_received>(events[3]).stanza;
    stream_context const component{ns::component, false};
    std::string const written = to_string(message, component);
    EXPECT_EQ(written.find("jabber:server"), std::string::npos) << written;

    stream_reader r{reader_limits{}, ns::component};
    std::string const wire = "<stream:stream xmlns='jabber:component:accept' "
                             "xmlns:stream='http://etherx.jabber.org/streams'>" +
                             written;
    r.append(wire);
    ASSERT_TRUE(r.next(ec));
    auto relayed = r.next(ec);
    ASSERT_TRUE(relayed) << ec.message() << " " << r.error_text();
    auto const& m = std::get<element_received>(*relayed).stanza;
    EXPECT_TRUE(m.is("message", ns::component));
    ASSERT_NE(m.child("body", ns::component), nullptr);
    EXPECT_EQ(m.child("body", ns::component)->text(), message.child("body", ns::server)->text());
    EXPECT_NE(m.child("x", "urn:example:nested"), nullptr) << "foreign namespaces stay as they are";
    EXPECT_EQ(to_string(m, {ns::server}), to_string(message, {ns::server})) << "and back again, unchanged";
}

TEST(serializer, escapes_text_and_attributes)
{
    element e{"message", std::string{ns::server}};
    e.set_attribute("to", "a'b\"<&>\n@x");
    e.add_child(element{"body", std::string{ns::server}}).add_text("1 < 2 && ]]> 3");
    EXPECT_EQ(to_string(e), "<message to='a&apos;b&quot;&lt;&amp;&gt;&#10;@x'><body>1 &lt; 2 &amp;&amp; ]]&gt; "
                            "3</body></message>");
}

TEST(serializer, declares_namespaces_only_where_they_change)
{
    element iq{"iq", std::string{ns::server}};
    auto& query = iq.add_child(element{"query", "jabber:iq:version"});
    query.add_child(element{"name", "jabber:iq:version"}).add_text("fedgate");
    EXPECT_EQ(to_string(iq), "<iq><query xmlns='jabber:iq:version'><name>fedgate</name></query></iq>");
    element result{"result", std::string{ns::dialback}};
    result.set_attribute("from", "a.example");
    EXPECT_EQ(to_string(result), "<db:result from='a.example'/>");
    EXPECT_EQ(to_string(result, {ns::server, false}), "<result xmlns='jabber:server:dialback' from='a.example'/>");
    element lang{"body", std::string{ns::server}};
    lang.set_attribute("lang", "de", ns::xml);
    EXPECT_EQ(to_string(lang), "<body xml:lang='de'/>");
}

TEST(serializer, stream_framing)
{
    EXPECT_EQ(open_stream({ns::server, "contoso.example", "fabrikam.example", "abc"}),
              "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
              "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
              "from='contoso.example' to='fabrikam.example' id='abc' xml:lang='en' version='1.0'>");
    EXPECT_EQ(stream_error_element(stream_error::host_unknown, "no such domain"),
              "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
              "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such domain</text></stream:error>");
    EXPECT_EQ(close_stream(), "</stream:stream>");
}

TEST(stream_error, category_and_wire_names)
{
    std::error_code ec = stream_error::not_well_formed;
    EXPECT_STREQ(ec.category().name(), "xmpp.stream");
    EXPECT_EQ(ec.message(), "not-well-formed");
    EXPECT_EQ(wire_name(stream_error::unsupported_version), "unsupported-version");
    for (int i = 1; i <= 25; ++i)
        EXPECT_EQ(stream_error_from_wire(wire_name(static_cast<stream_error>(i))), static_cast<stream_error>(i));
    EXPECT_EQ(stream_error_from_wire("made-up"), stream_error::undefined_condition);
}

}  // namespace
