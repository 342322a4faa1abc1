// The relay benchmark (issue 10, first part): fedgate as the S2S edge of a.test,
// N inbound streams from partner b.test (STARTTLS + SASL EXTERNAL with b.test's
// test certificate) each sending M pre-serialised ~300-byte messages as fast as
// fedgate takes them, and a XEP-0114 sink standing in for the internal server
// that counts what arrives. It measures; it does not assert.
//
//   relay_bench --fedgate build/daemon/fedgate [--streams 4] [--stanzas 50000]
//
// Prints stanzas per wall second, fedgate's CPU seconds (utime + stime from
// /proc) and stanzas per CPU-second, peak RSS (VmHWM), and the loss (must be 0).

#include "tests/bench/bench_lab.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace fedgate::bench;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

struct options {
    std::string fedgate;
    std::string prosody;  ///< set: measure Prosody instead, on the same route
    std::string source = FEDGATE_SOURCE_DIR;
    unsigned streams = 4;
    unsigned stanzas = 50000;
};

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i], value = argv[i + 1];
        if (key == "--fedgate")
            o.fedgate = value;
        else if (key == "--prosody")
            o.prosody = value;
        else if (key == "--streams")
            o.streams = static_cast<unsigned>(std::stoul(value));
        else if (key == "--stanzas")
            o.stanzas = static_cast<unsigned>(std::stoul(value));
        else
            die("unknown option " + key);
    }
    if (o.fedgate.empty() == o.prosody.empty())
        die("usage: relay_bench --fedgate PATH | --prosody PATH [--streams N] [--stanzas M]");
    return o;
}

}  // namespace

int main(int argc, char** argv)
{
    auto const opt = parse(argc, argv);
    ::signal(SIGPIPE, SIG_IGN);
    // Many streams need many descriptors, here and in fedgate (which inherits it).
    raise_descriptor_limit();
    char pattern[] = "/tmp/fedgate-bench-XXXXXX";
    fs::path dir = ::mkdtemp(pattern);
    make_certificates(opt.source, dir);

    sink internal;
    auto const s2s_port = free_port();
    bool const prosody = !opt.prosody.empty();
    // fedgate: the S2S edge of a.test, linked to the sink as b.test's component.
    // Prosody: serves a.test and the component sink.a.test, which the sink joins;
    // the partner's streams and stanzas go to sink.a.test.
    std::string const target_domain = prosody ? "sink.a.test" : "a.test";
    std::string const secret = "bench-component-secret-0123456789";
    pid_t pid = prosody ? start_prosody(opt.prosody, dir, s2s_port, internal, secret) : start_fedgate(opt.fedgate, dir, s2s_port, internal, secret);
    for (int i = 0; i < 400 && !internal.linked; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds{25});
    if (!internal.linked)
        die("the server did not link to the sink; see the log in " + dir.string());

    SSL_CTX* ctx = partner_context(dir);

    long const rss_before = current_rss_kib(pid);
    auto const negotiation_start = steady::now();
    std::vector<std::unique_ptr<partner_stream>> streams;
    for (unsigned s = 0; s < opt.streams; ++s) {
        streams.push_back(std::make_unique<partner_stream>(s2s_port, ctx, target_domain));
        streams.back()->negotiate();
    }
    auto const negotiated = steady::now();
    long const rss_streams = current_rss_kib(pid);

    // Pre-serialised, in 64 KiB writes.
    std::vector<std::vector<std::string>> batches(opt.streams);
    for (unsigned s = 0; s < opt.streams; ++s) {
        std::string batch;
        for (unsigned n = 0; n < opt.stanzas; ++n) {
            batch += message(s, n, target_domain);
            if (batch.size() >= 65536 || n + 1 == opt.stanzas) {
                batches[s].push_back(std::move(batch));
                batch.clear();
            }
        }
    }
    auto const total = static_cast<std::uint64_t>(opt.streams) * opt.stanzas;
    double const cpu0 = cpu_seconds(pid);
    auto const t0 = steady::now();
    std::vector<std::thread> senders;
    for (unsigned s = 0; s < opt.streams; ++s)
        senders.emplace_back([&, s] {
            for (auto const& b : batches[s])
                streams[s]->send(b);
        });
    for (auto& t : senders)
        t.join();
    auto deadline = steady::now() + std::chrono::seconds{120};
    while (internal.messages < total && steady::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    auto const t1 = steady::now();
    double const cpu1 = cpu_seconds(pid);
    long const rss = peak_rss_kib(pid);

    double const wall = std::chrono::duration<double>(t1 - t0).count();
    double const cpu = cpu1 - cpu0;
    auto const got = internal.messages.load();
    std::printf("relay_bench: %s, %u inbound TLS+EXTERNAL streams x %u stanzas of 300 bytes\n",
                prosody ? "Prosody" : "fedgate", opt.streams, opt.stanzas);
    std::printf("  negotiation        %8.1f ms for %u streams (one after the other)\n",
                std::chrono::duration<double, std::milli>(negotiated - negotiation_start).count(), opt.streams);
    std::printf("  RSS per idle authenticated stream %6.1f KiB (%ld KiB before the streams, %ld after)\n",
                static_cast<double>(rss_streams - rss_before) / opt.streams, rss_before, rss_streams);
    std::printf("  relayed            %8llu of %llu (loss %llu)\n", static_cast<unsigned long long>(got),
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(total - std::min(total, got)));
    std::printf("  wall               %8.3f s   -> %10.0f stanzas/s\n", wall, static_cast<double>(got) / wall);
    std::printf("  server CPU         %8.3f s   -> %10.0f stanzas per CPU-second\n", cpu,
                cpu > 0 ? static_cast<double>(got) / cpu : 0.0);
    std::printf("  server peak RSS   %8ld KiB\n", rss);

    streams.clear();
    SSL_CTX_free(ctx);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    fs::remove_all(dir);
    return got == total ? 0 : 1;
}
