#include "protocol/jid.hpp"

#include <algorithm>
#include <array>

#include "protocol/domain_name.hpp"

#include <stringprep.h>

namespace fedgate::protocol {
namespace {

constexpr std::size_t max_part_octets = 1023;  // RFC 7622 §3.2, §3.3, §3.4

bool set_why(std::string* why, std::string text)
{
    if (why)
        *why = std::move(text);
    return false;
}

bool has_control(std::string_view s)
{
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f)
            return true;
    return false;
}

/// Applies a libidn XMPP stringprep profile in place (RFC 3920 Appendix A/B, as
/// Prosody does): case folding and NFKC for nodeprep, NFKC for resourceprep, and
/// the profiles' prohibited characters. NFKC can lengthen a string, hence the room.
bool prepare(std::string& part, Stringprep_profile const* profile, char const* what, std::string* why)
{
    std::string buffer = part;
    buffer.resize(part.size() * 4 + 16);
    int const rc = stringprep(buffer.data(), buffer.size(), Stringprep_profile_flags{}, profile);
    if (rc != STRINGPREP_OK)
        return set_why(why, std::string{"the "} + what + " is not allowed in a JID (" + stringprep_strerror(
                                static_cast<Stringprep_rc>(rc)) + ")");
    buffer.resize(std::char_traits<char>::length(buffer.c_str()));
    if (buffer.empty())
        return set_why(why, std::string{"the "} + what + " is empty after normalisation");
    if (buffer.size() > max_part_octets)
        return set_why(why, std::string{"the "} + what + " is longer than 1023 bytes");
    part = std::move(buffer);
    return true;
}

/// RFC 7622 §3.3.1: not allowed in a localpart, nor is white space.
constexpr std::string_view local_refused = "\"&'/:<>@ ";
constexpr auto local_refused_table = [] {
    std::array<bool, 256> refused{};
    for (unsigned char c : local_refused)
        refused[c] = true;
    return refused;
}();

/// The common case in one pass, on every stanza: a localpart of printable ASCII
/// without the characters RFC 7622 §3.3.1 refuses, which nodeprep only case-folds
/// (RFC 3920 Appendix A), lowercased in place. False leaves the rest to the full
/// checks (having lowercased some ASCII letters, which nodeprep does too).
bool plain_ascii_local(std::string& local) noexcept
{
    for (char& c : local) {
        auto const u = static_cast<unsigned char>(c);
        if (u < 0x21 || u >= 0x7f || local_refused_table[u])
            return false;
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return true;
}

/// Printable ASCII, which resourceprep leaves as it is (RFC 3920 Appendix B).
bool plain_ascii_resource(std::string_view resource) noexcept
{
    return std::all_of(resource.begin(), resource.end(), [](char c) {
        auto const u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7f;
    });
}

bool check_local(std::string& local, std::string* why)
{
    if (local.size() > max_part_octets)
        return set_why(why, "the localpart is longer than 1023 bytes");
    if (plain_ascii_local(local))
        return true;
    if (!is_valid_utf8(local))
        return set_why(why, "the localpart is not valid UTF-8");
    // RFC 7622 §3.3.1: these are not allowed in a localpart, nor is white space;
    // named here so the reason is plainer than stringprep's.
    if (auto bad = local.find_first_of(local_refused); bad != std::string::npos)
        return set_why(why, std::string{"the localpart contains '"} + local[bad] + "', which JIDs do not allow there");
    if (has_control(local))
        return set_why(why, "the localpart contains a control character");
    // Not plain ASCII (plain_ascii_local took that): stringprep's work.
    return prepare(local, stringprep_xmpp_nodeprep, "localpart", why);
}

bool check_resource(std::string& resource, std::string* why)
{
    if (resource.size() > max_part_octets)
        return set_why(why, "the resourcepart is longer than 1023 bytes");
    if (plain_ascii_resource(resource))
        return true;
    if (!is_valid_utf8(resource))
        return set_why(why, "the resourcepart is not valid UTF-8");
    if (has_control(resource))
        return set_why(why, "the resourcepart contains a control character");
    // Not plain ASCII (plain_ascii_resource took that): stringprep's work.
    return prepare(resource, stringprep_xmpp_resourceprep, "resourcepart", why);
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept
{
    std::size_t i = 0;
    while (i < text.size()) {
        auto const c = static_cast<unsigned char>(text[i]);
        std::size_t length;
        char32_t min;
        char32_t value;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            length = 2, min = 0x80, value = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            length = 3, min = 0x800, value = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            length = 4, min = 0x10000, value = c & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size())
            return false;
        for (std::size_t k = 1; k < length; ++k) {
            auto const cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80)
                return false;
            value = (value << 6) | (cc & 0x3f);
        }
        if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
            return false;
        i += length;
    }
    return true;
}

std::optional<jid> jid::parse(std::string_view text, std::string* why)
{
    jid j;
    auto const slash = text.find('/');
    std::string_view head = text.substr(0, slash);
    if (slash != std::string_view::npos) {
        j.resource_ = text.substr(slash + 1);
        if (j.resource_.empty())
            return set_why(why, "the resourcepart after '/' is empty"), std::nullopt;
        if (!check_resource(j.resource_, why))
            return std::nullopt;
    }
    if (auto const at = head.find('@'); at != std::string_view::npos) {
        j.local_ = head.substr(0, at);
        head = head.substr(at + 1);
        if (j.local_.empty())
            return set_why(why, "the localpart before '@' is empty"), std::nullopt;
        if (!check_local(j.local_, why))
            return std::nullopt;
    }
    if (head.size() > max_part_octets)
        return set_why(why, "the domainpart is longer than 1023 bytes"), std::nullopt;
    auto domain = check_domain_name(head);
    if (!domain)
        return set_why(why, "the domainpart \"" + std::string{head} + "\" " + domain.error), std::nullopt;
    j.domain_ = std::move(domain.canonical);
    return j;
}

jid jid::bare() const
{
    jid j = *this;
    j.resource_.clear();
    return j;
}

std::string jid::to_string() const
{
    std::string out;
    if (!local_.empty())
        out = local_ + "@";
    out += domain_;
    if (!resource_.empty())
        out += "/" + resource_;
    return out;
}

}  // namespace fedgate::protocol
