#include "network/listener.hpp"

#include "network/log_failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace fedgate::network {

namespace asio = boost::asio;
using asio::ip::tcp;

listener::listener(asio::any_io_executor executor, conf::socket_address const& where, bool direct_tls,
                   accept_handler accepted, home_picker home)
    : acceptor_{executor}, direct_tls_{direct_tls}, accepted_{std::move(accepted)}, home_{std::move(home)}
{
    boost::system::error_code ec;
    auto const ip = asio::ip::make_address(where.host, ec);
    tcp::endpoint endpoint{ip, where.port};
    auto fail = [&](char const* step) {
        throw std::runtime_error{"cannot listen on " + where.host + " port " + std::to_string(where.port) + " (" +
                                 step + "): " + ec.message()};
    };
    if (ec)
        fail("address");
    if (acceptor_.open(endpoint.protocol(), ec); ec)
        fail("socket");
    acceptor_.set_option(tcp::acceptor::reuse_address{true}, ec);
    if (ip.is_v6())
        // "::" and "0.0.0.0" may both be configured; each takes its own family.
        acceptor_.set_option(asio::ip::v6_only(true), ec);
    if (acceptor_.bind(endpoint, ec); ec)
        fail("bind");
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec)
        fail("listen");
}

std::string listener::describe() const
{
    boost::system::error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    auto ip = ep.address();
    return (ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string()) + ":" + std::to_string(ep.port()) +
           (direct_tls_ ? " (direct TLS)" : " (STARTTLS)");
}

void listener::start()
{
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), log_failure("listener " + describe()));
}

void listener::stop()
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

asio::awaitable<void> listener::accept_loop()
{
    while (acceptor_.is_open()) {
        // The socket is made on the event loop it will live on (worker_threads).
        auto const home = home_ ? home_() : acceptor_.get_executor();
        auto [ec, socket] = co_await acceptor_.async_accept(home, asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor_.is_open())
            break;
        if (ec) {
            // Out of file descriptors, most likely: pause rather than spin.
            spdlog::error("accept on {} failed: {}", describe(), ec.message());
            asio::steady_timer pause{acceptor_.get_executor(), std::chrono::milliseconds{100}};
            (void)co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        accepted_(std::move(socket), direct_tls_);
    }
}

}  // namespace fedgate::network
