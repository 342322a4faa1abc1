// How evenly two ways of spreading accepted connections over worker threads
// spread them (issue 19 §1: "per-thread SO_REUSEPORT listeners, or one acceptor
// handing sockets out: measure which balances better"). S2S streams live long
// and are few (a partner opens one or a handful), so what matters is how the
// connections of one moment are shared out, not the accept rate.
//
//   accept_balance_bench [--threads 2] [--connections 16] [--trials 200]
//
// Each trial opens CONNECTIONS TCP connections from 127.0.0.1 (each from its own
// ephemeral port, as streams from one partner's server would be) to fresh
// listeners, and counts which thread each landed on:
//   reuseport     one acceptor per thread on the same port (SO_REUSEPORT): the
//                 kernel picks the thread by a hash of the connection's addresses
//   one-acceptor  one acceptor on thread 0 hands each socket to the next thread
//                 in turn (released and assigned to that thread's io_context)
// Prints, per mode, the busiest thread's share of the connections: its mean over
// the trials, the worst trial, and how many trials were split exactly evenly.
// It measures; it does not assert.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct options {
    unsigned threads = 2;
    unsigned connections = 16;
    unsigned trials = 200;
};

[[noreturn]] void usage()
{
    std::fprintf(stderr, "usage: accept_balance_bench [--threads N] [--connections M] [--trials T]\n");
    std::exit(2);
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view const key = argv[i];
        auto const value = static_cast<unsigned>(std::stoul(argv[i + 1]));
        if (key == "--threads")
            o.threads = value;
        else if (key == "--connections")
            o.connections = value;
        else if (key == "--trials")
            o.trials = value;
        else
            usage();
    }
    if (argc % 2 == 0 || o.threads < 2 || o.connections == 0 || o.trials == 0)
        usage();
    return o;
}

/// N io_contexts, each run by its own thread until stopped; per thread, the
/// sockets it owns and how many it accepted.
class workers {
public:
    explicit workers(unsigned n) : contexts_(n), owned_(n), counts_(n)
    {
        for (unsigned i = 0; i < n; ++i) {
            guards_.emplace_back(asio::make_work_guard(contexts_[i]));
            threads_.emplace_back([this, i] { contexts_[i].run(); });
        }
    }
    ~workers() { stop(); }
    /// Stops and joins the threads: what they ran may then be destroyed here.
    void stop()
    {
        for (auto& g : guards_)
            g.reset();
        for (auto& c : contexts_)
            c.stop();
        for (auto& t : threads_)
            if (t.joinable())
                t.join();
    }
    workers(workers const&) = delete;
    workers& operator=(workers const&) = delete;

    [[nodiscard]] asio::io_context& context(unsigned i) { return contexts_[i]; }
    [[nodiscard]] unsigned size() const { return static_cast<unsigned>(contexts_.size()); }

    /// Called on thread i: it now owns `s`.
    void adopt(unsigned i, tcp::socket s)
    {
        owned_[i].push_back(std::move(s));
        counts_[i].fetch_add(1);
        total_.fetch_add(1);
    }
    [[nodiscard]] unsigned total() const { return total_.load(); }
    [[nodiscard]] unsigned busiest() const
    {
        unsigned most = 0;
        for (auto const& c : counts_)
            most = std::max(most, c.load());
        return most;
    }

private:
    std::vector<asio::io_context> contexts_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
    std::vector<std::vector<tcp::socket>> owned_;  // each touched only by its thread
    std::vector<std::atomic<unsigned>> counts_;
    std::atomic<unsigned> total_{0};
    std::vector<std::thread> threads_;
};

void accept_loop(tcp::acceptor& a, std::function<void(tcp::socket)> const& on_accept)
{
    a.async_accept([&a, &on_accept](boost::system::error_code ec, tcp::socket s) {
        if (ec)
            return;
        on_accept(std::move(s));
        accept_loop(a, on_accept);
    });
}

