#pragma once
/// @file
/// The byte stream under one XMPP stream: a TCP socket that may turn into TLS
/// mid-stream (STARTTLS) or from the first byte (XEP-0368). The TLS layer wraps
/// the socket by reference, so the socket keeps its identity across the switch.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

namespace fedgate::daemon {

class transport {
public:
    explicit transport(boost::asio::ip::tcp::socket socket);

    /// Reads what is available (decrypted once TLS is up). cancel_read() ends it
    /// with operation_aborted.
    boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);
    /// Writes all of `bytes`.
    boost::asio::awaitable<void> write(boost::asio::const_buffer bytes, boost::system::error_code& ec);

    enum class role : std::uint8_t { client, server };
    /// The TLS handshake on `context`, after `prepare` ran on the new SSL object
    /// (SNI and ALPN as client, the identity to present as server).
    /// Precondition: no read or write is in progress.
    boost::asio::awaitable<void> handshake(boost::asio::ssl::context& context, role r,
                                           std::function<void(SSL*)> const& prepare, boost::system::error_code& ec);
    void cancel_read() { read_cancel_.emit(boost::asio::cancellation_type::total); }
    /// Sends TLS close_notify and waits (at most `limit`) for the peer's, then
    /// sends TCP FIN. Precondition: no read or write is in progress.
    boost::asio::awaitable<void> shutdown(std::chrono::milliseconds limit);
    /// Closes the socket at once; pending operations complete with an error.
    void close() noexcept;

    [[nodiscard]] boost::asio::any_io_executor executor() { return socket_.get_executor(); }
    [[nodiscard]] bool secured() const noexcept { return tls_.has_value(); }
    /// The TLS connection, when secured.
    [[nodiscard]] SSL* ssl() noexcept { return tls_ ? tls_->native_handle() : nullptr; }
    /// "TLSv1.3 TLS_AES_256_GCM_SHA384", for logs; "" before TLS.
    [[nodiscard]] std::string tls_summary();
    /// "203.0.113.7:40122"
    [[nodiscard]] std::string const& peer() const noexcept { return peer_; }
    /// The peer's IP address as text, captured when the connection was made (it
    /// stays readable after close()).
    [[nodiscard]] std::string const& peer_ip() const noexcept { return peer_ip_; }

private:
    boost::asio::ip::tcp::socket socket_;
    std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
    std::string peer_;
    std::string peer_ip_;
    boost::asio::cancellation_signal read_cancel_;
};

}  // namespace fedgate::daemon
