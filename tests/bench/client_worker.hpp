#pragma once
/// @file
/// A scale_bench client thread: its share of the streams, its share of the
/// in-flight limit.

#include "tests/bench/negotiating_stream.hpp"

#include <openssl/ssl.h>

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fedgate::bench {

/// Negotiates streams [first, first + count) on one thread with one epoll set,
/// never more than `in_flight` at a time.
class client_worker {
public:
    client_worker(std::uint16_t port, SSL_CTX* ctx, std::string const& to, unsigned count, unsigned in_flight)
        : port_{port}, ctx_{ctx}, to_{to}, count_{count}, in_flight_{std::max(1U, in_flight)}, epoll_{::epoll_create1(EPOLL_CLOEXEC)}
    {
        streams_.resize(count);
    }
    ~client_worker() { ::close(epoll_); }
    client_worker(client_worker const&) = delete;
    client_worker& operator=(client_worker const&) = delete;

    void run();

    std::vector<std::unique_ptr<negotiating_stream>> streams_;  ///< authenticated ones stay, failed ones are reset
    std::vector<double> seconds_each_;                           ///< per authenticated stream
    unsigned authenticated_ = 0;
    unsigned failed_ = 0;
    std::string first_failure_;

private:
    void launch_more();
    void handle(unsigned index);
    void finish(unsigned index, progress outcome);
    void expire_stalled();

    /// Longer than fedgate's negotiation_timeout (30 s): if fedgate gives up, we see how.
    static constexpr std::chrono::seconds give_up_after{60};

    std::uint16_t port_;
    SSL_CTX* ctx_;
    std::string to_;
    unsigned count_;
    unsigned in_flight_;
    int epoll_;
    unsigned next_ = 0;         ///< the next stream to start
    unsigned open_ = 0;         ///< negotiations in flight
    unsigned oldest_open_ = 0;  ///< no stream below this one is still negotiating
    std::vector<bool> finished_ = std::vector<bool>(count_);
};

}  // namespace fedgate::bench
