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

/// True for 127.0.0.0/8 and ::1.
[[nodiscard]] bool is_loopback(socket_address const& a);

/// "host:port", with brackets around IPv6 hosts.
[[nodiscard]] std::string to_string(socket_address const& a);

}  // namespace fedgate::conf
