// The relay benchmark (issue 10): the server under test (fedgate, Prosody or
// ejabberd) as the S2S edge of a.test, with a XEP-0114 component standing in
// for the internal server. It measures; it does not assert (but exits 1 on loss).
//
//   relay_bench --fedgate PATH | --prosody PATH | --ejabberd PATH-TO-EJABBERDCTL
//               [--streams 4] [--stanzas 50000] [--rate R] [--direction inbound|outbound]
//               [--worker-threads 1]
//
// Inbound (the default): N streams from partner b.test (STARTTLS + SASL EXTERNAL
// with b.test's test certificate) each send M pre-serialised 300-byte messages;
// the sink counts what arrives on the component link.
// Outbound: the sink sends N x M messages into the component link, to b.test;
// the server resolves b.test through the benchmark's dnsmasq and opens an S2S
// stream to the benchmark, which plays b.test's server (STARTTLS, EXTERNAL) and
// counts what arrives.
// --rate R: R stanzas per second over all senders, in a small batch each
// millisecond, each stanza stamped with its send time; prints the added latency
// (p50, p99, max). Without it: as fast as the server takes them.
//
// Prints stanzas per wall second, the server's CPU seconds (utime + stime from
// /proc; for ejabberd, of the Erlang VM) and stanzas per CPU-second, peak RSS
// (VmHWM), and the loss (must be 0).

#include "tests/bench/bench_lab.hpp"
#include "tests/dns/dns_servers.hpp"
#include "tests/bench/component_sink.hpp"
#include "tests/bench/partner_stream.hpp"
#include "tests/bench/remote_server.hpp"
#include "tests/bench/server_launchers.hpp"
#include "tests/bench/stamped_messages.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace fedgate::bench;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

constexpr std::size_t stanza_size = 300;

enum class server_kind { fedgate, prosody, ejabberd };

struct options {
    server_kind server = server_kind::fedgate;
    std::string binary;
    std::string source = FEDGATE_SOURCE_DIR;
    unsigned streams = 4;
    unsigned stanzas = 50000;
    double rate = 0;  ///< stanzas per second over all senders; 0: as fast as taken
    bool outbound = false;
    unsigned worker_threads = 1;  ///< fedgate's event loops
};

char const* name(server_kind server)
{
    switch (server) {
    case server_kind::fedgate: return "fedgate";
    case server_kind::prosody: return "Prosody";
    case server_kind::ejabberd: return "ejabberd";
    }
    return "?";
}

[[noreturn]] void usage()
{
    die("usage: relay_bench --fedgate PATH | --prosody PATH | --ejabberd EJABBERDCTL [--streams N] [--stanzas M] "
        "[--rate STANZAS_PER_SECOND] [--direction inbound|outbound] [--worker-threads N]");
}

options parse(int argc, char** argv)
{
    options o;
    unsigned servers = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i], value = argv[i + 1];
        if (key == "--fedgate" || key == "--prosody" || key == "--ejabberd") {
            o.server = key == "--fedgate" ? server_kind::fedgate
                       : key == "--prosody" ? server_kind::prosody
                                            : server_kind::ejabberd;
            o.binary = value;
            ++servers;
        } else if (key == "--streams")
            o.streams = static_cast<unsigned>(std::stoul(value));
        else if (key == "--worker-threads")
            o.worker_threads = static_cast<unsigned>(std::stoul(value));
        else if (key == "--stanzas")
            o.stanzas = static_cast<unsigned>(std::stoul(value));
        else if (key == "--rate")
            o.rate = std::stod(value);
        else if (key == "--direction" && (value == "inbound" || value == "outbound"))
            o.outbound = value == "outbound";
        else
            usage();
    }
    if (servers != 1 || argc % 2 == 0 || o.streams == 0 || o.stanzas == 0)
        usage();
    return o;
}

/// Writes `stanzas` (stanza_size bytes each) through `write`. Rate 0: as fast
/// as they are taken, 64 KiB at a time. Otherwise at `rate` stanzas per second:
/// each millisecond the stanzas then due, in one write, stamped with its time
/// (small batches, the way steady traffic reaches a server, not bursts).
void send_stanzas(std::string const& stanzas, double rate, std::function<void(std::string_view)> const& write)
{
    if (rate <= 0) {
        constexpr std::size_t chunk = 218 * stanza_size;
        for (std::size_t at = 0; at < stanzas.size(); at += chunk)
            write(std::string_view{stanzas}.substr(at, chunk));
        return;
    }
    auto const count = stanzas.size() / stanza_size;
    auto const start = steady::now();
    std::string batch;
    for (std::size_t sent = 0; sent < count;) {
        auto const now = steady::now();
        auto const due = std::min(
            count, static_cast<std::size_t>(std::chrono::duration<double>(now - start).count() * rate) + 1);
        if (due > sent) {
            batch.assign(stanzas, sent * stanza_size, (due - sent) * stanza_size);
            stamp(batch, steady::now());
            write(batch);
            sent = due;
        }
        std::this_thread::sleep_until(now + std::chrono::milliseconds{1});
    }
}

