#pragma once
/// @file
/// Partner b.test's side of the outbound direction: the server the server
/// under test connects to.

#include "tests/bench/stamped_messages.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <thread>

namespace fedgate::bench {

/// The remote server b.test for the outbound direction: listens for S2S streams
/// to b.test, does the server side of STARTTLS (b.test's certificate) and of
/// SASL EXTERNAL (success only for a client certificate valid for a.test),
/// then counts the messages that arrive, on every stream.
class remote_server {
public:
    explicit remote_server(std::filesystem::path const& dir);
    ~remote_server();
    remote_server(remote_server const&) = delete;
    remote_server& operator=(remote_server const&) = delete;
    [[nodiscard]] std::uint16_t port() const { return port_; }
    std::atomic<std::uint64_t> messages{0};
    std::atomic<unsigned> authenticated{0};
    latency_log latencies;

private:
    void accept_streams();
    void serve(int fd);

    std::uint16_t port_ = 0;
    int listener_;
    SSL_CTX* ctx_;
    std::thread acceptor_;
};

}  // namespace fedgate::bench
