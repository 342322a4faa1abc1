// libFuzzer target: arbitrary bytes, fed to a stream_reader in chunks whose sizes
// the input chooses, every event drained and every element written back out.
// Crashes, sanitizer reports and leaks are the findings, and an element that kept
// the bytes it arrived as (element::as_received) whose bytes, read again under a
// header that declares nothing but the content namespace, are not its tree.
#include "protocol/serializer.hpp"
#include "protocol/stream_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

/// Whether `e`'s kept bytes, alone on a stream, read back as `e`.
bool reads_back_the_same(fedgate::protocol::element const& e)
{
    fedgate::protocol::stream_reader again;
    again.append("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>");
    again.append(e.as_received());
    std::error_code ec;
    while (auto event = again.next(ec))
        if (auto const* got = std::get_if<fedgate::protocol::element_received>(&*event))
            return got->stanza == e;
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size < 1)
        return 0;
    // The first byte picks the chunk size, so split points are explored too.
    std::size_t const chunk = 1 + data[0] % 64;
    std::string_view input{reinterpret_cast<char const*>(data + 1), size - 1};
    fedgate::protocol::stream_reader reader{fedgate::protocol::reader_limits{16 * 1024, 16, 16}};
    std::error_code ec;
    std::size_t appended = 0;
    for (std::size_t at = 0; at < input.size() && !ec; at += chunk) {
        auto piece = input.substr(at, chunk);
        reader.append(piece);
        appended += piece.size();
        while (auto event = reader.next(ec)) {
            if (auto const* e = std::get_if<fedgate::protocol::element_received>(&*event)) {
                if (fedgate::protocol::to_string(e->stanza).empty())
                    std::abort();
                if (!e->stanza.as_received().empty() && !reads_back_the_same(e->stanza))
                    std::abort();
            }
        }
        if (reader.unparsed_size() > appended)
            std::abort();  // the reader cannot hold more than it was given
    }
    return 0;
}
