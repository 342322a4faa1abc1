#pragma once
/// @file
/// Parsing "host:port" socket addresses from configuration strings.

#include "conf/config.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace fedgate::conf {

/// Parses "192.0.2.1:5269", "[2001:db8::1]:5269", or, when `default_port` is
/// non-zero, the address alone. The host must be an IP literal. On failure returns
/// the reason as a string, e.g. "the port must be between 1 and 65535".
[[nodiscard]] std::variant<socket_address, std::string> parse_socket_address(std::string_view text,
                                                                             std::uint16_t default_port = 0);

/// Parses "10.0.0.5", "10.0.0.0/24", "fd00::1" or "fd00::/8". On failure returns
/// the reason, e.g. "has prefix length 33; an IPv4 prefix is 0 to 32".
[[nodiscard]] std::variant<address_range, std::string> parse_address_range(std::string_view text);

/// Whether the IP literal `address` lies in `range` (an IPv4-mapped IPv6 address
/// counts as its IPv4 address); false for what is no IP literal.
[[nodiscard]] bool contains(address_range const& range, std::string_view address);

/// "10.0.0.0/24", or the address alone when the prefix covers all of it.
[[nodiscard]] std::string to_string(address_range const& r);

/// True for 127.0.0.0/8 and ::1.
[[nodiscard]] bool is_loopback(socket_address const& a);

/// "host:port", with brackets around IPv6 hosts.
[[nodiscard]] std::string to_string(socket_address const& a);

}  // namespace fedgate::conf
