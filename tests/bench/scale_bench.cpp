// The connection-scale benchmark (issue 10): fedgate as the S2S edge of a.test,
// N concurrent inbound streams from partner b.test, each negotiating STARTTLS and
// SASL EXTERNAL with b.test's test certificate, the negotiations running in
// parallel; then the streams stay open and idle. It measures; it does not assert.
//
//   scale_bench --fedgate build/daemon/fedgate [--streams 10000] [--in-flight 256] [--client-threads 2]
//               [--worker-threads 1]
//
// Prints completed negotiations per wall second and per fedgate CPU-second (with
// one worker thread, the per-core figure), fedgate's RSS per idle
// authenticated stream and its peak RSS, and whether the streams still work.
//
// The client is non-blocking (epoll, non-blocking OpenSSL, one small state machine
// per stream) on a few threads, each keeping at most its share of --in-flight
// negotiations open so fedgate's listen backlog is never overrun: an overrun
// backlog drops SYNs, and the 1 s SYN retransmission would then be what we measure.

#include "tests/bench/bench_lab.hpp"
#include "tests/bench/client_worker.hpp"
#include "tests/bench/component_sink.hpp"
#include "tests/bench/partner_stream.hpp"
#include "tests/bench/server_launchers.hpp"
#include "tests/bench/stamped_messages.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace fedgate::bench;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

struct options {
    std::string fedgate;
    std::string source = FEDGATE_SOURCE_DIR;
    unsigned streams = 10000;
    unsigned in_flight = 256;
    unsigned client_threads = 2;
    unsigned worker_threads = 1;  ///< fedgate's event loops
};

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i], value = argv[i + 1];
        if (key == "--fedgate")
            o.fedgate = value;
        else if (key == "--streams")
            o.streams = static_cast<unsigned>(std::stoul(value));
        else if (key == "--worker-threads")
            o.worker_threads = static_cast<unsigned>(std::stoul(value));
        else if (key == "--in-flight")
            o.in_flight = static_cast<unsigned>(std::stoul(value));
        else if (key == "--client-threads")
            o.client_threads = static_cast<unsigned>(std::stoul(value));
        else
            die("unknown option " + key);
    }
    if (o.fedgate.empty() || o.streams == 0 || o.in_flight == 0 || o.client_threads == 0 || argc % 2 == 0)
        die("usage: scale_bench --fedgate PATH [--streams N] [--in-flight K] [--client-threads T] [--worker-threads W]");
    o.client_threads = std::min(o.client_threads, o.streams);
    return o;
}

// ---- fedgate as a child that dies with us ------------------------------------------

// die() exits; the child and its 10,000 sockets must not outlive us.
pid_t fedgate_pid = 0;

void kill_fedgate_at_exit()
{
    if (fedgate_pid > 0) {
        ::kill(fedgate_pid, SIGKILL);
        ::waitpid(fedgate_pid, nullptr, 0);
    }
}

