#pragma once
/// @file
/// TTLs from a raw DNS reply (RFC 1035 §4.1), which c-ares's SRV parser does not
/// expose. Bounds-checked: a malformed reply yields nullopt, never a read past it.

#include <cstdint>
#include <optional>
#include <span>

namespace fedgate::dns {

/// The smallest TTL among the answer records whose type is `type`, or nullopt when
/// there are none or the reply is malformed.
[[nodiscard]] std::optional<std::uint32_t> answer_ttl(std::span<unsigned char const> reply, std::uint16_t type);

/// The negative-caching TTL of RFC 2308 §5: min(SOA TTL, SOA MINIMUM) of the SOA in
/// the authority section, or nullopt when the reply carries none.
[[nodiscard]] std::optional<std::uint32_t> negative_ttl(std::span<unsigned char const> reply);

}  // namespace fedgate::dns
