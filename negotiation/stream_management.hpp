#pragma once
/// @file
/// The elements of XEP-0198 stream management (urn:xmpp:sm:3) as fedgate uses
/// them on S2S: acknowledgements only, no resumption (no server resumes an S2S
/// stream). The initiating side enables it when the features offer it and asks
/// with <r/>; the receiving side answers with <a h='handled'/>, `h` being the
/// stanzas it has handled on the stream, a count modulo 2^32 (§4).

#include "protocol/element.hpp"
#include "protocol/stanza_error.hpp"

#include <cstdint>
#include <optional>

namespace fedgate::negotiation::sm {

/// <sm xmlns='urn:xmpp:sm:3'/>, for stream features.
[[nodiscard]] protocol::element feature();
/// Whether `features` offers stream management (version 3).
[[nodiscard]] bool offered(protocol::element const& features);
/// <enable/>: resumption is not asked for.
[[nodiscard]] protocol::element enable();
/// <enabled/>, without an id: the stream cannot be resumed.
[[nodiscard]] protocol::element enabled();
/// <failed><CONDITION xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed> (§3, §6).
[[nodiscard]] protocol::element failed(protocol::stanza_condition condition);
/// <r/>: how many have you handled?
[[nodiscard]] protocol::element request();
/// <a h='handled'/>.
[[nodiscard]] protocol::element answer(std::uint32_t handled);
/// The `h` of a received <a/>; nullopt when it is missing or not a count below 2^32.
[[nodiscard]] std::optional<std::uint32_t> handled_count(protocol::element const& a);

}  // namespace fedgate::negotiation::sm
