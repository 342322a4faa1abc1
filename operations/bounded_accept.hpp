#pragma once
/// @file
/// The accept loop of the operator's endpoints (metrics, control socket): a
/// few requests at a time, each served by its own coroutine; a client that
/// opens more has them closed at once, and an accept error (out of file
/// descriptors, most likely) pauses the loop as the S2S listeners do.

#include "network/log_failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <string>

namespace fedgate::operations {

/// Accepts on `acceptor` until it closes; `serve(socket)` returns the
/// awaitable that answers one request. `open` counts the requests being
/// served (it must outlive the loop and the requests).
template <class Acceptor, class Serve>
boost::asio::awaitable<void> bounded_accept(Acceptor& acceptor, unsigned& open, unsigned max_open, Serve serve,
                                            std::string what)
{
    namespace asio = boost::asio;
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    while (acceptor.is_open()) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec == asio::error::operation_aborted || !acceptor.is_open())
            break;
        if (ec) {
            asio::steady_timer pause{acceptor.get_executor(), std::chrono::milliseconds{100}};
            (void)co_await pause.async_wait(use_tuple);
            continue;
        }
        if (open >= max_open)
            continue;  // closed by going out of scope
        ++open;
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), [&open, what](std::exception_ptr e) {
            --open;
            network::log_failure(what)(e);
        });
    }
}

}  // namespace fedgate::operations
