#pragma once
/// @file
/// A wake-up for coroutines on one strand: wait() suspends until notify(). A
/// notify with nobody waiting is not remembered, so a waiter re-checks its
/// condition in a loop (`while (!ready) co_await e.wait();`); on a single-threaded
/// io_context there is no gap between the check and the wait.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fedgate::network {

class async_event {
public:
    explicit async_event(boost::asio::any_io_executor executor)
        : timer_{std::move(executor), boost::asio::steady_timer::time_point::max()}
    {
    }

    /// Returns after the next notify(). The expiry is never moved (that would
    /// cancel the other waiters); bound a wait with a timer of your own.
    boost::asio::awaitable<void> wait()
    {
        (void)co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

    /// Wakes every waiter.
    void notify() { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
};

}  // namespace fedgate::network
