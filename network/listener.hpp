#pragma once
/// @file
/// One listening socket of [gateway]: STARTTLS S2S (RFC 6120) or direct TLS
/// (XEP-0368). Accepted sockets go to whoever the listener was given (the
/// router, which applies the limits).

#include "conf/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>

namespace fedgate::network {

class listener {
public:
    /// What an accepted socket is handed to, with whether it starts with TLS.
    using accept_handler = std::function<void(boost::asio::ip::tcp::socket, bool direct_tls)>;
    /// The event loop of the next accepted socket (network/event_loops.hpp);
    /// without one, the listener's own. The handler still runs on the listener's.
    using home_picker = std::function<boost::asio::any_io_executor()>;

    /// Binds and listens. Throws std::runtime_error naming the address when it
    /// cannot (in use, not ours, no permission).
    listener(boost::asio::any_io_executor executor, conf::socket_address const& where, bool direct_tls,
             accept_handler accepted, home_picker home = {});
    void start();
    /// Stops accepting; established connections are the router's business.
    void stop();
    [[nodiscard]] std::string describe() const;

private:
    boost::asio::awaitable<void> accept_loop();

    boost::asio::ip::tcp::acceptor acceptor_;
    bool direct_tls_;
    accept_handler accepted_;
    home_picker home_;
};

}  // namespace fedgate::network
