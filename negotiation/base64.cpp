#include "negotiation/base64.hpp"

#include <array>
#include <cstdint>

namespace fedgate::negotiation {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_reverse()
{
    std::array<std::int8_t, 256> r{};
    r.fill(-1);
    for (int i = 0; i < 64; ++i)
        r[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return r;
}
constexpr auto reverse = make_reverse();

}  // namespace

std::string sasl_base64_encode(std::string_view data)
{
    if (data.empty())
        return "=";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        std::uint32_t chunk = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size())
            chunk |= static_cast<unsigned char>(data[i + 1]) << 8;
        if (i + 2 < data.size())
            chunk |= static_cast<unsigned char>(data[i + 2]);
        out += alphabet[(chunk >> 18) & 63];
        out += alphabet[(chunk >> 12) & 63];
        out += i + 1 < data.size() ? alphabet[(chunk >> 6) & 63] : '=';
        out += i + 2 < data.size() ? alphabet[chunk & 63] : '=';
    }
    return out;
}

std::optional<std::string> sasl_base64_decode(std::string_view text)
{
    if (text == "=")
        return std::string{};
    if (text.empty() || text.size() % 4 != 0)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool const last = i + 4 == text.size();
        int const pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
        if (pad == 1 && text[i + 2] == '=')
            return std::nullopt;  // "ab=c" is not padding
        std::uint32_t chunk = 0;
        for (int j = 0; j < 4 - pad; ++j) {
            auto v = reverse[static_cast<unsigned char>(text[i + j])];
            if (v < 0)
                return std::nullopt;
            chunk |= static_cast<std::uint32_t>(v) << (18 - 6 * j);
        }
        // Canonical form only (RFC 4648 §3.5): the bits under the padding are zero.
        if ((pad == 1 && (chunk & 0xff) != 0) || (pad == 2 && (chunk & 0xffff) != 0))
            return std::nullopt;
        out += static_cast<char>((chunk >> 16) & 0xff);
        if (pad < 2)
            out += static_cast<char>((chunk >> 8) & 0xff);
        if (pad < 1)
            out += static_cast<char>(chunk & 0xff);
    }
    return out;
}

}  // namespace fedgate::negotiation
