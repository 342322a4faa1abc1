#pragma once
// Real and fake DNS servers on loopback for the resolver tests: a dnsmasq started
// with the test's records and stopped by PID, and a small UDP server that answers
// the way no real server should (SERVFAIL, REFUSED, malformed) or not at all.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace fedgate::test {

/// A port on 127.0.0.1 free for UDP and TCP (bound once and released), below
/// the kernel's ephemeral range.
std::uint16_t free_udp_port();

class dnsmasq {
public:
    /// Starts /usr/sbin/dnsmasq on 127.0.0.1 with `records` (dnsmasq options such
    /// as "--srv-host=..."), authoritative for .test, TTL 300; waits until it listens.
    explicit dnsmasq(std::vector<std::string> const& records);
    ~dnsmasq();
    void stop();
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    std::uint16_t port_ = 0;
    int pid_ = -1;
};

class fake_dns_server {
public:
    enum class behaviour { silent, servfail, refused, malformed };
    explicit fake_dns_server(behaviour b);
    ~fake_dns_server();
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    void serve();
    behaviour behaviour_;
    int socket_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace fedgate::test
