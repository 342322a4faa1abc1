#pragma once
/// @file
/// Inside protocol::stream_reader, shared by its two halves: stream_reader.cpp
/// drives expat (what it is given, the limits checked between calls) and
/// stream_reader_handlers.cpp is what expat calls back (elements, text, the
/// refused XML constructs of RFC 6120 §11.1). Not for use outside protocol/.

#include "protocol/stream_reader.hpp"

#include <expat.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace fedgate::protocol {

/// Between namespace and local name in expat's names: cannot appear in either.
inline constexpr char expat_name_separator = ' ';

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

    unsigned depth = 0;                      // 1 inside the stream, 2 inside a stanza
    XML_Index stanza_start = 0;
    // At depth 1: just past the last event delivered or the last whitespace
    // keepalive, whichever is later. What expat holds beyond it is an unfinished
    // token (a stanza's start tag not yet closed), bounded by max_stanza_bytes.
    XML_Index idle_since = 0;
    element stanza;
    std::vector<element*> open;              // path from the stanza to the innermost element
    std::vector<std::pair<std::string, std::string>> header_namespaces;
    // Whether the stanza being read may keep its bytes (element::as_received):
    // not when it uses a prefix it did not bind itself (the stream header's, which
    // another stream may not declare) or binds a stanza content namespace (the
    // serializer writes those in the content namespace of the stream written to).
    bool keeps_bytes = true;
    bool children_on_demand = true;  // children_when::on_demand
    std::string header_tag;  // the stream header's start tag as received, for read_element()
    std::vector<std::string> stanza_prefixes;  // bound inside the stanza, innermost last
    // Usually one event per suspension; two when expat follows a suspending start
    // handler with the end handler of the same empty element (<stream:stream/>).
    struct pending {
        stream_event event;
        XML_Index end;  // absolute offset just past it
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

    /// Queues `e` and suspends expat just past the current token.
    void deliver(stream_event e)
    {
        XML_Index const end = XML_GetCurrentByteIndex(parser) + XML_GetCurrentByteCount(parser);
        events.push_back({std::move(e), end});
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

/// Sets the parser's user data to `s` and every handler, with the hardening
/// (no parameter entities).
void install_handlers(stream_reader::state& s);
/// The stream error for an error expat reported itself, and its text.
[[nodiscard]] std::pair<stream_error, std::string> classify_expat_error(XML_Error code);

}  // namespace fedgate::protocol