/// Opens `n` connections to `port` and waits until the workers took them all.
void connect_all(unsigned short port, unsigned n, workers& w)
{
    asio::io_context client;
    std::vector<tcp::socket> sockets;
    for (unsigned i = 0; i < n; ++i) {
        sockets.emplace_back(client);
        sockets.back().connect({asio::ip::make_address("127.0.0.1"), port});
    }
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (w.total() < n && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds{200});
    if (w.total() < n) {
        std::fprintf(stderr, "accept_balance_bench: only %u of %u connections were accepted\n", w.total(), n);
        std::exit(1);
    }
}

/// One trial of per-thread SO_REUSEPORT acceptors: the busiest thread's count.
unsigned reuseport_trial(options const& o)
{
    workers w{o.threads};
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::vector<std::function<void(tcp::socket)>> handlers;
    unsigned short port = 0;
    for (unsigned i = 0; i < o.threads; ++i) {
        auto a = std::make_unique<tcp::acceptor>(w.context(i));
        a->open(tcp::v4());
        a->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>{true});
        a->bind({asio::ip::make_address("127.0.0.1"), port});
        a->listen(1024);
        port = a->local_endpoint().port();
        acceptors.push_back(std::move(a));
        handlers.emplace_back([&w, i](tcp::socket s) { w.adopt(i, std::move(s)); });
    }
    for (unsigned i = 0; i < o.threads; ++i)
        asio::post(w.context(i), [&acceptors, &handlers, i] { accept_loop(*acceptors[i], handlers[i]); });
    connect_all(port, o.connections, w);
    w.stop();  // before the acceptors, which the threads use, go
    return w.busiest();
}

/// One trial of one acceptor handing sockets out in turn.
unsigned one_acceptor_trial(options const& o)
{
    workers w{o.threads};
    tcp::acceptor a{w.context(0)};
    a.open(tcp::v4());
    a.bind({asio::ip::make_address("127.0.0.1"), 0});
    a.listen(1024);
    unsigned next = 0;
    std::function<void(tcp::socket)> hand_out = [&w, &next](tcp::socket s) {
        unsigned const to = next++ % w.size();
        auto const family = s.local_endpoint().protocol();
        auto const fd = s.release();
        asio::post(w.context(to), [&w, to, family, fd] { w.adopt(to, tcp::socket{w.context(to), family, fd}); });
    };
    asio::post(w.context(0), [&a, &hand_out] { accept_loop(a, hand_out); });
    connect_all(a.local_endpoint().port(), o.connections, w);
    w.stop();  // before the acceptor, which thread 0 uses, goes
    return w.busiest();
}

void report(char const* mode, std::vector<unsigned> const& busiest, options const& o)
{
    double sum = 0;
    unsigned worst = 0;
    unsigned even = 0;
    unsigned const fair = (o.connections + o.threads - 1) / o.threads;
    for (auto m : busiest) {
        sum += m;
        worst = std::max(worst, m);
        even += m == fair ? 1 : 0;
    }
    double const mean = sum / static_cast<double>(busiest.size());
    std::printf("  %-13s busiest thread: mean %5.1f of %u (%4.1f %%), worst %3u (%4.1f %%); evenly split in %u of %u "
                "trials\n",
                mode, mean, o.connections, 100.0 * mean / o.connections, worst, 100.0 * worst / o.connections, even,
                static_cast<unsigned>(busiest.size()));
}

}  // namespace

int main(int argc, char** argv)
{
    auto const o = parse(argc, argv);
    std::vector<unsigned> reuseport;
    std::vector<unsigned> one_acceptor;
    for (unsigned t = 0; t < o.trials; ++t) {  // alternated, so that the machine's moods hit both alike
        reuseport.push_back(reuseport_trial(o));
        one_acceptor.push_back(one_acceptor_trial(o));
    }
    std::printf("accept_balance_bench: %u connections over %u threads, %u trials (an even split: %u per thread)\n",
                o.connections, o.threads, o.trials, (o.connections + o.threads - 1) / o.threads);
    report("reuseport", reuseport, o);
    report("one-acceptor", one_acceptor, o);
    return 0;
}
