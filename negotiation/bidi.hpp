#pragma once
/// @file
/// XEP-0288 bidirectional S2S streams, the elements: the feature a receiving
/// server offers and the request an initiating server sends before it
/// authenticates. What the sessions do with them: inbound_bidi.cpp and
/// outbound_session.cpp; what a stanza on such a stream must be:
/// stanza_addressing.hpp.

#include "protocol/element.hpp"

namespace fedgate::negotiation::bidi {

/// <bidi xmlns='urn:xmpp:features:bidi'/>, for stream features.
[[nodiscard]] protocol::element feature();
/// Whether `features` offers bidirectional streams.
[[nodiscard]] bool offered(protocol::element const& features);
/// <bidi xmlns='urn:xmpp:bidi'/>: the initiating server asks for it.
[[nodiscard]] protocol::element request();
/// Whether `e` is that request.
[[nodiscard]] bool is_request(protocol::element const& e);

}  // namespace fedgate::negotiation::bidi
