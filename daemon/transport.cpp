#include "daemon/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace fedgate::daemon {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string describe(tcp::socket const& s)
{
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    if (ec)
        return "(unconnected)";
    auto ip = ep.address();
    return (ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string()) + ":" + std::to_string(ep.port());
}
}  // namespace

transport::transport(tcp::socket socket) : socket_{std::move(socket)}, peer_{describe(socket_)}
{
    boost::system::error_code ec;
    auto endpoint = socket_.remote_endpoint(ec);
    if (!ec)
        peer_ip_ = endpoint.address().to_string();
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay{true}, ignored);
}

asio::awaitable<std::size_t> transport::read_some(asio::mutable_buffer buffer, boost::system::error_code& ec)
{
    auto token = asio::bind_cancellation_slot(read_cancel_.slot(), use_tuple);
    auto [e, n] = tls_ ? co_await tls_->async_read_some(buffer, token) : co_await socket_.async_read_some(buffer, token);
    ec = e;
    co_return n;
}

asio::awaitable<void> transport::write(asio::const_buffer bytes, boost::system::error_code& ec)
{
    auto [e, n] = tls_ ? co_await asio::async_write(*tls_, bytes, use_tuple)
                       : co_await asio::async_write(socket_, bytes, use_tuple);
    (void)n;
    ec = e;
}

asio::awaitable<void> transport::handshake(asio::ssl::context& context, role r,
                                           std::function<void(SSL*)> const& prepare, boost::system::error_code& ec)
{
    tls_.emplace(socket_, context);
    prepare(tls_->native_handle());
    auto [e] = co_await tls_->async_handshake(
        r == role::client ? asio::ssl::stream_base::client : asio::ssl::stream_base::server, use_tuple);
    ec = e;
}

asio::awaitable<void> transport::shutdown(std::chrono::milliseconds limit)
{
    using namespace asio::experimental::awaitable_operators;
    if (tls_ && socket_.is_open()) {
        // A peer that never answers our close_notify must not hold the socket.
        asio::steady_timer timer{socket_.get_executor(), limit};
        (void)co_await (tls_->async_shutdown(use_tuple) || timer.async_wait(use_tuple));
    }
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void transport::close() noexcept
{
    boost::system::error_code ignored;
    socket_.close(ignored);
}

std::string transport::tls_summary()
{
    if (!tls_)
        return {};
    SSL* s = tls_->native_handle();
    return std::string{SSL_get_version(s)} + " " + SSL_get_cipher_name(s);
}

}  // namespace fedgate::daemon
