#include "conf/socket_address.hpp"

#include <arpa/inet.h>

#include <charconv>

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

}  // namespace

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
