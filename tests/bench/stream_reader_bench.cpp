// Throughput of protocol::stream_reader (events with full element trees) against
// raw expat with namespace processing and no-op handlers, over the same bytes in the
// same run. The figure that counts is the ratio, printed at the end: these machines
// are shared and noisy, absolute numbers are not comparable between runs.
#include "protocol/stream_reader.hpp"

#include <benchmark/benchmark.h>
#include <expat.h>

#include <iostream>
#include <map>
#include <string>

namespace {

/// A realistic ~300-byte chat message: addresses with resources, id, xml:lang, a
/// body, a chat state and an origin-id (XEP-0085, XEP-0359).
std::string message(int i)
{
    std::string id = "5f3c9e1a-7b2d-4c" + std::to_string(10000 + i);
    return "<message from='juliet@capulet.example/balcony' to='romeo@montague.example' type='chat' id='" + id +
           "' xml:lang='en'><body>Wherefore art thou, Romeo? Deny thy father &amp; refuse thy name.</body><active xmlns='http://jabber.org/protocol/chatstates'/><origin-id "
           "xmlns='urn:xmpp:sid:0' id='" + id + "'/></message>";
}

constexpr int stanza_count = 2000;

std::string make_stream()
{
    std::string s = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                    "xmlns:stream='http://etherx.jabber.org/streams' from='capulet.example' to='montague.example' "
                    "version='1.0'>";
    for (int i = 0; i < stanza_count; ++i)
        s += message(i);
    return s;
}

std::string const input = make_stream();
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
    state.SetItemsProcessed(state.iterations() * stanza_count);
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
        if (ec || events != stanza_count + 1)
            state.SkipWithError("the reader did not read the stream");
        benchmark::DoNotOptimize(events);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
    state.SetItemsProcessed(state.iterations() * stanza_count);
}
BENCHMARK(stream_reader_events);

/// A stream header with `attributes` attributes of 6 bytes (" aN='x'" grows a
/// little with N), as one hostile peer sent before authenticating (issue 16).
std::string hostile_header(int attributes)
{
    std::string s = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                    "xmlns:stream='http://etherx.jabber.org/streams' to='montague.example'";
    for (int i = 0; i < attributes; ++i)
        s += " a" + std::to_string(i) + "='x'";
    return s + ">";
}

/// Raw expat over the whole header at once: what parsing it costs when nothing
/// bounds it (the baseline of the two below).
void raw_expat_hostile_header(benchmark::State& state)
{
    auto const header = hostile_header(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        XML_Parser p = XML_ParserCreateNS("UTF-8", ' ');
        auto status = XML_Parse(p, header.data(), static_cast<int>(header.size()), XML_FALSE);
        benchmark::DoNotOptimize(status);
        XML_ParserFree(p);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * header.size()));
}
BENCHMARK(raw_expat_hostile_header)->Arg(100'000)->Unit(benchmark::kMillisecond);

/// The reader given the same header in one append: refused at max_header_bytes.
void stream_reader_refuses_hostile_header(benchmark::State& state)
{
    auto const header = hostile_header(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        fedgate::protocol::stream_reader r;
        std::error_code ec;
        r.append(header);
        auto e = r.next(ec);
        if (e || !ec)
            state.SkipWithError("the reader accepted the header");
        benchmark::DoNotOptimize(e);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * header.size()));
}
BENCHMARK(stream_reader_refuses_hostile_header)->Arg(100'000)->Unit(benchmark::kMillisecond);

/// The largest header the limits let through (4096 bytes, 16 attributes).
void stream_reader_header_at_the_limit(benchmark::State& state)
{
    std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                         "xmlns:stream='http://etherx.jabber.org/streams' to='montague.example' from='";
    std::string const tail = "' version='1.0'>";
    header += std::string(4096 - header.size() - tail.size(), 'c') + tail;
    for (auto _ : state) {
        fedgate::protocol::stream_reader r;
        std::error_code ec;
        r.append(header);
        auto e = r.next(ec);
        if (!e || ec)
            state.SkipWithError("the reader refused a header at the limit");
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(stream_reader_header_at_the_limit)->Unit(benchmark::kMicrosecond);

/// Prints the usual table, then stream_reader's throughput as a share of raw
/// expat's, from the medians when repetitions are asked for.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(std::vector<Run> const& runs) override
    {
        ConsoleReporter::ReportRuns(runs);
        for (auto const& run : runs) {
            if (run.error_occurred)
                continue;
            auto const& name = run.run_name.function_name;
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median")
                median_[name] = run.GetAdjustedRealTime();
            else if (run.run_type == Run::RT_Iteration)
                last_[name] = run.GetAdjustedRealTime();
        }
    }
    void Finalize() override
    {
        ConsoleReporter::Finalize();
        auto time_of = [&](std::string const& name) {
            return median_.count(name) ? median_[name] : last_.count(name) ? last_[name] : 0.0;
        };
        double const raw = time_of("raw_expat");
        double const reader = time_of("stream_reader_events");
        if (raw > 0 && reader > 0)
            std::cout << "stream_reader throughput / raw expat throughput = " << raw / reader << " (messages of "
                      << message(0).size() << " bytes)\n";
    }

private:
    std::map<std::string, double> median_;
    std::map<std::string, double> last_;
};

}  // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
}
