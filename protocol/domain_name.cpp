#include "protocol/domain_name.hpp"

#include <idn2.h>

#include <algorithm>
#include <cstdint>
#include <memory>

namespace fedgate::protocol {
namespace {

struct idn2_deleter {
    void operator()(char* p) const noexcept { idn2_free(p); }
};
using idn2_string = std::unique_ptr<char, idn2_deleter>;

constexpr std::size_t max_label_octets = 63;
constexpr std::size_t max_name_octets = 253;  // RFC 1035 §2.3.4 less the root label

bool looks_like_ip_literal(std::string_view s)
{
    if (s.find(':') != std::string_view::npos || s.starts_with('['))
        return true;
    // An all-numeric final label cannot be a top-level domain (RFC 3696 §2), so a
    // dotted-quad and its shorter forms end here.
    auto last = s.substr(s.rfind('.') + 1);
    return !last.empty() && std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

std::string check_ascii_labels(std::string_view ace)
{
    if (ace.size() > max_name_octets)
        return "is longer than 253 characters";
    std::size_t start = 0;
    while (true) {
        auto dot = ace.find('.', start);
        auto label = ace.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty())
            return "has an empty label (a leading dot or two dots in a row)";
        if (label.size() > max_label_octets)
            return "has a label longer than 63 characters";
        if (auto bad = std::find_if_not(label.begin(), label.end(), is_ldh); bad != label.end())
            return std::string{"contains '"} + *bad + "', but domain labels hold only letters, digits and hyphens";
        if (label.front() == '-' || label.back() == '-')
            return "has a label that begins or ends with a hyphen";
        if (dot == std::string_view::npos)
            return {};
        start = dot + 1;
    }
}

/// The lowercase form of an all-ASCII name whose labels are plain LDH labels
/// (no A-labels, no "--" in the third and fourth positions), or "" when the name
/// needs the full IDNA2008 treatment. For such names UTS #46 mapping is exactly
/// lowercasing, and this is the common case on every stanza.
std::string plain_ascii_name(std::string_view input)
{
    std::string lower{input};  // one copy, then in place: this runs twice per stanza
    for (char& c : lower) {
        if (static_cast<unsigned char>(c) >= 0x80)
            return {};
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    if (!check_ascii_labels(lower).empty())
        return {};
    for (std::size_t start = 0; start < lower.size();) {
        auto label = std::string_view{lower}.substr(start, lower.find('.', start) - start);
        if (label.size() >= 4 && label.substr(2, 2) == "--")
            return {};
        start += label.size() + 1;
    }
    return lower;
}

}  // namespace

domain_check check_domain_name(std::string_view input)
{
    // RFC 7622 §3.2: a final dot is a label separator to strip, not part of the name.
    if (input.ends_with('.'))
        input.remove_suffix(1);
    if (input.empty())
        return {{}, "is empty"};
    if (input.find('\0') != std::string_view::npos)
        return {{}, "contains a NUL character"};
    if (looks_like_ip_literal(input))
        return {{}, "is an IP address, but partners and local domains are named by domain names"};
    if (auto plain = plain_ascii_name(input); !plain.empty())
        return {std::move(plain), {}};

    std::string const owned{input};
    char* ace_raw = nullptr;
    int rc = idn2_lookup_u8(reinterpret_cast<std::uint8_t const*>(owned.c_str()),
                            reinterpret_cast<std::uint8_t**>(&ace_raw), IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    idn2_string ace{ace_raw};
    if (rc != IDN2_OK) {
        // libidn2 checks label emptiness and length before mapping; give those the
        // same words as the ASCII path so operators see one vocabulary.
        if (rc == IDN2_TOO_BIG_LABEL)
            return {{}, "has a label longer than 63 characters"};
        if (rc == IDN2_TOO_BIG_DOMAIN)
            return {{}, "is longer than 253 characters"};
        if (rc == IDN2_HYPHEN_STARTEND)
            return {{}, "has a label that begins or ends with a hyphen"};
        return {{}, std::string{"is not a valid internationalized domain name ("} + idn2_strerror(rc) + ")"};
    }
    if (auto why = check_ascii_labels(ace.get()); !why.empty())
        return {{}, why};
    // UTS #46 mapping turns compatibility digits into ASCII ones ("\u00b3" becomes
    // "3"), so a name that was not an address before mapping can be one after it
    // (found by tests/fuzz/jid).
    if (looks_like_ip_literal(ace.get()))
        return {{}, "is an IP address, but partners and local domains are named by domain names"};

    char* unicode_raw = nullptr;
    rc = idn2_to_unicode_8z8z(ace.get(), &unicode_raw, 0);
    idn2_string unicode{unicode_raw};
    if (rc != IDN2_OK)
        return {{}, std::string{"is not a valid internationalized domain name ("} + idn2_strerror(rc) + ")"};
    // RFC 5891 §5.4: an A-label is valid only if it decodes to a valid U-label that
    // encodes back to it. libidn2 passes "xn--" input through unchecked, and such a
    // label can decode to anything, a space included (found by tests/fuzz/jid).
    char* again_raw = nullptr;
    rc = idn2_lookup_u8(reinterpret_cast<std::uint8_t const*>(unicode.get()),
                        reinterpret_cast<std::uint8_t**>(&again_raw), IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    idn2_string again{again_raw};
    if (rc != IDN2_OK || std::string_view{again.get()} != std::string_view{ace.get()})
        return {{}, "has an \"xn--\" label that is not a valid A-label"};
    return {unicode.get(), {}};
}

std::string to_ascii_domain(std::string_view canonical)
{
    std::string const owned{canonical};
    char* ace_raw = nullptr;
    int rc = idn2_lookup_u8(reinterpret_cast<std::uint8_t const*>(owned.c_str()),
                            reinterpret_cast<std::uint8_t**>(&ace_raw), IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    idn2_string ace{ace_raw};
    return rc == IDN2_OK ? std::string{ace.get()} : owned;
}

}  // namespace fedgate::protocol