/// SIGTERM, then SIGKILL if fedgate has not stopped within `grace`; false if it had to be killed.
bool stop_fedgate(std::chrono::seconds grace)
{
    ::kill(fedgate_pid, SIGTERM);
    auto const deadline = steady::now() + grace;
    while (steady::now() < deadline) {
        if (::waitpid(fedgate_pid, nullptr, WNOHANG) == fedgate_pid) {
            fedgate_pid = 0;
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    kill_fedgate_at_exit();
    fedgate_pid = 0;
    return false;
}

// ---- the run ---------------------------------------------------------------------------

/// The kernel's count of connections dropped because a listen queue was full
/// (TcpExt ListenOverflows, this network namespace): the backlog overrun.
long listen_overflows()
{
    std::ifstream netstat{"/proc/net/netstat"};
    std::string names, values;
    while (std::getline(netstat, names) && std::getline(netstat, values)) {
        if (!names.starts_with("TcpExt:"))
            continue;
        std::istringstream n{names}, v{values};
        for (std::string name, value; n >> name && v >> value;)
            if (name == "ListenOverflows")
                return std::stol(value);
    }
    return -1;
}

struct negotiation_phase {
    std::vector<std::unique_ptr<negotiating_stream>> streams;  ///< the authenticated ones
    std::vector<double> seconds_each;
    unsigned failed = 0;
    std::string first_failure;
    double wall = 0;
    double fedgate_cpu = 0;
    double client_cpu = 0;
    long listen_overflows = 0;
};

double own_cpu_seconds()
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto const seconds = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(u.ru_utime) + seconds(u.ru_stime);
}

negotiation_phase negotiate_all(options const& opt, std::uint16_t port, SSL_CTX* ctx)
{
    std::vector<std::unique_ptr<client_worker>> workers;
    for (unsigned t = 0; t < opt.client_threads; ++t) {
        auto const share = opt.streams / opt.client_threads + (t < opt.streams % opt.client_threads ? 1 : 0);
        // At least one each: a worker allowed none would never start a stream.
        auto const in_flight = std::max(1u, opt.in_flight / opt.client_threads);
        workers.push_back(std::make_unique<client_worker>(port, ctx, "a.test", share, in_flight));
    }
    negotiation_phase phase;
    double const cpu0 = cpu_seconds(fedgate_pid), own0 = own_cpu_seconds();
    long const overflows0 = listen_overflows();
    auto const t0 = steady::now();
    std::vector<std::thread> threads;
    for (auto& w : workers)
        threads.emplace_back([&w] { w->run(); });
    for (auto& t : threads)
        t.join();
    phase.wall = std::chrono::duration<double>(steady::now() - t0).count();
    phase.fedgate_cpu = cpu_seconds(fedgate_pid) - cpu0;
    phase.client_cpu = own_cpu_seconds() - own0;
    phase.listen_overflows = listen_overflows() - overflows0;
    for (auto& w : workers) {
        for (auto& s : w->streams_)
            if (s)
                phase.streams.push_back(std::move(s));
        phase.seconds_each.insert(phase.seconds_each.end(), w->seconds_each_.begin(), w->seconds_each_.end());
        phase.failed += w->failed_;
        if (phase.first_failure.empty())
            phase.first_failure = w->first_failure_;
    }
    return phase;
}

unsigned count_open(std::vector<std::unique_ptr<negotiating_stream>> const& streams)
{
    return static_cast<unsigned>(std::count_if(streams.begin(), streams.end(), [](auto const& s) { return s->open(); }));
}

/// One message on each of `samples` random authenticated streams; how many reached the sink.
std::uint64_t messages_through(std::vector<std::unique_ptr<negotiating_stream>>& streams, sink& internal,
                               unsigned samples, std::string& failure)
{
    std::mt19937 random{20261130};
    std::uniform_int_distribution<std::size_t> pick{0, streams.size() - 1};
    auto const before = internal.messages.load();
    unsigned sent = 0;
    for (unsigned n = 0; n < samples && !streams.empty(); ++n) {
        auto const index = pick(random);
        if (streams[index]->send_now(message(static_cast<unsigned>(index), n, "a.test")))
            ++sent;
        else if (failure.empty())
            failure = "stream " + std::to_string(index) + ": " + streams[index]->failure();
    }
    auto const deadline = steady::now() + std::chrono::seconds{10};
    while (internal.messages - before < sent && steady::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
    return internal.messages - before;
}

std::string read_first_line(std::string const& path)
{
    std::ifstream in{path};
    std::string line;
    std::getline(in, line);
    std::replace(line.begin(), line.end(), '\t', '-');
    return line;
}

std::size_t open_descriptors(pid_t pid)
{
    std::error_code ignored;
    auto entries = fs::directory_iterator{"/proc/" + std::to_string(pid) + "/fd", ignored};
    return static_cast<std::size_t>(std::distance(fs::begin(entries), fs::end(entries)));
}

/// How long fedgate takes to release every stream after the partner closed them
/// all (its descriptor count back to `baseline`); negative if not within 30 s.
double seconds_to_release(std::size_t baseline)
{
    auto const t0 = steady::now();
    while (steady::now() - t0 < std::chrono::seconds{30}) {
        if (open_descriptors(fedgate_pid) <= baseline)
            return std::chrono::duration<double>(steady::now() - t0).count();
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return -1;
}

/// Each stream is a descriptor here and one in fedgate; die early and clearly
/// rather than fail at stream 9,990 with EMFILE.
void check_descriptor_limit(unsigned streams)
{
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < streams + 64ULL)
        die("the descriptor limit is " + std::to_string(files.rlim_cur) + ", too low for " + std::to_string(streams) +
            " streams (raising it needs root with CAP_SYS_RESOURCE, or a higher hard limit)");
}

/// fedgate logs at warn level: anything there at scale deserves a look.
void print_log_summary(fs::path const& log)
{
    std::ifstream in{log};
    std::string line, first;
    unsigned lines = 0;
    while (std::getline(in, line))
        if (lines++ == 0)
            first = line;
    std::printf("  fedgate log        %8u lines at warn level%s%s\n", lines, lines ? ", the first: " : "", first.c_str());
}

/// The host limits that bite at 10,000 streams, to read next to the figures.
void print_host_limits()
{
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    std::printf("  host limits        descriptors %llu, ephemeral ports %s, somaxconn %s, tcp_max_syn_backlog %s\n",
                static_cast<unsigned long long>(files.rlim_cur),
                read_first_line("/proc/sys/net/ipv4/ip_local_port_range").c_str(),
                read_first_line("/proc/sys/net/core/somaxconn").c_str(),
                read_first_line("/proc/sys/net/ipv4/tcp_max_syn_backlog").c_str());
}

}  // namespace

int main(int argc, char** argv)
{
    auto const opt = parse(argc, argv);
    ::signal(SIGPIPE, SIG_IGN);
    // Each stream is a descriptor here and one in fedgate (which inherits the limit).
    raise_descriptor_limit();
    check_descriptor_limit(opt.streams);
    char pattern[] = "/tmp/fedgate-scale-XXXXXX";
    fs::path dir = ::mkdtemp(pattern);
    make_certificates(opt.source, dir);

    sink internal;
    auto const s2s_port = free_port();
    std::string const secret = "bench-component-secret-0123456789";
    fedgate_pid = start_fedgate(opt.fedgate, dir, s2s_port, internal, secret, 9, opt.worker_threads);
    std::atexit(kill_fedgate_at_exit);
    for (int i = 0; i < 400 && !internal.linked; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds{25});
    if (!internal.linked)
        die("fedgate did not link to the sink; see " + (dir / "fedgate.log").string());

    SSL_CTX* ctx = partner_context(dir);
    // Every stream a full handshake, as a partner's new stream costs: the client
    // caches no session and never offers one.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

    long const rss_before = current_rss_kib(fedgate_pid);
    auto const descriptors_before = open_descriptors(fedgate_pid);
    auto phase = negotiate_all(opt, s2s_port, ctx);
    auto const authenticated = static_cast<unsigned>(phase.streams.size());
    // Let fedgate settle (freed handshake state, allocator trimming) before reading RSS.
    std::this_thread::sleep_for(std::chrono::seconds{1});
    long const rss_idle = current_rss_kib(fedgate_pid);
    std::this_thread::sleep_for(std::chrono::seconds{1});
    auto const still_open = count_open(phase.streams);
    unsigned const samples = std::min(10U, authenticated);
    std::string message_failure;
    auto const arrived = messages_through(phase.streams, internal, samples, message_failure);
    long const peak = peak_rss_kib(fedgate_pid);

    std::printf("scale_bench: fedgate, %u concurrent inbound TLS+EXTERNAL streams from b.test "
                "(at most %u negotiating at once, %u client threads, no session resumption)\n",
                opt.streams, opt.in_flight, opt.client_threads);
    std::printf("  authenticated      %8u of %u (failed %u)\n", authenticated, opt.streams, phase.failed);
    if (!phase.first_failure.empty())
        std::printf("  first failure      %s\n", phase.first_failure.c_str());
    std::printf("  wall               %8.3f s   -> %8.0f negotiations/s (each: p50 %.1f ms, p99 %.1f ms)\n", phase.wall,
                authenticated / phase.wall, 1000 * quantile(phase.seconds_each, 0.5),
                1000 * quantile(phase.seconds_each, 0.99));
    std::printf("  fedgate CPU        %8.3f s   -> %8.0f negotiations per CPU-second (%u thread%s%s)\n",
                phase.fedgate_cpu, phase.fedgate_cpu > 0 ? authenticated / phase.fedgate_cpu : 0.0,
                opt.worker_threads, opt.worker_threads == 1 ? "" : "s", opt.worker_threads == 1 ? ": per core" : "");
    std::printf("  client CPU         %8.3f s   (the load generator, on the same cores)\n", phase.client_cpu);
    std::printf("  RSS per idle authenticated stream %6.1f KiB (%ld KiB before the streams, %ld with them idle)\n",
                authenticated ? static_cast<double>(rss_idle - rss_before) / authenticated : 0.0, rss_before,
                rss_idle);
    std::printf("  fedgate peak RSS   %8ld KiB\n", peak);
    std::printf("  still open after 2 s %6u of %u\n", still_open, authenticated);
    std::printf("  messages through   %8llu of %u (one each on %u random streams)\n",
                static_cast<unsigned long long>(arrived), samples, samples);
    if (!message_failure.empty())
        std::printf("  message failure    %s\n", message_failure.c_str());
    print_host_limits();
    std::printf("  listen overflows   %8ld during the negotiations (kernel TcpExt ListenOverflows: the backlog overran)\n",
                phase.listen_overflows);

    phase.streams.clear();  // the partner closes every TCP connection at once, no </stream:stream>
    SSL_CTX_free(ctx);
    auto const release = seconds_to_release(descriptors_before);
    if (release >= 0)
        std::printf("  all released in   %8.3f s   (fedgate's descriptors back to %zu; RSS then %ld KiB)\n", release,
                    descriptors_before, current_rss_kib(fedgate_pid));
    else
        std::printf("  all released in    -- fedgate still held %zu descriptors 30 s after the close (%zu before)\n",
                    open_descriptors(fedgate_pid), descriptors_before);
    auto const t_stop = steady::now();
    bool const stopped = stop_fedgate(std::chrono::seconds{15});
    std::printf("  stop (SIGTERM)     %8.3f s%s\n", std::chrono::duration<double>(steady::now() - t_stop).count(),
                stopped ? "" : "   (fedgate did not stop within 15 s: killed)");
    print_log_summary(dir / "fedgate.log");
    std::fflush(stdout);
    bool const ok = phase.failed == 0 && still_open == authenticated && arrived == samples && release >= 0 && stopped;
    if (ok)
        fs::remove_all(dir);
    else
        std::printf("  kept for a look    %s (fedgate.log)\n", dir.c_str());
    return ok ? 0 : 1;
}
