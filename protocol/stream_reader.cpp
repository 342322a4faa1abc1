#include "protocol/stream_reader.hpp"

#include <expat.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <string_view>

namespace fedgate::protocol {

namespace {
constexpr char separator = ' ';  // cannot appear in a namespace name or a local name
}

struct stream_reader::state {
    reader_limits limits;
    std::string content_ns;
    XML_Parser parser = nullptr;
    bool suspended = false;   // expat holds unparsed input to resume with
    bool failed = false;
    bool header_opened = false;  // until then expat gets at most max_header_bytes
    bool ended = false;

    // Bytes from absolute offset `base`; the first `given` of them were handed to
    // expat (which copies them). Compacted lazily, not per event: erasing the front
    // after every stanza would move the rest of the buffer each time.
    std::string buffer;
    XML_Index base = 0;
    std::size_t given = 0;
    XML_Index consumed = 0;   // absolute offset just past the last event delivered
    XML_Index raw_begin = 0;  // the last element's bytes, absolute
    XML_Index raw_end = 0;

    unsigned depth = 0;                      // 1 inside the stream, 2 inside a stanza
    XML_Index stanza_start = 0;
    // At depth 1: just past the last event delivered or the last whitespace
    // keepalive, whichever is later. What expat holds beyond it is an unfinished
    // token (a stanza's start tag not yet closed), bounded by max_stanza_bytes.
    XML_Index idle_since = 0;
    element stanza;
    std::vector<element*> open;              // path from the stanza to the innermost element
    std::vector<std::pair<std::string, std::string>> header_namespaces;
    // Usually one event per suspension; two when expat follows a suspending start
    // handler with the end handler of the same empty element (<stream:stream/>).
    struct pending {
        stream_event event;
        XML_Index end;        // absolute offset just past it
        XML_Index raw_begin;  // the element's bytes, if it is one
    };
    std::deque<pending> events;
    stream_error error = stream_error::undefined_condition;
    std::string error_text;

    /// Records the first error and aborts the parse (never resumable).
    void fail(stream_error e, std::string text)
    {
        if (failed)
            return;
        failed = true;
        error = e;
        error_text = std::move(text);
        XML_StopParser(parser, XML_FALSE);
    }

    /// Queues `e` and suspends expat just past the current token. `raw_begin` is the
    /// element's first byte (absolute), or -1 for events that are not elements.
    void deliver(stream_event e, XML_Index element_begin = -1)
    {
        XML_Index const end = XML_GetCurrentByteIndex(parser) + XML_GetCurrentByteCount(parser);
        events.push_back({std::move(e), end, element_begin});
        idle_since = end;
        if (events.size() == 1)
            XML_StopParser(parser, XML_TRUE);
    }

    /// Inside a stanza: whether it, up to the end of the current token, exceeds
    /// the limit (then fails the stream). Measured to the token's end so that a
    /// stanza that arrives whole in one chunk is caught too.
    bool stanza_too_big()
    {
        XML_Index const end = XML_GetCurrentByteIndex(parser) + XML_GetCurrentByteCount(parser);
        if (end - stanza_start <= static_cast<XML_Index>(limits.max_stanza_bytes))
            return false;
        fail_stanza_too_big();
        return true;
    }

    void fail_stanza_too_big()
    {
        fail(stream_error::policy_violation,
             "stanza larger than " + std::to_string(limits.max_stanza_bytes) + " bytes (max_stanza_bytes)");
    }

