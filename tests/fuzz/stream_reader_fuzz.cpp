// libFuzzer target: arbitrary bytes, fed to a stream_reader in chunks whose sizes
// the input chooses, every event drained and every element written back out.
// Crashes, sanitizer reports and leaks are the findings, and three differences:
// - a reader that leaves children unread (the daemon's) and one that builds them
//   at once give different events or errors for the same bytes;
// - an element that kept the bytes it arrived as (element::as_received) whose
//   bytes, read again under a header that declares nothing but the content
//   namespace, are not its tree.
// - the reader holds more than it was given.
#include "protocol/serializer.hpp"
#include "protocol/stream_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace fedgate::protocol;

/// Whether `e`'s kept bytes, alone on a stream, read back as `e`.
bool reads_back_the_same(element const& e)
{
    auto const again = read_element("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>",
                                    e.as_received(), reader_limits{}, ns::server);
    return again && *again == e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size < 1)
        return 0;
    // The first byte picks the chunk size, so split points are explored too.
    std::size_t const chunk = 1 + data[0] % 64;
    std::string_view input{reinterpret_cast<char const*>(data + 1), size - 1};
    reader_limits const limits{16 * 1024, 16, 16};
    stream_reader reader{limits};
    stream_reader at_once{limits, ns::server, children_when::at_once};
    std::error_code ec;
    std::error_code at_once_ec;
    std::size_t appended = 0;
    for (std::size_t at = 0; at < input.size() && !ec; at += chunk) {
        auto piece = input.substr(at, chunk);
        reader.append(piece);
        at_once.append(piece);
        appended += piece.size();
        while (auto event = reader.next(ec)) {
            auto other = at_once.next(at_once_ec);
            if (!other || !(*other == *event))
                std::abort();
            if (auto const* e = std::get_if<element_received>(&*event)) {
                if (to_string(e->stanza).empty())
                    std::abort();
                if (!e->stanza.as_received().empty() && !reads_back_the_same(e->stanza))
                    std::abort();
            }
        }
        if (at_once.next(at_once_ec) || at_once_ec != ec)
            std::abort();
        if (reader.unparsed_size() > appended)
            std::abort();  // the reader cannot hold more than it was given
    }
    return 0;
}
