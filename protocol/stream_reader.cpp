#include "protocol/stream_reader.hpp"

#include "protocol/stream_reader_state.hpp"

#include <expat.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <string_view>

namespace fedgate::protocol {


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

stream_reader::stream_reader(reader_limits limits, std::string_view content_ns, children_when children)
    : state_{std::make_unique<state>()}
{
    auto& s = *state_;
    s.limits = limits;
    s.content_ns = content_ns;
    s.children_on_demand = children == children_when::on_demand;
    // Forcing UTF-8 makes expat ignore an encoding declaration; on_xml_declaration
    // still sees it and refuses anything else.
    s.parser = XML_ParserCreateNS("UTF-8", expat_name_separator);
    if (!s.parser)
        throw std::bad_alloc{};
    install_handlers(s);
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

using state = stream_reader::state;

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

/// Whether a stream's first bytes are UTF-8 (RFC 6120 §11.6: nothing else),
/// nullopt while too few are known. Forcing UTF-8 on expat is not enough: it
/// still honours a UTF-16 byte-order mark. No UTF-8 stream starts with 0xFE,
/// 0xFF or a zero byte, or has a zero byte second, as UTF-16 and UTF-32 do (with
/// a mark or without: '<' then sits next to a zero byte).
std::optional<bool> starts_as_utf8(std::string_view bytes)
{
    if (bytes.empty())
        return std::nullopt;
    auto const first = static_cast<unsigned char>(bytes[0]);
    if (first == 0xFE || first == 0xFF || first == 0x00)
        return false;
    if (bytes.size() < 2)
        return std::nullopt;
    return bytes[1] != '\0';
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
        if (s.handed() == 0) {
            auto const utf8 = starts_as_utf8(s.buffer);
            if (!utf8)
                return std::nullopt;  // need more bytes
            if (!*utf8) {
                // Not s.fail(): expat is not parsing, so there is nothing to stop.
                s.failed = true;
                s.error = stream_error::unsupported_encoding;
                s.error_text = "the stream is UTF-16 or UTF-32, not UTF-8 (RFC 6120 §11.6: XMPP is UTF-8 only)";
                break;
            }
        }
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
            auto [condition, text] = classify_expat_error(XML_GetErrorCode(s.parser));
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
        return std::move(p.event);
    }
    if (s.failed) {
        ec = make_error_code(s.error);
        error_text_ = s.error_text;
    }
    return std::nullopt;
}

std::optional<element> read_element(std::string_view header, std::string_view bytes, reader_limits limits,
                                    std::string_view content_ns)
{
    stream_reader reader{limits, content_ns, children_when::at_once};
    reader.append(header);
    reader.append(bytes);
    std::error_code ec;
    while (auto event = reader.next(ec))
        if (auto* read = std::get_if<element_received>(&*event))
            return std::move(read->stanza);
    return std::nullopt;
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