    /// Absolute offset just past the bytes handed to expat so far.
    [[nodiscard]] XML_Index handed() const noexcept { return base + static_cast<XML_Index>(given); }
};

namespace {

using state = stream_reader::state;

std::pair<std::string, std::string> split_name(char const* qualified)
{
    std::string_view n{qualified};
    auto at = n.find(separator);
    if (at == std::string_view::npos)
        return {std::string{n}, {}};
    return {std::string{n.substr(at + 1)}, std::string{n.substr(0, at)}};
}

void add_attributes(element& e, char const** atts, std::size_t count)
{
    // expat has already refused duplicate attributes (not well-formed).
    e.reserve_attributes(count);
    for (; atts[0]; atts += 2) {
        // Built in place: this runs for every attribute of every stanza.
        attribute& a = e.add_attribute();
        std::string_view const qualified{atts[0]};
        auto const at = qualified.find(separator);
        if (at == std::string_view::npos) {
            a.name.assign(qualified);
        } else {
            a.ns.assign(qualified.substr(0, at));
            a.name.assign(qualified.substr(at + 1));
        }
        a.value.assign(atts[1]);
    }
}

/// How many attributes `atts` holds; over `limit`, fails the stream (naming
/// `subject` and the setting) and returns nullopt.
std::optional<std::size_t> counted_attributes(state& s, char const** atts, unsigned limit, std::string_view subject,
                                              std::string_view setting)
{
    std::size_t count = 0;
    for (auto** a = atts; a[0]; a += 2)
        ++count;
    if (count <= limit)
        return count;
    s.fail(stream_error::policy_violation, std::string{subject} + " more than " + std::to_string(limit) +
                                               " attributes (" + std::string{setting} + ")");
    return std::nullopt;
}

void open_stream(state& s, std::string const& name, std::string const& ns, char const** atts)
{
    if (ns != protocol::ns::streams || name != "stream")
        return s.fail(stream_error::invalid_namespace,
                      "the stream must open with <stream:stream> in " + std::string{protocol::ns::streams});
    stream_header header;
    header.namespaces = std::move(s.header_namespaces);
    for (auto const& [prefix, uri] : header.namespaces)
        if (prefix.empty())
            header.content_ns = uri;
    if (header.content_ns != s.content_ns)
        return s.fail(stream_error::invalid_namespace,
                      "the stream's content namespace is '" + header.content_ns + "', not '" + s.content_ns + "'");
    auto const attribute_count =
        counted_attributes(s, atts, s.limits.max_header_attributes, "the stream header has", "max_header_attributes");
    if (!attribute_count)
        return;
    header.attributes.reserve(*attribute_count);
    for (; atts[0]; atts += 2) {
        auto [attr_name, attr_ns] = split_name(atts[0]);
        header.attributes.push_back({std::move(attr_name), atts[1], std::move(attr_ns)});
    }
    s.depth = 1;
    s.header_opened = true;
    s.deliver(stream_opened{std::move(header)});
}

// expat may still call a handler after another stopped the parser ("some
// call-backs may still follow", e.g. the end of an empty element whose start
// failed): every handler ignores calls after a failure (found by tests/fuzz).

void XMLCALL on_start(void* data, char const* qualified, char const** atts)
{
    auto& s = *static_cast<state*>(data);
    if (s.failed)
        return;
    auto [name, ns] = split_name(qualified);
    if (s.depth == 0)
        return open_stream(s, name, ns, atts);

    auto const counted = counted_attributes(s, atts, s.limits.max_attributes, "an element has", "max_attributes");
    if (!counted)
        return;
    auto const attribute_count = *counted;
    if (s.depth == 1) {
        s.stanza_start = XML_GetCurrentByteIndex(s.parser);
        s.stanza = element{std::move(name), std::move(ns)};
        add_attributes(s.stanza, atts, attribute_count);
        s.open.assign(1, &s.stanza);
    } else {
        if (s.depth - 1 >= s.limits.max_depth)
            return s.fail(stream_error::policy_violation,
                          "elements nested deeper than " + std::to_string(s.limits.max_depth) + " (max_depth)");
        element& child = s.open.back()->add_child(element{std::move(name), std::move(ns)});
        add_attributes(child, atts, attribute_count);
        s.open.push_back(&child);
    }
    ++s.depth;
    s.stanza_too_big();  // depth >= 2 here
}

void XMLCALL on_end(void* data, char const*)
{
    auto& s = *static_cast<state*>(data);
    if (s.failed || s.depth == 0)
        return;
    --s.depth;
    if (s.depth == 0) {
        s.ended = true;
        s.deliver(stream_ended{});
    } else if (s.depth == 1) {
        if (s.stanza_too_big())
            return;
        s.open.clear();
        s.deliver(element_received{std::move(s.stanza)}, s.stanza_start);
    } else {
        s.open.pop_back();
    }
}

void XMLCALL on_text(void* data, XML_Char const* text, int length)
{
    auto& s = *static_cast<state*>(data);
    if (s.failed || s.depth == 0)
        return;
    std::string_view t{text, static_cast<std::size_t>(length)};
    if (s.depth == 1) {
        // Whitespace between stanzas is keepalive (RFC 6120 §4.6.1); text is not.
        if (t.find_first_not_of(" \t\r\n") != std::string_view::npos)
            return s.fail(stream_error::bad_format, "text outside any stanza");
        // Not part of any stanza: years of keepalives on one link never add up.
        s.idle_since = XML_GetCurrentByteIndex(s.parser) + XML_GetCurrentByteCount(s.parser);
        return;
    }
    if (!s.stanza_too_big())
        s.open.back()->add_text(t);
}

void XMLCALL on_namespace(void* data, XML_Char const* prefix, XML_Char const* uri)
{
    auto& s = *static_cast<state*>(data);
    if (!s.failed && s.depth == 0)
        s.header_namespaces.emplace_back(prefix ? prefix : "", uri ? uri : "");
}

// RFC 6120 §11.1: none of these may appear on an XMPP stream.
void XMLCALL on_comment(void* data, XML_Char const*)
{
    static_cast<state*>(data)->fail(stream_error::restricted_xml, "XML comments are not allowed (RFC 6120 §11.1)");
}

void XMLCALL on_processing_instruction(void* data, XML_Char const*, XML_Char const*)
{
    static_cast<state*>(data)->fail(stream_error::restricted_xml,
                                    "processing instructions are not allowed (RFC 6120 §11.1)");
}

void XMLCALL on_doctype(void* data, XML_Char const*, XML_Char const*, XML_Char const*, int)
{
    static_cast<state*>(data)->fail(stream_error::restricted_xml,
                                    "document type declarations are not allowed (RFC 6120 §11.1)");
}

void XMLCALL on_entity_declaration(void* data, XML_Char const*, int, XML_Char const*, int, XML_Char const*,
                                   XML_Char const*, XML_Char const*, XML_Char const*)
{
    static_cast<state*>(data)->fail(stream_error::restricted_xml,
                                    "entity declarations are not allowed (RFC 6120 §11.1)");
}

void XMLCALL on_xml_declaration(void* data, XML_Char const*, XML_Char const* encoding, int)
{
    // RFC 6120 §11.6: UTF-8 only.
    std::string e = encoding ? encoding : "UTF-8";
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (e != "UTF-8")
        static_cast<state*>(data)->fail(stream_error::unsupported_encoding,
                                        "the stream declares encoding '" + std::string{encoding} + "'; XMPP is UTF-8");
}

std::pair<stream_error, std::string> classify(XML_Error code)
{
    std::string text = XML_ErrorString(code);
    switch (code) {
    case XML_ERROR_UNDEFINED_ENTITY:
    case XML_ERROR_EXTERNAL_ENTITY_HANDLING:
    case XML_ERROR_ENTITY_DECLARED_IN_PE:
        return {stream_error::restricted_xml, "entity references other than the five predefined ones are not "
                                              "allowed (RFC 6120 §11.1): " + text};
    case XML_ERROR_UNBOUND_PREFIX:
        return {stream_error::bad_namespace_prefix, text};
    case XML_ERROR_UNKNOWN_ENCODING:
    case XML_ERROR_INCORRECT_ENCODING:
        return {stream_error::unsupported_encoding, text};
    default:
        return {stream_error::not_well_formed, text};
    }
}

}  // namespace

std::string_view stream_header::attribute_or_empty(std::string_view name, std::string_view ns) const noexcept
{
    for (auto const& a : attributes)
        if (a.name == name && a.ns == ns)
            return a.value;
    return {};
}

std::string_view stream_header::namespace_of(std::string_view prefix) const noexcept
{
    for (auto const& [p, uri] : namespaces)
        if (p == prefix)
            return uri;
    return {};
}

stream_reader::stream_reader(reader_limits limits, std::string_view content_ns) : state_{std::make_unique<state>()}
{
    auto& s = *state_;
    s.limits = limits;
    s.content_ns = content_ns;
    // Forcing UTF-8 makes expat ignore an encoding declaration; on_xml_declaration
    // still sees it and refuses anything else.
    s.parser = XML_ParserCreateNS("UTF-8", separator);
    if (!s.parser)
        throw std::bad_alloc{};
    XML_SetUserData(s.parser, &s);
    XML_SetElementHandler(s.parser, on_start, on_end);
    XML_SetCharacterDataHandler(s.parser, on_text);
    XML_SetStartNamespaceDeclHandler(s.parser, on_namespace);
    XML_SetCommentHandler(s.parser, on_comment);
    XML_SetProcessingInstructionHandler(s.parser, on_processing_instruction);
    XML_SetStartDoctypeDeclHandler(s.parser, on_doctype);
    XML_SetEntityDeclHandler(s.parser, on_entity_declaration);
    XML_SetXmlDeclHandler(s.parser, on_xml_declaration);
    XML_SetParamEntityParsing(s.parser, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
    // expat 2.6 may put off a partial token until its input has doubled. The limits
    // rely on expat having looked at everything it was given (a header that
    // ends exactly at max_header_bytes must open), and a stanza must not wait for
    // bytes that a quiet peer may never send.
    XML_SetReparseDeferralEnabled(s.parser, XML_FALSE);
#endif
}

stream_reader::~stream_reader()
{
    XML_ParserFree(state_->parser);
}

void stream_reader::append(std::string_view bytes)
{
    state_->buffer.append(bytes);
}

namespace {

/// Drops the bytes before the last delivered event once they are most of the buffer.
void compact(state& s)
{
    auto const done = static_cast<std::size_t>(s.consumed - s.base);
    if (done == 0 || done < s.buffer.size() / 2)
        return;
    s.buffer.erase(0, done);
    s.given -= std::min(s.given, done);
    s.base = s.consumed;
}

void fail_header_too_big(state& s)
{
    s.fail(stream_error::policy_violation,
           "stream header larger than " + std::to_string(s.limits.max_header_bytes) + " bytes (max_header_bytes)");
}

/// How many more bytes expat may be given while the stream header has not opened.
std::size_t header_budget_left(state const& s)
{
    auto const handed = static_cast<std::size_t>(s.handed());
    return s.limits.max_header_bytes - std::min(handed, s.limits.max_header_bytes);
}

/// After expat has looked at everything it was given (no event pending): what it
/// holds unfinished must stay within the limits. Callbacks cannot see this: expat
/// calls none while a token (a start tag, say) is incomplete.
void check_limits_after_parse(state& s)
{
    if (s.failed || s.ended || !s.events.empty())
        return;
    if (!s.header_opened) {
        if (header_budget_left(s) == 0)
            fail_header_too_big(s);  // no more bytes can open it: expat gets none
        return;
    }
    XML_Index const since = s.depth >= 2 ? s.stanza_start : s.idle_since;
    if (s.handed() - since > static_cast<XML_Index>(s.limits.max_stanza_bytes))
        s.fail_stanza_too_big();
}

}  // namespace

std::optional<stream_event> stream_reader::next(std::error_code& ec)
{
    auto& s = *state_;
    ec.clear();
    while (!s.failed && !s.ended && s.events.empty()) {
        XML_Status status;
        if (s.suspended) {
            status = XML_ResumeParser(s.parser);
        } else if (s.given < s.buffer.size()) {
            compact(s);
            // expat copies what it is given and keeps what follows a suspension.
            // Before the header has opened it gets no more than max_header_bytes in
            // all; the rest stays in `buffer`, for once the header has opened.
            auto length = s.buffer.size() - s.given;
            if (!s.header_opened)
                length = std::min(length, header_budget_left(s));
            if (length == 0) {
                fail_header_too_big(s);  // only with max_header_bytes == 0
                break;
            }
            char const* from = s.buffer.data() + s.given;
            s.given += length;
            status = XML_Parse(s.parser, from, static_cast<int>(length), XML_FALSE);
        } else {
            return std::nullopt;  // need more bytes
        }
        if (status != XML_STATUS_ERROR)
            check_limits_after_parse(s);
        s.suspended = status == XML_STATUS_SUSPENDED;
        if (status == XML_STATUS_ERROR && !s.failed) {
            auto [condition, text] = classify(XML_GetErrorCode(s.parser));
            s.failed = true;
            s.error = condition;
            s.error_text = std::move(text);
        }
    }
    if (!s.events.empty()) {
        // Events that came before a failure are still delivered first.
        auto p = std::move(s.events.front());
        s.events.pop_front();
        s.consumed = p.end;
        s.raw_begin = p.raw_begin;
        s.raw_end = p.raw_begin < 0 ? p.raw_begin : p.end;
        return std::move(p.event);
    }
    if (s.failed) {
        ec = make_error_code(s.error);
        error_text_ = s.error_text;
    }
    return std::nullopt;
}

std::string_view stream_reader::raw_element() const noexcept
{
    auto const& s = *state_;
    if (s.raw_begin < s.base || s.raw_end <= s.raw_begin)
        return {};
    return std::string_view{s.buffer}.substr(static_cast<std::size_t>(s.raw_begin - s.base),
                                             static_cast<std::size_t>(s.raw_end - s.raw_begin));
}

std::size_t stream_reader::unparsed_size() const noexcept
{
    auto const& s = *state_;
    return static_cast<std::size_t>(s.base + static_cast<XML_Index>(s.buffer.size()) - s.consumed);
}

std::string stream_reader::take_unparsed()
{
    auto& s = *state_;
    std::string out = s.buffer.substr(static_cast<std::size_t>(s.consumed - s.base));
    s.buffer.clear();
    s.base = s.consumed;
    s.given = 0;
    return out;
}

}  // namespace fedgate::protocol
