#pragma once
/// @file
/// The [metrics] endpoint: GET /metrics over HTTP/1.1 (Boost.Beast) on the
/// configured (loopback) address; anything else is 404. One request per
/// connection, a few seconds at most, so a scraper cannot hold it.

#include "conf/config.hpp"
#include "operations/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace fedgate::operations {

class metrics_server {
public:
    /// Binds; throws std::runtime_error naming the address when it cannot.
    metrics_server(boost::asio::any_io_executor executor, conf::socket_address const& where, metrics const& m);
    void start();
    void stop();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

    boost::asio::ip::tcp::acceptor acceptor_;
    metrics const& metrics_;
    unsigned open_ = 0;  ///< requests being served; a few at most
};

}  // namespace fedgate::operations
