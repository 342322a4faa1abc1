#pragma once
/// @file
/// scale_bench's partner stream: b.test's negotiation, without blocking.

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace fedgate::bench {

/// What the state machine did with the bytes and readiness it had.
enum class progress : std::uint8_t { blocked, authenticated, failed };

/// One inbound S2S stream from b.test to fedgate: the exchange of
/// partner_stream::negotiate (partner_stream.hpp), as a state machine that returns
/// whenever the socket would block.
class negotiating_stream {
public:
    negotiating_stream(SSL_CTX* ctx, std::string const& to) : ctx_{ctx}, to_{to} {}
    ~negotiating_stream() { close(); }
    negotiating_stream(negotiating_stream const&) = delete;
    negotiating_stream& operator=(negotiating_stream const&) = delete;

    /// Starts a non-blocking connect to 127.0.0.1:port; false (and failure()) if it cannot.
    bool begin(std::uint16_t port);
    /// Runs the negotiation as far as the socket lets it.
    progress advance();
    /// Writes the whole of `bytes` on an authenticated stream, waiting as needed.
    bool send_now(std::string_view bytes);
    /// Still connected: fedgate has not closed it (no EOF, no error).
    [[nodiscard]] bool open() const;
    void close();

    [[nodiscard]] int fd() const { return fd_; }
    [[nodiscard]] std::string const& failure() const { return failure_; }
    [[nodiscard]] std::chrono::steady_clock::time_point started() const { return started_; }
    progress fail(std::string why);

private:
    enum class step : std::uint8_t {
        connecting,
        plain_features,  ///< the first <stream:features> with <starttls/>
        proceed,
        handshake,
        tls_features,  ///< the features over TLS, with EXTERNAL
        success,
        final_features,  ///< empty features: authenticated
        authenticated,
    };
    enum class io : std::uint8_t { done, would_block, failed };

    progress advance_one_step(bool& moved);
    /// The step, in words, for failure reports.
    [[nodiscard]] char const* doing() const;
    bool connected();
    /// Whether the inbox holds `marker` (or `other`); reads more if not. On a match
    /// the inbox is emptied: each step waits for a reply the peer sends whole.
    io await(std::string_view marker, std::string_view other = "\x01");
    io flush();
    io fill();
    io tls_handshake();
    static std::string tls_error();

    SSL_CTX* ctx_;
    std::string to_;
    int fd_ = -1;
    SSL* ssl_ = nullptr;
    step step_ = step::connecting;
    std::string inbox_;
    std::string outbox_;
    std::string failure_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace fedgate::bench
