// What expat calls back while stream_reader parses (stream_reader_state.hpp).
#include "protocol/stream_reader_state.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

namespace fedgate::protocol {

namespace {

using state = stream_reader::state;

/// An expat name: "local", "uri local" or, with a prefix, "uri local prefix"
/// (XML_SetReturnNSTriplet).
struct expat_name {
    std::string_view ns;
    std::string_view local;
    std::string_view prefix;
};

expat_name parse_name(std::string_view qualified)
{
    auto const at = qualified.find(expat_name_separator);
    if (at == std::string_view::npos)
        return {{}, qualified, {}};
    expat_name n{qualified.substr(0, at), qualified.substr(at + 1), {}};
    if (auto const second = n.local.find(expat_name_separator); second != std::string_view::npos) {
        n.prefix = n.local.substr(second + 1);
        n.local = n.local.substr(0, second);
    }
    return n;
}

std::pair<std::string, std::string> split_name(char const* qualified)
{
    auto const n = parse_name(qualified);
    return {std::string{n.local}, std::string{n.ns}};
}

/// Inside a stanza: a name whose prefix the stanza did not bind itself (nor is
/// "xml", bound everywhere) relies on the stream header's declarations.
void note_prefix(state& s, std::string_view prefix)
{
    if (prefix.empty() || prefix == "xml" || !s.keeps_bytes)
        return;
    if (std::find(s.stanza_prefixes.begin(), s.stanza_prefixes.end(), prefix) == s.stanza_prefixes.end())
        s.keeps_bytes = false;
}

void add_attributes(state& s, element& e, char const** atts, std::size_t count)
{
    // expat has already refused duplicate attributes (not well-formed).
    e.reserve_attributes(count);
    for (; atts[0]; atts += 2) {
        // Built in place: this runs for every attribute of every stanza.
        attribute& a = e.add_attribute();
        auto const n = parse_name(atts[0]);
        note_prefix(s, n.prefix);
        a.ns.assign(n.ns);
        a.name.assign(n.local);
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
    auto const parsed = parse_name(qualified);
    if (s.depth == 0) {
        if (s.children_on_demand) {
            auto const at = static_cast<std::size_t>(XML_GetCurrentByteIndex(s.parser) - s.base);
            s.header_tag.assign(s.buffer, at, static_cast<std::size_t>(XML_GetCurrentByteCount(s.parser)));
        }
        return open_stream(s, std::string{parsed.local}, std::string{parsed.ns}, atts);
    }
    note_prefix(s, parsed.prefix);

    auto const counted = counted_attributes(s, atts, s.limits.max_attributes, "an element has", "max_attributes");
    if (!counted)
        return;
    auto const attribute_count = *counted;
    if (s.depth == 1) {
        s.stanza_start = XML_GetCurrentByteIndex(s.parser);
        s.stanza = element{std::string{parsed.local}, std::string{parsed.ns}};
        add_attributes(s, s.stanza, atts, attribute_count);
        s.open.assign(1, &s.stanza);
    } else {
        if (s.depth - 1 >= s.limits.max_depth)
            return s.fail(stream_error::policy_violation,
                          "elements nested deeper than " + std::to_string(s.limits.max_depth) + " (max_depth)");
        if (s.children_on_demand) {
            // Not built (see deliver_stanza); only what decides whether the bytes are kept.
            for (auto** a = atts; a[0]; a += 2)
                note_prefix(s, parse_name(a[0]).prefix);
        } else {
            element& child = s.open.back()->add_child(element{std::string{parsed.local}, std::string{parsed.ns}});
            add_attributes(s, child, atts, attribute_count);
            s.open.push_back(&child);
        }
    }
    ++s.depth;
    s.stanza_too_big();  // depth >= 2 here
}

/// At the end of a top-level element: its bytes kept or not, its children built
/// now or left for when they are asked for, and the element delivered.
void deliver_stanza(state& s)
{
    XML_Index const end = XML_GetCurrentByteIndex(s.parser) + XML_GetCurrentByteCount(s.parser);
    auto const bytes = std::string_view{s.buffer}.substr(static_cast<std::size_t>(s.stanza_start - s.base),
                                                         static_cast<std::size_t>(end - s.stanza_start));
    bool const keeps_bytes = std::exchange(s.keeps_bytes, true);
    s.stanza_prefixes.clear();
    if (!s.children_on_demand) {
        if (keeps_bytes)
            s.stanza.keep_as_received(bytes);
    } else if (keeps_bytes) {
        s.stanza.keep_as_received_with_children_unread(bytes, s.content_ns);
    } else if (auto whole = read_element(s.header_tag, bytes, s.limits, s.content_ns)) {
        // Its bytes rely on the header, so its children were not built as it was
        // read: read again under the header. Rare: servers do not send such stanzas.
        s.stanza = std::move(*whole);
    } else {
        // The same bytes under the same header: cannot fail where the first read did not.
        return s.fail(stream_error::internal_server_error, "a stanza read again under the stream header failed");
    }
    s.deliver(element_received{std::move(s.stanza)});
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
        deliver_stanza(s);
    } else if (!s.children_on_demand) {
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
    if (!s.stanza_too_big() && !s.children_on_demand)
        s.open.back()->add_text(t);
}

void XMLCALL on_namespace(void* data, XML_Char const* prefix, XML_Char const* uri)
{
    auto& s = *static_cast<state*>(data);
    if (s.failed)
        return;
    if (s.depth == 0) {
        s.header_namespaces.emplace_back(prefix ? prefix : "", uri ? uri : "");
        return;
    }
    // Called before the start of the element that declares it: at depth 1 for
    // the stanza's own declarations.
    if (uri && ns::is_content_namespace(uri))
        s.keeps_bytes = false;
    if (prefix)
        s.stanza_prefixes.emplace_back(prefix);
}

void XMLCALL on_namespace_end(void* data, XML_Char const* prefix)
{
    auto& s = *static_cast<state*>(data);
    if (s.failed || !prefix || s.depth == 0)
        return;
    // The innermost binding of the prefix goes out of scope (absent when it was
    // the stanza's own: forgotten with the stanza).
    auto const it = std::find(s.stanza_prefixes.rbegin(), s.stanza_prefixes.rend(), std::string_view{prefix});
    if (it != s.stanza_prefixes.rend())
        s.stanza_prefixes.erase(std::next(it).base());
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

void XMLCALL on_xml_declaration(void* data, XML_Char const* version, XML_Char const* encoding, int)
{
    // RFC 6120 §11: XML 1.0 (expat would read any version as if it were 1.0).
    if (version && std::string_view{version} != "1.0") {
        static_cast<state*>(data)->fail(stream_error::bad_format, "the stream declares XML version '" +
                                                                      std::string{version} +
                                                                      "'; XMPP streams are XML 1.0 (RFC 6120 §11)");
        return;
    }
    // RFC 6120 §11.6: UTF-8 only.
    std::string e = encoding ? encoding : "UTF-8";
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (e != "UTF-8")
        static_cast<state*>(data)->fail(stream_error::unsupported_encoding,
                                        "the stream declares encoding '" + std::string{encoding} + "'; XMPP is UTF-8");
}

}  // namespace

std::pair<stream_error, std::string> classify_expat_error(XML_Error code)
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

void install_handlers(stream_reader::state& s)
{
    XML_SetUserData(s.parser, &s);
    XML_SetElementHandler(s.parser, on_start, on_end);
    XML_SetCharacterDataHandler(s.parser, on_text);
    XML_SetNamespaceDeclHandler(s.parser, on_namespace, on_namespace_end);
    // Prefixes are reported, so that a stanza relying on the header's is known.
    XML_SetReturnNSTriplet(s.parser, XML_TRUE);
    XML_SetCommentHandler(s.parser, on_comment);
    XML_SetProcessingInstructionHandler(s.parser, on_processing_instruction);
    XML_SetStartDoctypeDeclHandler(s.parser, on_doctype);
    XML_SetEntityDeclHandler(s.parser, on_entity_declaration);
    XML_SetXmlDeclHandler(s.parser, on_xml_declaration);
    XML_SetParamEntityParsing(s.parser, XML_PARAM_ENTITY_PARSING_NEVER);
}

}  // namespace fedgate::protocol
