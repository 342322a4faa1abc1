#include "protocol/domain_name.hpp"

#include <gtest/gtest.h>

namespace {

using fedgate::protocol::check_domain_name;
using fedgate::protocol::to_ascii_domain;

TEST(domain_name, ascii_names_are_lowercased_and_lose_a_trailing_dot)
{
    EXPECT_EQ(check_domain_name("Fabrikam.COM").canonical, "fabrikam.com");
    EXPECT_EQ(check_domain_name("corp.fabrikam.com.").canonical, "corp.fabrikam.com");
    EXPECT_EQ(check_domain_name("a-b.example").canonical, "a-b.example");
}

TEST(domain_name, unicode_names_are_kept_in_u_label_form_and_convert_to_a_labels)
{
    auto d = check_domain_name("BÜCHER.example");
    ASSERT_TRUE(d) << d.error;
    EXPECT_EQ(d.canonical, "bücher.example");
    EXPECT_EQ(to_ascii_domain(d.canonical), "xn--bcher-kva.example");
    EXPECT_EQ(check_domain_name("xn--bcher-kva.example").canonical, "bücher.example");
}

TEST(domain_name, refuses_what_is_not_a_domain_name)
{
    EXPECT_EQ(check_domain_name("").error, "is empty");
    EXPECT_EQ(check_domain_name(".").error, "is empty");
    EXPECT_EQ(check_domain_name("fabrikam..com").error, "has an empty label (a leading dot or two dots in a row)");
    EXPECT_EQ(check_domain_name("fabri kam.com").error,
              "contains ' ', but domain labels hold only letters, digits and hyphens");
    EXPECT_EQ(check_domain_name("user@fabrikam.com").error,
              "contains '@', but domain labels hold only letters, digits and hyphens");
    EXPECT_EQ(check_domain_name("-fabrikam.com").error, "has a label that begins or ends with a hyphen");
    EXPECT_EQ(check_domain_name(std::string(64, 'a') + ".com").error, "has a label longer than 63 characters");
    EXPECT_EQ(check_domain_name("192.0.2.1").error,
              "is an IP address, but partners and local domains are named by domain names");
    EXPECT_EQ(check_domain_name("[2001:db8::1]").error,
              "is an IP address, but partners and local domains are named by domain names");
    std::string long_name;
    for (int i = 0; i < 51; ++i)
        long_name += "abcd.";
    long_name += "com";
    EXPECT_EQ(check_domain_name(long_name).error, "is longer than 253 characters");
}

TEST(domain_name, an_a_label_must_decode_to_a_valid_u_label)
{
    // Found by tests/fuzz/jid: this label decodes to text with a space in it.
    EXPECT_EQ(check_domain_name("xn--bcheooooooooooooooooor-kva.example").error,
              "has an \"xn--\" label that is not a valid A-label");
    EXPECT_FALSE(check_domain_name("xn--zz.example"));
    EXPECT_TRUE(check_domain_name("xn--bcher-kva.example"));
}

TEST(domain_name, compatibility_digits_that_map_to_an_address_are_refused)
{
    // Found by tests/fuzz/jid: SUPERSCRIPT THREE maps to "3", an all-numeric name.
    EXPECT_EQ(check_domain_name("\u00b3").error,
              "is an IP address, but partners and local domains are named by domain names");
    EXPECT_FALSE(check_domain_name("\uff11\uff12\uff17.0.0.1"));  // fullwidth "127"
}

TEST(domain_name, a_label_of_exactly_63_octets_is_allowed)
{
    auto name = std::string(63, 'a') + ".com";
    EXPECT_TRUE(check_domain_name(name)) << check_domain_name(name).error;
}

}  // namespace

#include <idn2.h>

#include <random>

namespace {

/// What libidn2 alone makes of an ASCII name (the path check_domain_name takes
/// for names its shortcut does not cover), or "" when it refuses it.
std::string idn2_reference(std::string const& name)
{
    char* ace = nullptr;
    if (idn2_lookup_u8(reinterpret_cast<std::uint8_t const*>(name.c_str()), reinterpret_cast<std::uint8_t**>(&ace),
                       IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
        return {};
    char* unicode = nullptr;
    int rc = idn2_to_unicode_8z8z(ace, &unicode, 0);
    std::string out = rc == IDN2_OK ? unicode : "";
    idn2_free(ace);
    idn2_free(unicode);
    return out;
}

TEST(domain_name, the_ascii_shortcut_agrees_with_libidn2)
{
    // Random short names over letters of both cases, digits, '-' and '.'.
    std::mt19937 random{20261130};
    std::string const alphabet = "abcXYZ019-.";
    for (int i = 0; i < 20000; ++i) {
        std::string name;
        for (int n = 1 + static_cast<int>(random() % 12); n > 0; --n)
            name += alphabet[random() % alphabet.size()];
        auto checked = check_domain_name(name);
        if (!checked)
            continue;  // refusals may come from stricter checks of ours (IP-like names, empty labels)
        auto trimmed = name.ends_with('.') ? name.substr(0, name.size() - 1) : name;
        EXPECT_EQ(checked.canonical, idn2_reference(trimmed)) << name;
    }
}

}  // namespace
