#pragma once
/// @file
/// The byte stream under one XMPP stream: a TCP socket that may turn into TLS
/// mid-stream (STARTTLS) or from the first byte (XEP-0368).
///
/// TLS runs straight on the socket: OpenSSL reads and writes the descriptor
/// itself (non-blocking, through a small BIO that never raises SIGPIPE) and
/// Asio only says when the socket is ready. Asio's ssl::stream would keep a
/// BIO pair and two record buffers, ~68 KiB, for every stream, idle or not;
/// here an idle stream holds no buffer at all (SSL_MODE_RELEASE_BUFFERS, and
/// reads land in one buffer per thread).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>

namespace fedgate::network {

class transport {
public:
    explicit transport(boost::asio::ip::tcp::socket socket);
    /// OpenSSL's BIO holds the address of socket_.
    transport(transport&&) = delete;
    transport& operator=(transport&&) = delete;

    /// Waits until bytes are available and returns them (decrypted once TLS is
    /// up). They live in a buffer shared by every stream of this thread: valid
    /// until the caller next suspends. cancel_read() ends the wait with
    /// operation_aborted; the peer's end of the stream is asio::error::eof
    /// (over TLS: its close_notify; a FIN without one is
    /// asio::ssl::error::stream_truncated).
    boost::asio::awaitable<std::span<char const>> read_some(boost::system::error_code& ec);
    /// Writes all of `bytes`.
    boost::asio::awaitable<void> write(boost::asio::const_buffer bytes, boost::system::error_code& ec);

    enum class role : std::uint8_t { client, server };
    /// The TLS handshake on `context`, after `prepare` ran on the new SSL object
    /// (SNI and ALPN as client, the identity to present as server).
    /// Precondition: no read or write is in progress.
    boost::asio::awaitable<void> handshake(boost::asio::ssl::context& context, role r,
                                           std::function<void(SSL*)> const& prepare, boost::system::error_code& ec);
    /// Ends the read in progress, and every later one, with operation_aborted.
    void cancel_read()
    {
        read_cancelled_ = true;
        read_cancel_.emit(boost::asio::cancellation_type::total);
    }
    /// Ends the wait for bytes in progress with operation_aborted, or, when
    /// none is, the read_some about to read (at its turn through the
    /// executor); the next read_some reads on. Bytes already read are not
    /// lost: a read that got some returns them.
    void interrupt_read()
    {
        // Also when no wait is pending: read_some may be at its turn through
        // the executor, about to read; it must not.
        interrupt_pending_ = true;
        read_cancel_.emit(boost::asio::cancellation_type::total);
    }
    /// Sends TLS close_notify and waits (at most `limit`) for the peer's, then
    /// sends TCP FIN. Precondition: no read or write is in progress.
    boost::asio::awaitable<void> shutdown(std::chrono::milliseconds limit);
    /// Closes the socket at once; pending operations complete with an error.
    void close() noexcept;

    [[nodiscard]] boost::asio::any_io_executor executor() { return socket_.get_executor(); }
    /// The TLS connection, once the handshake began; null before.
    [[nodiscard]] SSL* ssl() noexcept { return tls_.get(); }
    /// "TLSv1.3 TLS_AES_256_GCM_SHA384", for logs; "" before TLS.
    [[nodiscard]] std::string tls_summary();
    /// "203.0.113.7:40122"
    [[nodiscard]] std::string const& peer() const noexcept { return peer_; }
    /// The peer's IP address as text, captured when the connection was made (it
    /// stays readable after close()).
    [[nodiscard]] std::string const& peer_ip() const noexcept { return peer_ip_; }

private:
    struct ssl_free {
        void operator()(SSL* s) const noexcept { SSL_free(s); }
    };
    /// Reads are not among them: read_some takes its buffer only after its
    /// last suspension.
    enum class tls_operation : std::uint8_t { handshake, write, shutdown };
    /// Runs one SSL_* operation until it succeeds (SSL_shutdown: returns 0 or
    /// 1), waiting for the readiness OpenSSL asks for; `done` receives the
    /// bytes written. Fills `ec` on failure.
    boost::asio::awaitable<int> tls_step(tls_operation op, std::span<char const> bytes, std::size_t& done,
                                         boost::system::error_code& ec);
    /// Waits for the socket; the wait is cancel_read()'s when `cancellable`.
    boost::asio::awaitable<void> wait_for(boost::asio::ip::tcp::socket::wait_type what, bool cancellable,
                                          boost::system::error_code& ec);
    boost::asio::awaitable<void> exchange_close_notify();

    boost::asio::ip::tcp::socket socket_;
    std::unique_ptr<SSL, ssl_free> tls_;
    std::string peer_;
    std::string peer_ip_;
    boost::asio::cancellation_signal read_cancel_;
    bool read_cancelled_ = false;
    bool interrupt_pending_ = false;  ///< interrupt_read() not yet seen by read_some
    bool read_waited_ = true;  ///< the last read_some suspended for the socket (see read_some)
};

}  // namespace fedgate::network
