#pragma once
/// @file
/// `worker_threads`: the event loops of a running gateway. Loop 0 is run by the
/// caller's thread and hosts the router, the links, the listeners and the
/// timers; every loop, loop 0 included, hosts inbound connections, handed out
/// in turn by the listeners, loop 1 first, loop 0 half as often as the others
/// (one acceptor per address: tests/bench/README.md measured it to balance
/// better than an acceptor per thread). Loop N's thread is named fedgate-loopN.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace fedgate::network {

/// `socket` (connected, nothing pending) as a socket of the loop `home`: the
/// descriptor moves, its options stay. Throws boost::system::system_error.
[[nodiscard]] boost::asio::ip::tcp::socket move_to(boost::asio::ip::tcp::socket socket,
                                                   boost::asio::any_io_executor const& home);

class event_loops {
public:
    /// `count` loops (0: one per core, as `worker_threads = 0` says).
    explicit event_loops(unsigned count);
    /// Every loop is shut down first (their waiting handlers destroyed, which may
    /// release a connection of another loop), then freed.
    ~event_loops();
    event_loops(event_loops const&) = delete;
    event_loops& operator=(event_loops const&) = delete;

    [[nodiscard]] std::size_t size() const noexcept { return loops_.size(); }
    /// Loop 0, run by the thread that calls run_main().
    [[nodiscard]] boost::asio::io_context& main() noexcept { return *loops_.front(); }
    /// Loop `i`'s executor (0 is main()).
    [[nodiscard]] boost::asio::any_io_executor executor_of(std::size_t i) { return loops_.at(i)->get_executor(); }
    /// The loop the next connection lives on: loops 1..N-1 in turn, twice, then loop 0.
    [[nodiscard]] boost::asio::any_io_executor next() noexcept;

    /// Starts the threads of loops 1..N-1, then runs loop 0 here until it stops;
    /// then stops and joins the others.
    void run_main();

private:
    /// An io_context whose shutdown the owner may call before destroying it.
    struct loop : boost::asio::io_context {
        explicit loop(int concurrency_hint) : io_context{concurrency_hint} {}
        using io_context::shutdown;
    };
    std::vector<std::unique_ptr<loop>> loops_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> keep_running_;
    std::vector<std::thread> threads_;
    std::atomic<std::size_t> turn_{0};
};

}  // namespace fedgate::network
