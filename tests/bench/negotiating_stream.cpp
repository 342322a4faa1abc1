#include "tests/bench/negotiating_stream.hpp"

#include "tests/bench/partner_stream.hpp"

#include <openssl/err.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fedgate::bench {

namespace {

using steady = std::chrono::steady_clock;

}  // namespace

bool negotiating_stream::begin(std::uint16_t port)
{
    started_ = steady::now();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        return fail(std::string{"socket: "} + std::strerror(errno)), false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
        return fail(std::string{"connect: "} + std::strerror(errno)), false;
    return true;
}

progress negotiating_stream::fail(std::string why)
{
    if (failure_.empty())
        failure_ = std::string{"while "} + doing() + ": " + std::move(why);
    return progress::failed;
}

char const* negotiating_stream::doing() const
{
    switch (step_) {
    case step::connecting: return "connecting";
    case step::plain_features: return "awaiting the first <stream:features>";
    case step::proceed: return "awaiting <proceed/>";
    case step::handshake: return "in the TLS handshake";
    case step::tls_features: return "awaiting the <stream:features> over TLS";
    case step::success: return "awaiting SASL <success/>";
    case step::final_features: return "awaiting the final <stream:features/>";
    case step::authenticated: return "authenticated";
    }
    return "?";
}

progress negotiating_stream::advance()
{
    for (;;) {
        bool moved = false;
        auto const p = advance_one_step(moved);
        if (p != progress::blocked || !moved)
            return p;
    }
}

/// One step of the exchange; `moved` when it went on to the next step.
progress negotiating_stream::advance_one_step(bool& moved)
{
    if (auto const w = flush(); w != io::done)
        return w == io::failed ? progress::failed : progress::blocked;
    auto const next = [&](step s, std::string out) {
        step_ = s;
        outbox_ = std::move(out);
        moved = true;
        return progress::blocked;
    };
    auto const waiting = [](io r) { return r == io::failed ? progress::failed : progress::blocked; };
    // The usual step: wait for the peer's reply, then send what answers it.
    auto const reply_to = [&](std::string_view marker, step s, std::string out) {
        if (auto r = await(marker); r != io::done)
            return waiting(r);
        return next(s, std::move(out));
    };
    switch (step_) {
    case step::connecting:
        return connected() ? next(step::plain_features, partner_header(to_)) : progress::blocked;
    case step::plain_features:
        return reply_to("</stream:features>", step::proceed, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    case step::proceed:
        if (auto r = await("<proceed"); r != io::done)
            return waiting(r);
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        // SSL_set_tlsext_host_name without its old-style cast.
        SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(to_.c_str()));
        // A pending write may be retried from a moved outbox.
        SSL_set_mode(ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
        return next(step::handshake, "");
    case step::handshake:
        if (auto r = tls_handshake(); r != io::done)
            return waiting(r);
        return next(step::tls_features, partner_header(to_));
    case step::tls_features:
        return reply_to("</stream:features>", step::success,
                        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>");
    case step::success:
        return reply_to("<success", step::final_features, partner_header(to_));
    case step::final_features:
        if (auto r = await("</stream:features>", "<stream:features/>"); r != io::done)
            return waiting(r);
        step_ = step::authenticated;
        return progress::authenticated;
    case step::authenticated:
        return progress::authenticated;
    }
    return progress::failed;
}

bool negotiating_stream::connected()
{
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
        fail(std::string{"connect: "} + std::strerror(error));
        return false;
    }
    // Connected once the kernel knows the peer.
    sockaddr_in peer{};
    socklen_t peer_len = sizeof peer;
    return ::getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0;
}

negotiating_stream::io negotiating_stream::await(std::string_view marker, std::string_view other)
{
    for (;;) {
        if (inbox_.find(marker) != std::string::npos || inbox_.find(other) != std::string::npos) {
            inbox_.clear();
            return io::done;
        }
        for (std::string_view refusal : {"<failure", "<stream:error", "</stream:stream>"})
            if (inbox_.find(refusal) != std::string::npos)
                return fail("fedgate refused: " + inbox_), io::failed;
        if (auto r = fill(); r != io::done)
            return r;
    }
}

negotiating_stream::io negotiating_stream::flush()
{
    while (!outbox_.empty()) {
        if (ssl_) {
            int n = SSL_write(ssl_, outbox_.data(), static_cast<int>(outbox_.size()));
            if (n <= 0) {
                int e = SSL_get_error(ssl_, n);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return io::would_block;
                return fail("TLS write: " + tls_error()), io::failed;
            }
            outbox_.erase(0, static_cast<std::size_t>(n));
        } else {
            auto n = ::send(fd_, outbox_.data(), outbox_.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return io::would_block;
                return fail(std::string{"write: "} + std::strerror(errno)), io::failed;
            }
            outbox_.erase(0, static_cast<std::size_t>(n));
        }
    }
    return io::done;
}

negotiating_stream::io negotiating_stream::fill()
{
    char chunk[16384];
    if (ssl_) {
        int n = SSL_read(ssl_, chunk, sizeof chunk);
        if (n > 0)
            return inbox_.append(chunk, static_cast<std::size_t>(n)), io::done;
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return io::would_block;
        return fail("the stream ended during negotiation (" + tls_error() + "); received: " + inbox_), io::failed;
    }
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0)
        return inbox_.append(chunk, static_cast<std::size_t>(n)), io::done;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return io::would_block;
    std::string const how = n < 0 ? std::string{"reset ("} + std::strerror(errno) + ")" : "ended";
    return fail("the stream " + how + " during negotiation; received: " + inbox_), io::failed;
}

negotiating_stream::io negotiating_stream::tls_handshake()
{
    int r = SSL_connect(ssl_);
    if (r == 1)
        return io::done;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return io::would_block;
    return fail("TLS handshake failed: " + tls_error()), io::failed;
}

std::string negotiating_stream::tls_error()
{
    char text[256] = "no OpenSSL error queued";
    if (auto code = ERR_get_error(); code != 0)
        ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return text;
}

bool negotiating_stream::send_now(std::string_view bytes)
{
    outbox_.assign(bytes);
    auto const deadline = steady::now() + std::chrono::seconds{5};
    while (steady::now() < deadline) {
        if (auto r = flush(); r != io::would_block)
            return r == io::done;
        pollfd p{fd_, POLLOUT | POLLIN, 0};
        ::poll(&p, 1, 100);
    }
    return fail("the message could not be written in 5 s"), false;
}

bool negotiating_stream::open() const
{
    char byte;
    auto n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

void negotiating_stream::close()
{
    if (ssl_)
        SSL_free(ssl_);
    ssl_ = nullptr;
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

}  // namespace fedgate::bench