/// Waits until `arrived` reaches `total`, or until it stops moving for 10 s.
void wait_for(std::atomic<std::uint64_t> const& arrived, std::uint64_t total)
{
    auto last = arrived.load();
    auto moved = steady::now();
    while (arrived < total && steady::now() - moved < std::chrono::seconds{10}) {
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
        if (auto now = arrived.load(); now != last) {
            last = now;
            moved = steady::now();
        }
    }
}

/// What one run measured.
struct figures {
    std::uint64_t total = 0, got = 0;
    double wall = 0, cpu = 0;
    long peak_rss = 0;
    latency_log::summary latency;
};

/// Reads the server's CPU and wall time around `run`.
figures measure(pid_t server, std::function<void()> const& run)
{
    figures f;
    double const cpu0 = cpu_seconds(server);
    auto const t0 = steady::now();
    run();
    f.wall = std::chrono::duration<double>(steady::now() - t0).count();
    f.cpu = cpu_seconds(server) - cpu0;
    f.peak_rss = peak_rss_kib(server);
    return f;
}

/// N partner streams into the server, M messages each, counted by the sink.
figures run_inbound(options const& opt, pid_t server, std::uint16_t s2s_port, fs::path const& dir, sink& internal)
{
    // fedgate is the edge of a.test; Prosody and ejabberd serve the component
    // sink.a.test, which the sink joins: the partner's stanzas go there.
    std::string const target_domain = opt.server == server_kind::fedgate ? "a.test" : "sink.a.test";
    SSL_CTX* ctx = partner_context(dir);

    long const rss_before = current_rss_kib(server);
    auto const negotiation_start = steady::now();
    std::vector<std::unique_ptr<partner_stream>> streams;
    for (unsigned s = 0; s < opt.streams; ++s) {
        streams.push_back(std::make_unique<partner_stream>(s2s_port, ctx, target_domain));
        streams.back()->negotiate();
    }
    auto const negotiated = steady::now();
    long const rss_streams = current_rss_kib(server);

    std::vector<std::string> stanzas(opt.streams);  // pre-serialised
    for (unsigned s = 0; s < opt.streams; ++s)
        for (unsigned n = 0; n < opt.stanzas; ++n)
            stanzas[s] += message(s, n, target_domain);

    auto const total = static_cast<std::uint64_t>(opt.streams) * opt.stanzas;
    auto f = measure(server, [&] {
        std::vector<std::thread> senders;
        for (unsigned s = 0; s < opt.streams; ++s)
            senders.emplace_back([&, s] {
                send_stanzas(stanzas[s], opt.rate / opt.streams, [&](std::string_view b) { streams[s]->send(b); });
            });
        for (auto& t : senders)
            t.join();
        wait_for(internal.messages, total);
    });
    f.total = total;
    f.got = internal.messages;
    f.latency = internal.latencies.summarise();

    std::printf("relay_bench: %s, inbound: %u TLS+EXTERNAL streams from b.test x %u stanzas of 300 bytes, to a "
                "component\n",
                name(opt.server), opt.streams, opt.stanzas);
    std::printf("  negotiation        %8.1f ms for %u streams (one after the other)\n",
                std::chrono::duration<double, std::milli>(negotiated - negotiation_start).count(), opt.streams);
    std::printf("  RSS per idle authenticated stream %6.1f KiB (%ld KiB before the streams, %ld after)\n",
                static_cast<double>(rss_streams - rss_before) / opt.streams, rss_before, rss_streams);
    streams.clear();
    SSL_CTX_free(ctx);
    return f;
}

