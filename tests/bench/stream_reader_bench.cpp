// Throughput of protocol::stream_reader against raw expat over the same bytes in
// the same run: report the ratio, not the absolute figure (shared, noisy machines).
#include "protocol/stream_reader.hpp"

#include <benchmark/benchmark.h>
#include <expat.h>

#include <string>

namespace {

std::string make_stream(int stanzas)
{
    std::string s = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                    "xmlns:stream='http://etherx.jabber.org/streams' from='fabrikam.example' to='contoso.example' "
                    "version='1.0'>";
    for (int i = 0; i < stanzas; ++i)
        s += "<message from='bob@fabrikam.example/phone' to='alice@contoso.example' type='chat' id='m" +
             std::to_string(i) +
             "'><body>Hello Alice, this is a fairly ordinary chat message with some text in it. Grüße!</body>"
             "<active xmlns='http://jabber.org/protocol/chatstates'/></message>";
    return s;
}

std::string const input = make_stream(1000);
constexpr std::size_t chunk = 16 * 1024;  // what the daemon reads at a time

void raw_expat(benchmark::State& state)
{
    for (auto _ : state) {
        XML_Parser p = XML_ParserCreateNS("UTF-8", ' ');
        int elements = 0;
        XML_SetUserData(p, &elements);
        XML_SetElementHandler(
            p, [](void* d, char const*, char const**) { ++*static_cast<int*>(d); }, [](void*, char const*) {});
        XML_SetCharacterDataHandler(p, [](void*, char const*, int) {});
        for (std::size_t at = 0; at < input.size(); at += chunk) {
            auto n = std::min(chunk, input.size() - at);
            XML_Parse(p, input.data() + at, static_cast<int>(n), XML_FALSE);
        }
        benchmark::DoNotOptimize(elements);
        XML_ParserFree(p);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}
BENCHMARK(raw_expat);

void stream_reader_events(benchmark::State& state)
{
    for (auto _ : state) {
        fedgate::protocol::stream_reader r;
        std::error_code ec;
        int events = 0;
        for (std::size_t at = 0; at < input.size(); at += chunk) {
            r.append(std::string_view{input}.substr(at, chunk));
            while (auto e = r.next(ec))
                ++events;
        }
        benchmark::DoNotOptimize(events);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}
BENCHMARK(stream_reader_events);

}  // namespace

BENCHMARK_MAIN();
