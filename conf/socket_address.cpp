#include "conf/socket_address.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

namespace fedgate::conf {
namespace {

bool is_ipv4(std::string const& host)
{
    in_addr a{};
    return inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool is_ipv6(std::string const& host)
{
    in6_addr a{};
    return inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

/// An IP literal as 16 bytes (IPv4 as IPv4-mapped IPv6) and whether it was IPv4.
struct ip_bytes {
    std::array<unsigned char, 16> bytes{};
    bool v4 = false;
};

std::optional<ip_bytes> to_bytes(std::string const& host)
{
    ip_bytes out;
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
        out.v4 = true;
        out.bytes[10] = out.bytes[11] = 0xff;
        std::memcpy(out.bytes.data() + 12, &a4, 4);
        return out;
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1)
        return std::nullopt;
    std::memcpy(out.bytes.data(), &a6, 16);
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    out.v4 = std::memcmp(out.bytes.data(), mapped, 12) == 0;
    return out;
}

}  // namespace

std::variant<address_range, std::string> parse_address_range(std::string_view text)
{
    auto slash = text.find('/');
    std::string host{text.substr(0, slash)};
    auto ip = to_bytes(host);
    if (!ip)
        return "names \"" + host + "\", which is not an IP address; write an address such as 10.0.0.5 or a "
               "network such as 10.0.0.0/24";
    unsigned const bits = host.find(':') == std::string::npos ? 32 : 128;
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || prefix > bits)
            return "has prefix length \"" + std::string{digits} + "\"; an " + (bits == 32 ? "IPv4" : "IPv6") +
                   " prefix is 0 to " + std::to_string(bits);
    }
    return address_range{host, prefix};
}

bool contains(address_range const& range, std::string_view address)
{
    auto net = to_bytes(range.network);
    auto ip = to_bytes(std::string{address});
    if (!net || !ip)
        return false;
    bool const v4_range = range.network.find(':') == std::string::npos;
    if (v4_range && !ip->v4)
        return false;
    unsigned const prefix = v4_range ? range.prefix + 96 : range.prefix;
    for (unsigned bit = 0; bit < prefix; ++bit) {
        unsigned const mask = 0x80U >> (bit % 8);
        if ((net->bytes[bit / 8] & mask) != (ip->bytes[bit / 8] & mask))
            return false;
    }
    return true;
}

std::string to_string(address_range const& r)
{
    unsigned const bits = r.network.find(':') == std::string::npos ? 32 : 128;
    return r.prefix == bits ? r.network : r.network + "/" + std::to_string(r.prefix);
}

std::variant<socket_address, std::string> parse_socket_address(std::string_view text, std::uint16_t default_port)
{
    std::string host;
    std::string_view port_text;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return std::string{"has '[' without a closing ']'"};
        host = std::string{text.substr(1, close - 1)};
        auto rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':'))
            return std::string{"must be written [IPv6]:port"};
        if (!rest.empty())
            port_text = rest.substr(1);
        if (!is_ipv6(host))
            return "\"" + host + "\" is not an IPv6 address";
    } else {
        auto colon = text.rfind(':');
        if (colon != std::string_view::npos && text.find(':') != colon) {
            // A bare IPv6 literal is unambiguous only when no port may follow it.
            if (default_port != 0 && is_ipv6(std::string{text}))
                return socket_address{std::string{text}, default_port};
            return std::string{"has an IPv6 address, which must be written in brackets: [IPv6]:port"};
        }
        host = std::string{text.substr(0, colon)};
        if (colon != std::string_view::npos)
            port_text = text.substr(colon + 1);
        if (!is_ipv4(host))
            return "names \"" + host + "\", which is not an IP address; write 0.0.0.0 or [::] for all addresses, "
                   "127.0.0.1 or [::1] for this machine only";
    }

    if (port_text.empty()) {
        if (default_port == 0)
            return std::string{"has no port; write address:port"};
        return socket_address{host, default_port};
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return "has port \"" + std::string{port_text} + "\"; the port must be between 1 and 65535";
    return socket_address{host, static_cast<std::uint16_t>(port)};
}

bool is_loopback(socket_address const& a)
{
    return a.host == "::1" || a.host.starts_with("127.");
}

std::string to_string(socket_address const& a)
{
    bool const v6 = a.host.find(':') != std::string::npos;
    return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

}  // namespace fedgate::conf
