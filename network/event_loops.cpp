#include "network/event_loops.hpp"

#include <spdlog/spdlog.h>

#include <pthread.h>

#include <string>

namespace fedgate::network {

boost::asio::ip::tcp::socket move_to(boost::asio::ip::tcp::socket socket, boost::asio::any_io_executor const& home)
{
    if (socket.get_executor() == home)
        return socket;
    auto const protocol = socket.local_endpoint().protocol();
    boost::asio::ip::tcp::socket moved{home};
    moved.assign(protocol, socket.release());
    return moved;
}

event_loops::event_loops(unsigned count)
{
    if (count == 0)
        count = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < count; ++i)
        loops_.push_back(std::make_unique<loop>(1));  // one thread runs each
}

event_loops::~event_loops()
{
    for (auto& t : threads_)  // run_main() joined them, unless it threw
        if (t.joinable()) {
            loops_[&t - threads_.data() + 1]->stop();
            t.join();
        }
    for (auto& l : loops_)
        l->shutdown();
}

boost::asio::any_io_executor event_loops::next() noexcept
{
    // Loop 0 also runs the router, the contact rules, the links' queues and
    // the component links (a third of the work per relayed stanza, by
    // callgrind): it takes one stream for every two that each other loop
    // takes, and comes last.
    auto const n = loops_.size();
    if (n == 1)
        return loops_.front()->get_executor();
    auto const slot = turn_.fetch_add(1, std::memory_order_relaxed) % (2 * n - 1);
    auto const i = slot == 2 * n - 2 ? 0 : 1 + slot % (n - 1);
    return loops_[i]->get_executor();
}

void event_loops::run_main()
{
    for (std::size_t i = 1; i < loops_.size(); ++i) {
        keep_running_.push_back(boost::asio::make_work_guard(*loops_[i]));
        threads_.emplace_back([l = loops_[i].get(), i] {
            // What `top -H` and /proc/PID/task/*/comm show (15 characters at most).
            auto const name = "fedgate-loop" + std::to_string(i);
            ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
            try {
                l->run();
            } catch (std::exception const& e) {
                // Handlers catch what they throw (log_failure.hpp): this is a bug.
                spdlog::critical("event loop {} failed: {}", i, e.what());
                std::terminate();
            }
        });
    }
    main().run();
    keep_running_.clear();
    for (std::size_t i = 1; i < loops_.size(); ++i) {
        loops_[i]->stop();
        threads_[i - 1].join();
    }
}

}  // namespace fedgate::network
