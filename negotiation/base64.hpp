#pragma once
/// @file
/// Base64 for SASL payloads (RFC 6120 §6.4.2, RFC 4648 §4): strict, because a peer
/// that sends anything else gets `<incorrect-encoding/>`.

#include <optional>
#include <string>
#include <string_view>

namespace fedgate::negotiation {

/// Encodes `data`; an empty payload is "=" as RFC 6120 §6.4.2 requires.
[[nodiscard]] std::string sasl_base64_encode(std::string_view data);

/// Decodes a SASL payload: "=" is the empty payload; otherwise canonical base64 with
/// padding and nothing else (no whitespace, no line breaks). nullopt when malformed.
[[nodiscard]] std::optional<std::string> sasl_base64_decode(std::string_view text);

}  // namespace fedgate::negotiation
