#include "protocol/jid.hpp"

#include <gtest/gtest.h>
#include <stringprep.h>

#include <optional>
#include <string>

namespace {

using fedgate::protocol::is_valid_utf8;
using fedgate::protocol::jid;

std::string reason(std::string_view text)
{
    std::string why;
    EXPECT_FALSE(jid::parse(text, &why)) << text;
    return why;
}

TEST(jid, parts_and_normalisation)
{
    auto j = jid::parse("Juliet@Capulet.EXAMPLE./Balcony");
    ASSERT_TRUE(j);
    EXPECT_EQ(j->local(), "juliet");
    EXPECT_EQ(j->domain(), "capulet.example");
    EXPECT_EQ(j->resource(), "Balcony") << "resources are case-sensitive";
    EXPECT_EQ(j->to_string(), "juliet@capulet.example/Balcony");
    EXPECT_EQ(j->bare().to_string(), "juliet@capulet.example");
    EXPECT_FALSE(j->is_bare());
    EXPECT_TRUE(j->bare().is_bare());
    EXPECT_EQ(*jid::parse("JULIET@capulet.example"), j->bare());
    EXPECT_TRUE(jid::parse("capulet.example")->is_domain());
}

TEST(jid, the_first_slash_ends_the_domain_and_the_resource_may_hold_anything)
{
    // RFC 7622 §3.1: "a/b@c" is domain "a" with resource "b@c".
    auto j = jid::parse("juliet@capulet.example/foo@bar/baz");
    ASSERT_TRUE(j);
    EXPECT_EQ(j->domain(), "capulet.example");
    EXPECT_EQ(j->resource(), "foo@bar/baz");
    auto k = jid::parse("capulet.example/a@b");
    ASSERT_TRUE(k);
    EXPECT_EQ(k->local(), "");
    EXPECT_EQ(k->resource(), "a@b");
}

TEST(jid, internationalised_parts)
{
    auto j = jid::parse("jürgen@BÜCHER.example/Küche");
    ASSERT_TRUE(j);
    EXPECT_EQ(j->local(), "jürgen");
    EXPECT_EQ(j->domain(), "bücher.example");
    EXPECT_EQ(*jid::parse("jürgen@xn--bcher-kva.example/Küche"), *j);
}

TEST(jid, stringprep_folds_case_and_compatibility_forms)
{
    EXPECT_EQ(jid::parse("JÜRGEN@capulet.example")->local(), "jürgen") << "full Unicode case folding";
    EXPECT_EQ(jid::parse("\xef\xac\x81sh@capulet.example")->local(), "fish") << "NFKC: the fi ligature";
    EXPECT_EQ(jid::parse("a@capulet.example/\xef\xac\x81")->resource(), "fi") << "resourceprep is NFKC too";
    EXPECT_EQ(jid::parse("a@capulet.example/Hello")->resource(), "Hello") << "but keeps case";
    std::string why;
    EXPECT_FALSE(jid::parse("a\xe2\x80\x8e@capulet.example", &why)) << "a bidi mark is prohibited";
    EXPECT_EQ(why.rfind("the localpart is not allowed in a JID (", 0), 0u) << why;
}

TEST(jid, refusals_say_why)
{
    EXPECT_EQ(reason("@capulet.example"), "the localpart before '@' is empty");
    EXPECT_EQ(reason("juliet@capulet.example/"), "the resourcepart after '/' is empty");
    EXPECT_EQ(reason("jul iet@capulet.example"), "the localpart contains ' ', which JIDs do not allow there");
    EXPECT_EQ(reason("a@b@capulet.example"), "the domainpart \"b@capulet.example\" contains '@', but domain labels "
                                             "hold only letters, digits and hyphens");
    EXPECT_EQ(reason("jul<iet@capulet.example"), "the localpart contains '<', which JIDs do not allow there");
    EXPECT_EQ(reason(std::string(1024, 'a') + "@capulet.example"), "the localpart is longer than 1023 bytes");
    EXPECT_EQ(reason("juliet@capulet.example/" + std::string(1024, 'r')), "the resourcepart is longer than 1023 bytes");
    EXPECT_EQ(reason("juliet@capulet.example/a\x01"), "the resourcepart contains a control character");
    EXPECT_EQ(reason("jul\xc3@capulet.example"), "the localpart is not valid UTF-8");
    EXPECT_EQ(reason(""), "the domainpart \"\" is empty");
}

TEST(utf8, validity)
{
    EXPECT_TRUE(is_valid_utf8("plain é 日本 😀"));
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe6\x97"));          // truncated
    EXPECT_FALSE(is_valid_utf8("\x80"));
}

}  // namespace

