// libFuzzer target: arbitrary bytes, fed to a stream_reader in chunks whose sizes
// the input chooses, every event drained and every element written back out.
// Crashes, sanitizer reports and leaks are the findings.
#include "protocol/serializer.hpp"
#include "protocol/stream_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

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
            }
        }
        if (reader.unparsed_size() > appended)
            std::abort();  // the reader cannot hold more than it was given
    }
    return 0;
}
