#include "protocol/serializer.hpp"

namespace fedgate::protocol {
namespace {

/// A set of bytes as a table. Escaping scans every byte of every stanza, and
/// std::string_view::find_first_of calls memchr over its set once per byte
/// (libstdc++): a tenth of the relay's instructions went there (callgrind).
struct byte_set {
    bool has[256] = {};
    constexpr explicit byte_set(std::string_view bytes)
    {
        for (char c : bytes)
            has[static_cast<unsigned char>(c)] = true;
    }
};

constexpr byte_set text_specials{"&<>"};
constexpr byte_set attribute_specials{"&<>'\"\t\n\r"};

/// The first byte of `s` at or after `from` that is in `set`, or npos.
std::size_t find_in(std::string_view s, std::size_t from, byte_set const& set) noexcept
{
    for (; from < s.size(); ++from)
        if (set.has[static_cast<unsigned char>(s[from])])
            return from;
    return std::string_view::npos;
}

struct writer {
    std::string& out;
    stream_context const& ctx;

    /// A stanza keeps its meaning across streams of different types: what was in the
    /// content namespace of the stream it came from is in the content namespace of
    /// the stream it goes to (a message from jabber:server becomes a message in
    /// jabber:component:accept, not a foreign element).
    std::string_view written_ns(element const& e) const noexcept
    {
        return ns::is_content_namespace(e.ns()) ? ctx.content : std::string_view{e.ns()};
    }

    void write_name(element const& e)
    {
        if (e.ns() == ns::streams)
            out += "stream:";
        else if (ctx.dialback_prefix && e.ns() == ns::dialback)
            out += "db:";
        out += e.name();
    }

    void write_attributes(element const& e)
    {
        int extra_prefixes = 0;
        for (auto const& a : e.attributes()) {
            out += ' ';
            if (a.ns.empty()) {
                out += a.name;
            } else if (a.ns == ns::xml) {
                out += "xml:";
                out += a.name;
            } else {
                // A namespaced attribute needs a prefix of its own; declare one here.
                // Appended piece by piece: no temporary strings.
                auto const prefix = std::to_string(extra_prefixes++);
                out += "xmlns:a";
                out += prefix;
                out += "='";
                append_escaped_attribute(out, a.ns);
                out += "' a";
                out += prefix;
                out += ':';
                out += a.name;
            }
            out += "='";
            append_escaped_attribute(out, a.value);
            out += '\'';
        }
    }

    void write(element const& e, std::string_view parent_default)
    {
        bool const prefixed = e.ns() == ns::streams || (ctx.dialback_prefix && e.ns() == ns::dialback);
        std::string_view const ns = written_ns(e);
        std::string_view const own_default = prefixed ? parent_default : ns;
        out += '<';
        write_name(e);
        if (!prefixed && ns != parent_default) {
            out += " xmlns='";
            append_escaped_attribute(out, ns);
            out += '\'';
        }
        write_attributes(e);
        if (e.children().empty()) {
            out += "/>";
            return;
        }
        out += '>';
        for (auto const& c : e.children()) {
            if (c.is_element())
                write(c.as_element(), own_default);
            else
                append_escaped_text(out, c.text());
        }
        out += "</";
        write_name(e);
        out += '>';
    }
};

}  // namespace

void append_escaped_text(std::string& out, std::string_view text)
{
    // Runs without a character to escape are copied whole: most text has none.
    for (std::size_t start = 0;;) {
        auto const special = find_in(text, start, text_specials);
        out.append(text.substr(start, special - start));
        if (special == std::string_view::npos)
            return;
        char const c = text[special];
        out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;";  // "]]>" must not appear in character data
        start = special + 1;
    }
}

void append_escaped_attribute(std::string& out, std::string_view value)
{
    if (find_in(value, 0, attribute_specials) == std::string_view::npos) {
        out.append(value);  // the common case: nothing to escape
        return;
    }
    for (char c : value) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\t':
            out += "&#9;";
            break;
        case '\n':
            out += "&#10;";
            break;
        case '\r':
            out += "&#13;";
            break;
        default:
            out += c;
        }
    }
}

void serialize(element const& e, std::string& out, stream_context const& ctx)
{
    // Only at the top: the reader vouched for these bytes under a stream's
    // namespaces (whatever its content namespace), not inside another element.
    if (auto const received = e.as_received(); !received.empty()) {
        out.append(received);
        return;
    }
    writer{out, ctx}.write(e, ctx.content);
}

std::string to_string(element const& e, stream_context const& ctx)
{
    std::string out;
    serialize(e, out, ctx);
    return out;
}

std::string open_stream(stream_open const& s)
{
    std::string out = "<?xml version='1.0'?><stream:stream xmlns='";
    append_escaped_attribute(out, s.content);
    out += "' xmlns:stream='http://etherx.jabber.org/streams'";
    if (s.dialback)
        out += " xmlns:db='jabber:server:dialback'";
    auto add = [&](std::string_view name, std::string_view value) {
        if (value.empty())
            return;
        out += ' ';
        out += name;
        out += "='";
        append_escaped_attribute(out, value);
        out += '\'';
    };
    add("from", s.from);
    add("to", s.to);
    add("id", s.id);
    add("xml:lang", s.lang);
    out += " version='1.0'>";
    return out;
}

std::string_view close_stream() noexcept
{
    return "</stream:stream>";
}

std::string stream_error_element(stream_error condition, std::string_view text)
{
    element error{"error", std::string{ns::streams}};
    error.add_child(element{std::string{wire_name(condition)}, std::string{ns::stream_errors}});
    if (!text.empty())
        error.add_child(element{"text", std::string{ns::stream_errors}}).add_text(text);
    return to_string(error);
}

}  // namespace fedgate::protocol
