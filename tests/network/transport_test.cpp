// network/transport with TLS straight on the socket, against a blocking OpenSSL
// client on loopback: what the move off Asio's ssl::stream must not break.
#include "network/transport.hpp"

#include "test_pki.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using fedgate::network::transport;
using namespace fedgate::test;

/// The server's identity, and a TLS 1.3 client that trusts nothing (the
/// transport does not judge certificates).
struct tls_lab {
    authority ca = authority::create("transport CA");
    pkey_ptr key = make_key();
    x509_ptr cert = ca.issue({"a.test", "DNS:a.test"}, key.get());
    asio::ssl::context server{asio::ssl::context::tls_server};

    tls_lab()
    {
        SSL_CTX_use_certificate(server.native_handle(), cert.get());
        SSL_CTX_use_PrivateKey(server.native_handle(), key.get());
    }
};

/// A blocking client on its own thread. It writes with OpenSSL's own socket
/// BIO (write(2)): an alert to a stream the test closed must not end the test
/// binary with SIGPIPE.
struct client {
    client() { ::signal(SIGPIPE, SIG_IGN); }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = nullptr;

    ~client()
    {
        if (ssl)
            SSL_free(ssl);
        SSL_CTX_free(ctx);
        ::close(fd);
    }
    bool connect_and_handshake(std::uint16_t port)
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            return false;
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        return SSL_connect(ssl) == 1;
    }
};

/// Accepts one connection (with a send buffer of `send_buffer` bytes, when
/// set; its descriptor into `descriptor`, when given) and runs the server side
/// of the handshake.
std::unique_ptr<transport> accept_tls(asio::io_context& io, tcp::acceptor& acceptor, tls_lab& lab,
                                      int send_buffer = 0, int* descriptor = nullptr)
{
    auto socket = acceptor.accept();
    if (descriptor)
        *descriptor = socket.native_handle();
    if (send_buffer > 0)
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
    auto t = std::make_unique<transport>(std::move(socket));
    boost::system::error_code ec;
    std::function<void(SSL*)> const nothing_to_prepare = [](SSL*) {};  // outlives the coroutine, which keeps a reference
    asio::co_spawn(io, t->handshake(lab.server, transport::role::server, nothing_to_prepare, ec), asio::detached);
    io.run();
    io.restart();
    EXPECT_FALSE(ec) << ec.message();
    return t;
}

/// Appends everything `stream` reads to `read` until a read fails; `end` is that failure.
asio::awaitable<void> read_to_the_end(transport& stream, std::string& read, boost::system::error_code& end)
{
    for (;;) {
        auto bytes = co_await stream.read_some(end);
        if (end)
            co_return;
        read.append(bytes.data(), bytes.size());
    }
}

TEST(transport, a_closed_stream_never_touches_the_descriptor_number_it_had)
{
    // The reader waits in read_some's turn through the executor when the stream
    // is closed (the closing grace ran out); a new socket gets the number.
    asio::io_context io;
    tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
    tls_lab lab;
    client peer;
    std::thread peer_thread{[&] {
        if (peer.connect_and_handshake(acceptor.local_endpoint().port())) {
            char sink[16];
            (void)SSL_read(peer.ssl, sink, sizeof sink);
        }
    }};
    int descriptor = -1;
    auto stream = accept_tls(io, acceptor, lab, 0, &descriptor);

    std::string reader = "never resumed";
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            boost::system::error_code ec;
            auto bytes = co_await stream->read_some(ec);
            reader = ec ? "error" : "read " + std::string(bytes.data(), bytes.size());
        },
        asio::detached);
    io.run_one();  // the reader suspends before its first SSL_read
    stream->close();
    int const other = ::socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_EQ(other, descriptor) << "the new socket must get the freed number, or nothing is tested";
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(other, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
    socklen_t len = sizeof at;
    ::getsockname(other, reinterpret_cast<sockaddr*>(&at), &len);
    int const sender = ::socket(AF_INET, SOCK_DGRAM, 0);
    char const datagram[] = "a DNS answer for someone else";
    ::sendto(sender, datagram, sizeof datagram, 0, reinterpret_cast<sockaddr*>(&at), sizeof at);
    ::usleep(20000);
    io.run();

    char received[64];
    EXPECT_EQ(::recv(other, received, sizeof received, MSG_DONTWAIT), static_cast<ssize_t>(sizeof datagram))
        << "the closed stream read the other socket's datagram";
    EXPECT_EQ(reader, "error");
    ::close(other);
    ::close(sender);
    ::shutdown(peer.fd, SHUT_RDWR);
    peer_thread.join();
}

/// What read_some reports after the peer sent "bye" and ended its side, with
/// or without close_notify.
std::string end_of_stream_seen(bool with_close_notify)
{
    asio::io_context io;
    tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
    tls_lab lab;
    client peer;
    std::thread peer_thread{[&] {
        if (!peer.connect_and_handshake(acceptor.local_endpoint().port()))
            return;
        SSL_write(peer.ssl, "bye", 3);
        if (with_close_notify)
            SSL_shutdown(peer.ssl);
        ::shutdown(peer.fd, SHUT_WR);
    }};
    auto stream = accept_tls(io, acceptor, lab);
    std::string seen;
    boost::system::error_code end;
    asio::co_spawn(io, read_to_the_end(*stream, seen, end), asio::detached);
    io.run();
    peer_thread.join();
    return seen + " then " + end.message();
}

