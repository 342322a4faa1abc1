#pragma once
/// @file
/// Writing elements and stream framing as XML text (RFC 6120 §4.7, §4.9, §11).

#include "protocol/element.hpp"
#include "protocol/namespaces.hpp"
#include "protocol/stream_error.hpp"

#include <string>
#include <string_view>

namespace fedgate::protocol {

/// The namespaces a stream's header declared, which elements written on it rely on:
/// `content` is the default namespace (written without xmlns), and elements in the
/// streams namespace are written with the "stream:" prefix. With `dialback_prefix`,
/// dialback elements are written as "db:result"/"db:verify", the form every server
/// understands (XEP-0220 §2.1.1); the header must then declare xmlns:db.
struct stream_context {
    std::string_view content = ns::server;
    bool dialback_prefix = true;
};

/// Appends `e` to `out`. Namespace declarations are written only where an element's
/// namespace differs from its parent's (or, at the top, from the stream's content).
/// Elements in any stanza content namespace (jabber:server, jabber:client,
/// jabber:component:accept) are written in `ctx.content`, so a stanza relayed from
/// an S2S stream to a component stream keeps its meaning. An element that still
/// holds the bytes it was received as (element::as_received) is written as those
/// bytes: the reader kept them only where they have that same meaning.
void serialize(element const& e, std::string& out, stream_context const& ctx = {});
[[nodiscard]] std::string to_string(element const& e, stream_context const& ctx = {});

/// Appends `text` escaped for character data (& < >).
void append_escaped_text(std::string& out, std::string_view text);
/// Appends `value` escaped for a single-quoted attribute value (also ' " and the
/// whitespace characters that attribute normalisation would otherwise change).
void append_escaped_attribute(std::string& out, std::string_view value);

/// The attributes of a stream header we send.
struct stream_open {
    std::string_view content = ns::server;
    std::string_view from;
    std::string_view to;
    std::string_view id;       ///< only the receiving entity sends one (RFC 6120 §4.7.3)
    std::string_view lang = "en";
    bool dialback = true;      ///< declare xmlns:db (S2S only)
};

/// "<?xml version='1.0'?><stream:stream ... version='1.0'>" (RFC 6120 §4.7).
[[nodiscard]] std::string open_stream(stream_open const& s);
/// "</stream:stream>".
[[nodiscard]] std::string_view close_stream() noexcept;
/// "<stream:error><CONDITION xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>[<text>]</stream:error>"
/// (RFC 6120 §4.9.2).
[[nodiscard]] std::string stream_error_element(stream_error condition, std::string_view text = {});

}  // namespace fedgate::protocol
