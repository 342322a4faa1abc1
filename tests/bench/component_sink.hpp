#pragma once
/// @file
/// The internal server's end of the component link (XEP-0114): where inbound
/// stanzas arrive and where outbound ones start.

#include "tests/bench/stamped_messages.hpp"

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace fedgate::bench {

/// The XEP-0114 side of the internal server: accepts fedgate's component
/// connection (or joins a server as a component), then counts every
/// </message> that arrives; send() writes stanzas into the link (the outbound
/// direction).
class sink {
public:
    sink();
    ~sink();
    sink(sink const&) = delete;
    sink& operator=(sink const&) = delete;
    /// Waits for fedgate's component connection (fedgate connects to us).
    void start();
    /// Connects to a server as the component `domain` (Prosody listens).
    void connect_as(std::uint16_t port, std::string domain, std::string secret);
    [[nodiscard]] std::uint16_t port() const { return port_; }
    /// Writes into the component link (blocking); only once linked.
    void send(std::string_view bytes);
    std::atomic<std::uint64_t> messages{0};
    std::atomic<bool> linked{false};
    latency_log latencies;

private:
    void serve();
    void join(std::uint16_t port, std::string const& domain, std::string const& secret);
    void count(int fd);

    std::uint16_t port_ = 0;
    int listener_;
    std::atomic<int> link_{-1};
    std::thread thread_;
};

}  // namespace fedgate::bench
