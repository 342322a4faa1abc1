#pragma once
/// @file
/// An incremental, namespace-aware reader for one XMPP stream over expat. Bytes go
/// in with append() in chunks of any size; next() parses lazily, only up to the end
/// of the next event (stream header, one top-level element, stream end), so that the
/// caller acts on each event before another byte is interpreted: after a STARTTLS
/// element it can see exactly which bytes followed (RFC 6120 §5.4.3.3) and refuse
/// them. The state machines never run inside expat (STYLE §2.2).

#include "protocol/element.hpp"
#include "protocol/namespaces.hpp"
#include "protocol/stream_error.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace fedgate::protocol {

/// Bounds on what a peer may make us hold (RFC 6120 §13.12). Exceeding one is a
/// policy-violation naming the limit.
struct reader_limits {
    /// One top-level element, as received; also bounds what may sit unfinished
    /// between stanzas (a start tag never closed), whitespace keepalives excepted.
    std::size_t max_stanza_bytes = 256 * 1024;
    unsigned max_depth = 64;       ///< element nesting inside a stanza
    unsigned max_attributes = 64;  ///< per element of a stanza
    /// Everything up to and including the stream header's start tag (XML
    /// declaration included), counted from this reader's first byte. expat is
    /// never handed more than this before the header opens, so a peer that has not
    /// authenticated cannot make it buffer or scan more. A real header is about
    /// 300 bytes; 4096 leaves room for 'to' and 'from' at the longest domainparts
    /// (1023 bytes each, RFC 7622 §3.2) with the usual declarations and an id.
    std::size_t max_header_bytes = 4096;
    /// Attributes of the stream header: a real one has about five (to, from, id,
    /// version, xml:lang). Namespace declarations are not attributes here (expat
    /// reports them apart); max_header_bytes bounds them.
    unsigned max_header_attributes = 16;
};

/// The opening <stream:stream> as received.
struct stream_header {
    std::string content_ns;  ///< the default namespace: jabber:server, ...
    /// Namespace declarations on the header, (prefix, uri); "" is the default.
    std::vector<std::pair<std::string, std::string>> namespaces;
    std::vector<attribute> attributes;  ///< all of them, namespaced ones included

    [[nodiscard]] std::string_view attribute_or_empty(std::string_view name, std::string_view ns = {}) const noexcept;
    [[nodiscard]] std::string_view to() const noexcept { return attribute_or_empty("to"); }
    [[nodiscard]] std::string_view from() const noexcept { return attribute_or_empty("from"); }
    [[nodiscard]] std::string_view id() const noexcept { return attribute_or_empty("id"); }
    [[nodiscard]] std::string_view version() const noexcept { return attribute_or_empty("version"); }
    [[nodiscard]] std::string_view lang() const noexcept { return attribute_or_empty("lang", ns::xml); }
    /// The URI bound to `prefix` on the header, or "".
    [[nodiscard]] std::string_view namespace_of(std::string_view prefix) const noexcept;
    friend bool operator==(stream_header const&, stream_header const&) = default;
};

struct stream_opened {
    stream_header header;
    friend bool operator==(stream_opened const&, stream_opened const&) = default;
};
/// A top-level element (a stanza, or a negotiation element). It keeps the bytes it
/// arrived as (element::as_received) unless it uses a prefix it does not bind
/// itself (one of the stream header's) or binds a stanza content namespace
/// (jabber:server, jabber:client, jabber:component:accept): otherwise those bytes,
/// written on any stream, mean what its tree means there.
struct element_received {
    element stanza;
    friend bool operator==(element_received const&, element_received const&) = default;
};
struct stream_ended {
    friend bool operator==(stream_ended const&, stream_ended const&) = default;
};
using stream_event = std::variant<stream_opened, element_received, stream_ended>;

/// When a top-level element's children are built. On demand (the default), an
/// element that keeps its bytes (see element_received) gets its children from
/// them when something first asks (element::keep_as_received_with_children_unread):
/// a stanza that is only relayed never has them built. Every element is still
/// parsed whole, so what a stream may send is judged the same either way.
enum class children_when { on_demand, at_once };

class stream_reader {
public:
    /// `content_ns` is the namespace the stream header must declare as default
    /// (ns::server for S2S, ns::component for XEP-0114); another is invalid-namespace.
    explicit stream_reader(reader_limits limits = {}, std::string_view content_ns = ns::server,
                           children_when children = children_when::on_demand);
    ~stream_reader();
    stream_reader(stream_reader const&) = delete;
    stream_reader& operator=(stream_reader const&) = delete;

    /// Queues bytes. Never parses.
    void append(std::string_view bytes);

    /// Parses up to the end of the next event and returns it, or nullopt when more
    /// bytes are needed or on error. After an error `ec` holds the stream error to
    /// send (e.g. not-well-formed, restricted-xml, policy-violation) and
    /// error_text() says why; the reader stays failed. After stream_ended, nothing
    /// more is parsed.
    [[nodiscard]] std::optional<stream_event> next(std::error_code& ec);

    [[nodiscard]] std::string const& error_text() const noexcept { return error_text_; }

    /// Bytes received after the last event returned: what a STARTTLS must find empty,
    /// and what a stream restart hands to the next reader.
    [[nodiscard]] std::size_t unparsed_size() const noexcept;
    /// Moves those bytes out; the reader must not be used afterwards.
    [[nodiscard]] std::string take_unparsed();

    struct state;  // the expat side; public only so its C callbacks can reach it

private:
    std::unique_ptr<state> state_;
    std::string error_text_;
};

/// The first top-level element of `header` followed by `bytes`, its children
/// built, or nullopt when the bytes hold none or are refused: for reading again
/// what a stream_reader has read once (element::as_received).
[[nodiscard]] std::optional<element> read_element(std::string_view header, std::string_view bytes,
                                                 reader_limits limits, std::string_view content_ns);

}  // namespace fedgate::protocol
