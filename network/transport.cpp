#include "network/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdint>

namespace fedgate::network {

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

/// Where every stream of this thread reads into: a read is handed to the
/// session before the reader suspends again, so one buffer serves them all
/// and an idle stream holds none. 64 KiB: four full TLS records, or a large
/// burst of plain bytes, per wake-up.
std::span<char> read_scratch()
{
    thread_local std::array<char, 65536> scratch;
    return scratch;
}

int descriptor_of(BIO* bio)
{
    // Asked of the socket at each call, never remembered: once close() has
    // given the number back, a new socket (a DNS query, an accept) may get
    // it, and a late SSL_* call of this stream must fail (-1: EBADF), not
    // read that socket's bytes or write into it.
    return static_cast<tcp::socket*>(BIO_get_data(bio))->native_handle();
}

bool retry_later(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE on a
// connection the peer reset; this one sends with MSG_NOSIGNAL, as Asio does.
int socket_bio_write(BIO* bio, char const* data, int size)
{
    BIO_clear_retry_flags(bio);
    auto n = ::send(descriptor_of(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (n < 0 && retry_later(errno))
        BIO_set_retry_write(bio);
    return static_cast<int>(n);
}

int socket_bio_read(BIO* bio, char* data, int size)
{
    BIO_clear_retry_flags(bio);
    auto n = ::recv(descriptor_of(bio), data, static_cast<std::size_t>(size), 0);
    if (n < 0 && retry_later(errno))
        BIO_set_retry_read(bio);
    if (n == 0)
        BIO_set_flags(bio, BIO_FLAGS_IN_EOF);  // for BIO_CTRL_EOF, below
    return static_cast<int>(n);
}

long socket_bio_control(BIO* bio, int command, long, void*)
{
    switch (command) {
    case BIO_CTRL_FLUSH:
        return 1;  // writes are never buffered here
    case BIO_CTRL_EOF:
        // OpenSSL asks this to tell a peer that closed TCP without close_notify
        // (unexpected EOF: a truncated stream) from other failures.
        return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0;
    default:
        return 0;
    }
}

BIO_METHOD const* socket_bio_method()
{
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fedgate socket");
        BIO_meth_set_write(m, socket_bio_write);
        BIO_meth_set_read(m, socket_bio_read);
        BIO_meth_set_ctrl(m, socket_bio_control);
        return m;
    }();
    return method;
}

/// What a failed SSL_* call means, as an error code, as Asio's ssl::stream
/// said it: the peer's close_notify is eof, a FIN without it "stream truncated".
boost::system::error_code tls_failure(int result_of_get_error)
{
    if (result_of_get_error == SSL_ERROR_ZERO_RETURN)
        return asio::error::eof;
    unsigned long const queued = ERR_get_error();
    if (result_of_get_error == SSL_ERROR_SYSCALL && queued == 0)
        return errno == 0 ? boost::system::error_code{asio::ssl::error::stream_truncated}
                          : boost::system::error_code{errno, boost::system::system_category()};
    if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return asio::ssl::error::stream_truncated;
    if (queued == 0)
        return asio::ssl::error::unspecified_system_error;
    return {static_cast<int>(queued), asio::error::get_ssl_category()};
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
    // Reads try the socket first and wait only when it has nothing (read_some).
    socket_.non_blocking(true, ignored);
}

asio::awaitable<void> transport::wait_for(tcp::socket::wait_type what, bool cancellable,
                                          boost::system::error_code& ec)
{
    auto [e] = cancellable
                   ? co_await socket_.async_wait(what, asio::bind_cancellation_slot(read_cancel_.slot(), use_tuple))
                   : co_await socket_.async_wait(what, use_tuple);
    ec = e;
}

asio::awaitable<int> transport::tls_step(tls_operation op, std::span<char const> bytes, std::size_t& done,
                                         boost::system::error_code& ec)
{
    SSL* s = tls_.get();
    for (;;) {
        ERR_clear_error();
        int result = 0;
        switch (op) {
        case tls_operation::handshake: result = SSL_do_handshake(s); break;
        case tls_operation::write: result = SSL_write_ex(s, bytes.data(), bytes.size(), &done); break;
        case tls_operation::shutdown: result = SSL_shutdown(s); break;
        }
        if (result > 0 || (op == tls_operation::shutdown && result == 0))
            co_return result;
        int const why = SSL_get_error(s, result);
        if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) {
            ec = tls_failure(why);
            co_return result;
        }
        co_await wait_for(why == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write, false, ec);
        if (ec)
            co_return result;
    }
}

asio::awaitable<std::span<char const>> transport::read_some(boost::system::error_code& ec)
{
    ec = {};
    // Reads below succeed without suspending while the peer keeps sending: a
    // turn through the executor before the next one lets every other stream,
    // timer and lookup run between two reads of a busy stream, as Asio's own
    // reads do. A read that waited for the socket has given them their turn.
    if (!read_waited_)
        co_await asio::post(socket_.get_executor(), asio::use_awaitable);
    read_waited_ = false;
    for (;;) {
        if (read_cancelled_ || std::exchange(interrupt_pending_, false)) {
            ec = asio::error::operation_aborted;
            co_return std::span<char const>{};
        }
        // The scratch buffer is taken after the last suspension: this
        // coroutine may resume on another thread than it started on.
        if (tls_) {
            // OpenSSL may hold decrypted bytes already; it asks for readiness only when it has none.
            std::size_t n = 0;
            auto scratch = read_scratch();
            ERR_clear_error();
            if (SSL_read_ex(tls_.get(), scratch.data(), scratch.size(), &n) == 1)
                co_return std::span<char const>{scratch.data(), n};
            int const why = SSL_get_error(tls_.get(), 0);
            if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) {
                ec = tls_failure(why);
                co_return std::span<char const>{};
            }
            co_await wait_for(why == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write, true, ec);
            read_waited_ = true;
        } else {
            auto scratch = read_scratch();
            auto n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
            if (!ec)
                co_return std::span<char const>{scratch.data(), n};
            if (ec != asio::error::would_block)
                co_return std::span<char const>{};
            co_await wait_for(tcp::socket::wait_read, true, ec);
            read_waited_ = true;
        }
        if (ec == asio::error::operation_aborted)
            interrupt_pending_ = false;  // the interrupt ended this wait: it is seen
        if (ec)
            co_return std::span<char const>{};
    }
}

asio::awaitable<void> transport::write(asio::const_buffer bytes, boost::system::error_code& ec)
{
    ec = {};
    if (!tls_) {
        auto [e, n] = co_await asio::async_write(socket_, bytes, use_tuple);
        (void)n;
        ec = e;
        co_return;
    }
    // SSL_MODE_ENABLE_PARTIAL_WRITE: each step writes what it can, record by record.
    std::span<char const> rest{static_cast<char const*>(bytes.data()), bytes.size()};
    while (!rest.empty() && !ec) {
        std::size_t written = 0;
        co_await tls_step(tls_operation::write, rest, written, ec);
        rest = rest.subspan(written);
    }
}

asio::awaitable<void> transport::handshake(asio::ssl::context& context, role r,
                                           std::function<void(SSL*)> const& prepare, boost::system::error_code& ec)
{
    ec = {};
    tls_.reset(SSL_new(context.native_handle()));
    SSL* s = tls_.get();
    if (s == nullptr) {
        ec = tls_failure(SSL_ERROR_SSL);
        tls_.reset();
        co_return;
    }
    // An idle stream gives its record buffers back; writes may be partial and
    // resumed from where they stopped.
    SSL_set_mode(s, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Read what the socket has, not a record header and then its body: half
    // the receive calls.
    SSL_set_read_ahead(s, 1);
    BIO* bio = BIO_new(socket_bio_method());
    BIO_set_data(bio, &socket_);  // a transport never moves (see the header)
    BIO_set_init(bio, 1);
    SSL_set_bio(s, bio, bio);
    if (r == role::client)
        SSL_set_connect_state(s);
    else
        SSL_set_accept_state(s);
    prepare(s);  // the socket is non-blocking already (constructor): OpenSSL's reads and writes never wait
    std::size_t unused = 0;
    co_await tls_step(tls_operation::handshake, {}, unused, ec);
}

asio::awaitable<void> transport::shutdown(std::chrono::milliseconds limit)
{
    using namespace asio::experimental::awaitable_operators;
    if (tls_ && socket_.is_open()) {
        // A peer that never answers our close_notify must not hold the socket.
        asio::steady_timer timer{socket_.get_executor(), limit};
        (void)co_await (exchange_close_notify() || timer.async_wait(use_tuple));
    }
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> transport::exchange_close_notify()
{
    // The first SSL_shutdown sends ours (0: the peer's not seen yet); the next
    // waits for the peer's.
    boost::system::error_code ec;
    std::size_t unused = 0;
    for (int round = 0; round < 2 && !ec; ++round)
        if (co_await tls_step(tls_operation::shutdown, {}, unused, ec) == 1)
            break;
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
    SSL* s = tls_.get();
    return std::string{SSL_get_version(s)} + " " + SSL_get_cipher_name(s);
}

}  // namespace fedgate::network