namespace {

// Plain ASCII parts skip stringprep and IDNA (the hot path); these are the
// results the full preparation gives, so the shortcut must give them too.
TEST(jid, plain_ascii_parts_come_out_as_the_full_preparation_makes_them)
{
    auto j = jid::parse("Mary.Ann+News_2@Mail-Server.Example.ORG/Home Office #2");
    ASSERT_TRUE(j);
    EXPECT_EQ(j->local(), "mary.ann+news_2");
    EXPECT_EQ(j->domain(), "mail-server.example.org");
    EXPECT_EQ(j->resource(), "Home Office #2");
    // Names the shortcut leaves to libidn2: A-labels and "--" in positions 3-4.
    EXPECT_EQ(jid::parse("user@XN--BCHER-KVA.example")->domain(), "b\xc3\xbc" "cher.example");
    std::string why;
    EXPECT_FALSE(jid::parse("user@xn--abc.example", &why)) << "an invalid A-label must still be refused";
    // And what the shortcut refuses, it refuses as before.
    EXPECT_FALSE(jid::parse("us er@example.org"));
    EXPECT_FALSE(jid::parse("user@exa_mple.org"));
    EXPECT_FALSE(jid::parse("user@-example.org"));
}

/// What libidn's XMPP stringprep profile makes of `part`, or nullopt when it refuses it.
std::optional<std::string> stringprepped(std::string const& part, Stringprep_profile const* profile)
{
    std::string buffer = part;
    buffer.resize(part.size() * 4 + 16);
    if (stringprep(buffer.data(), buffer.size(), Stringprep_profile_flags{}, profile) != STRINGPREP_OK)
        return std::nullopt;
    buffer.resize(std::char_traits<char>::length(buffer.c_str()));
    return buffer;
}

TEST(jid, every_ascii_byte_in_a_localpart_or_resource_is_judged_as_stringprep_and_rfc_7622_judge_it)
{
    // The one-pass shortcut for plain ASCII parts against the full preparation, byte by byte.
    for (int b = 1; b < 0x80; ++b) {
        char const c = static_cast<char>(b);
        std::string const local = std::string{"Ab"} + c + "Z";
        auto const parsed = jid::parse(local + "@example.org");
        bool const refused_by_rfc_7622 = std::string_view{"\"&'/:<>@ "}.find(c) != std::string_view::npos ||
                                         b < 0x20 || b == 0x7f;
        if (refused_by_rfc_7622 || c == '/') {
            // '/' ends the domainpart first: "Ab/Z@example.org" is a domain with a resource.
            EXPECT_TRUE(!parsed || parsed->local() != local) << "byte " << b;
        } else {
            auto const expected = stringprepped(local, stringprep_xmpp_nodeprep);
            ASSERT_EQ(parsed.has_value(), expected.has_value()) << "byte " << b;
            if (parsed) {
                EXPECT_EQ(parsed->local(), *expected) << "byte " << b;
            }
        }

        std::string const resource = std::string{"Ab"} + c + "Z";
        auto const with_resource = jid::parse("user@example.org/" + resource);
        if (b < 0x20 || b == 0x7f) {
            EXPECT_FALSE(with_resource) << "byte " << b;
        } else {
            auto const expected = stringprepped(resource, stringprep_xmpp_resourceprep);
            ASSERT_EQ(with_resource.has_value(), expected.has_value()) << "byte " << b;
            if (with_resource) {
                EXPECT_EQ(with_resource->resource(), *expected) << "byte " << b;
            }
        }
    }
}

}  // namespace