/// N x M messages from the component link out to b.test, counted by the
/// benchmark's b.test server. A first message opens the S2S stream (DNS, TLS,
/// EXTERNAL) before the clock starts.
figures run_outbound(options const& opt, pid_t server, sink& internal, remote_server& b_test)
{
    auto const first = steady::now();
    internal.send(message("alice@a.test/bench", "user0@b.test", "first"));
    wait_for(b_test.messages, 1);
    if (b_test.messages < 1)
        die("the first message did not reach b.test (DNS, S2S connection or EXTERNAL failed); see the server's log");
    auto const connected = steady::now();

    std::string stanzas;  // pre-serialised, to N users of b.test in turn
    for (unsigned n = 0; n < opt.stanzas; ++n)
        for (unsigned s = 0; s < opt.streams; ++s)
            stanzas += message("alice@a.test/bench", "user" + std::to_string(s) + "@b.test",
                               std::to_string(s) + "-" + std::to_string(n));
    auto const total = static_cast<std::uint64_t>(opt.streams) * opt.stanzas;
    auto f = measure(server, [&] {
        send_stanzas(stanzas, opt.rate, [&](std::string_view b) { internal.send(b); });
        wait_for(b_test.messages, total + 1);
    });
    f.total = total;
    f.got = b_test.messages - 1;
    f.latency = b_test.latencies.summarise();

    std::printf("relay_bench: %s, outbound: %llu stanzas of 300 bytes from the component link to %u users of b.test, "
                "out over S2S (STARTTLS + EXTERNAL)\n",
                name(opt.server), static_cast<unsigned long long>(total), opt.streams);
    std::printf("  first stanza       %8.1f ms (DNS, S2S connection, STARTTLS, EXTERNAL; %u stream(s) to b.test)\n",
                std::chrono::duration<double, std::milli>(connected - first).count(), b_test.authenticated.load());
    return f;
}

void print(options const& opt, figures const& f)
{
    std::printf("  relayed            %8llu of %llu (loss %llu)\n", static_cast<unsigned long long>(f.got),
                static_cast<unsigned long long>(f.total),
                static_cast<unsigned long long>(f.total - std::min(f.total, f.got)));
    std::printf("  wall               %8.3f s   -> %10.0f stanzas/s\n", f.wall, static_cast<double>(f.got) / f.wall);
    std::printf("  server CPU         %8.3f s   -> %10.0f stanzas per CPU-second\n", f.cpu,
                f.cpu > 0 ? static_cast<double>(f.got) / f.cpu : 0.0);
    std::printf("  server peak RSS   %8ld KiB\n", f.peak_rss);
    if (opt.rate > 0)
        std::printf("  added latency at %.0f stanzas/s: p50 %.0f us, p99 %.0f us, max %.0f us (%zu samples)\n",
                    opt.rate, f.latency.p50_us, f.latency.p99_us, f.latency.max_us, f.latency.samples);
}

}  // namespace

int main(int argc, char** argv)
{
    auto const opt = parse(argc, argv);
    ::signal(SIGPIPE, SIG_IGN);
    stop_children_on_signals();
    // Many streams need many descriptors, here and in the server (which inherits it).
    raise_descriptor_limit();
    char pattern[] = "/tmp/fedgate-bench-XXXXXX";
    fs::path dir = ::mkdtemp(pattern);
    make_certificates(opt.source, dir, opt.server != server_kind::ejabberd);

    // Outbound: b.test is the benchmark, found through a dnsmasq of its own.
    std::unique_ptr<remote_server> b_test;
    std::uint16_t dns_port = 9;  // inbound: no lookups expected
    if (opt.outbound) {
        b_test = std::make_unique<remote_server>(dir);
        dns_port = fedgate::test::free_udp_port();  // free for UDP and TCP, below the ephemeral range
        start_dnsmasq(dir, dns_port, b_test->port());
    }

    sink internal;
    auto const s2s_port = free_port();
    std::string const secret = "bench-component-secret-0123456789";
    pid_t const server = opt.server == server_kind::fedgate
                             ? start_fedgate(opt.binary, dir, s2s_port, internal, secret, dns_port, opt.worker_threads)
                         : opt.server == server_kind::prosody
                             ? start_prosody(opt.binary, dir, s2s_port, internal, secret, dns_port)
                             : start_ejabberd(opt.binary, dir, s2s_port, internal, secret, dns_port);
    for (int i = 0; i < 400 && !internal.linked; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds{25});
    if (!internal.linked)
        die("the server did not link to the sink; see the log in " + dir.string());

    auto const f = opt.outbound ? run_outbound(opt, server, internal, *b_test)
                                : run_inbound(opt, server, s2s_port, dir, internal);
    print(opt, f);

    stop_children();
    fs::remove_all(dir);
    return f.got == f.total ? 0 : 1;
}