TEST(transport, the_end_of_a_tls_stream_says_whether_the_peer_closed_it_or_only_dropped_it)
{
    EXPECT_EQ(end_of_stream_seen(true), "bye then " + boost::system::error_code{asio::error::eof}.message());
    EXPECT_EQ(end_of_stream_seen(false), "bye then " + boost::system::error_code{asio::ssl::error::stream_truncated}.message());
}

TEST(transport, a_key_update_while_the_writer_is_blocked_loses_nothing)
{
    // TLS 1.3 post-handshake traffic for the reader while a write waits for
    // room mid-record: both directions go on, every byte arrives.
    asio::io_context io;
    tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
    tls_lab lab;
    client peer;
    int small = 32 * 1024;
    ::setsockopt(peer.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    std::size_t const total = 4u << 20;
    std::atomic<std::size_t> peer_received{0};
    std::thread peer_thread{[&] {
        if (!peer.connect_and_handshake(acceptor.local_endpoint().port()))
            return;
        ::usleep(200000);  // the writer fills the socket and waits
        SSL_key_update(peer.ssl, SSL_KEY_UPDATE_REQUESTED);
        SSL_write(peer.ssl, "ping", 4);
        char chunk[16384];
        while (peer_received < total) {
            int n = SSL_read(peer.ssl, chunk, sizeof chunk);
            if (n <= 0)
                break;
            peer_received += static_cast<std::size_t>(n);
        }
        ::shutdown(peer.fd, SHUT_RDWR);
    }};
    auto stream = accept_tls(io, acceptor, lab, small);

    std::string const payload(total, 'x');
    bool written = false;
    std::string read;
    boost::system::error_code end;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            boost::system::error_code ec;
            co_await stream->write(asio::buffer(payload), ec);
            written = !ec;
        },
        asio::detached);
    asio::co_spawn(io, read_to_the_end(*stream, read, end), asio::detached);
    asio::steady_timer limit{io, std::chrono::seconds{20}};
    limit.async_wait([&](auto) { stream->close(); });
    std::thread stopper{[&] {
        peer_thread.join();
        asio::post(io, [&] {
            stream->close();
            limit.cancel();
        });
    }};
    io.run();
    stopper.join();
    EXPECT_TRUE(written);
    EXPECT_EQ(read, "ping");
    EXPECT_EQ(peer_received.load(), total);
}

}  // namespace

namespace {

TEST(transport, an_interrupted_wait_for_bytes_ends_that_read_only)
{
    // A hold from another thread interrupts a reader waiting for bytes
    // (connection::hold_reading_for): that read ends, the next reads on.
    asio::io_context io;
    tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
    tcp::socket peer{io};
    peer.connect(acceptor.local_endpoint());
    transport stream{acceptor.accept()};
    std::string seen;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 2; ++i) {
                boost::system::error_code ec;
                auto bytes = co_await stream.read_some(ec);
                seen += ec ? "[" + ec.message() + "]" : std::string(bytes.data(), bytes.size());
            }
        },
        asio::detached);
    while (io.poll() > 0) {
    }  // the reader now waits for bytes
    EXPECT_EQ(seen, "");
    stream.interrupt_read();
    io.poll();
    EXPECT_EQ(seen, "[Operation canceled]");
    asio::write(peer, asio::buffer(std::string{"next"}));
    io.run_for(std::chrono::seconds{5});
    EXPECT_EQ(seen, "[Operation canceled]next");
}

TEST(transport, an_interrupt_before_the_read_starts_keeps_the_waiting_bytes_in_the_socket)
{
    // With worker_threads the hold may come while read_some takes its turn
    // through the executor, with bytes already in the socket: they stay there
    // (TCP pushes back on the sender) until the next read.
    asio::io_context io;
    tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
    tcp::socket peer{io};
    peer.connect(acceptor.local_endpoint());
    transport stream{acceptor.accept()};
    asio::write(peer, asio::buffer(std::string{"first"}));
    std::this_thread::sleep_for(std::chrono::milliseconds{20});  // on loopback: in the socket now
    std::string seen;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 3; ++i) {
                boost::system::error_code ec;
                auto bytes = co_await stream.read_some(ec);
                seen += ec ? "[" + ec.message() + "]" : std::string(bytes.data(), bytes.size());
            }
        },
        asio::detached);
    (void)io.run_one();  // reads "first" at once, then the next read posts its turn
    ASSERT_EQ(seen, "first");
    asio::write(peer, asio::buffer(std::string{"waiting"}));
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    stream.interrupt_read();
    io.run_for(std::chrono::seconds{5});
    EXPECT_EQ(seen, "first[Operation canceled]waiting");
}

}  // namespace
