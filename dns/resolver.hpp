#pragma once
/// @file
/// Asynchronous DNS for fedgate: c-ares driven by Boost.Asio (no blocking calls, no
/// thread per query), with a TTL cache, and the XMPP server lookup of RFC 6120 §3.2
/// and XEP-0368 on top.

#include "dns/cache.hpp"
#include "dns/records.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedgate::dns {

class cares_channel;

/// How the resolver asks. conf/ maps [dns] onto this.
struct settings {
    /// (IP literal, port); empty: the system's /etc/resolv.conf.
    std::vector<std::pair<std::string, std::uint16_t>> servers;
    std::chrono::milliseconds timeout{5000};  ///< per attempt (c-ares doubles it per retry)
    unsigned attempts = 2;
    std::size_t cache_entries = 4096;
    std::chrono::seconds negative_ttl{60};  ///< for NXDOMAIN/NODATA replies without SOA
    std::chrono::seconds max_ttl{86400};    ///< no answer is kept longer
};

class resolver {
public:
    /// `seed` drives the RFC 2782 weighted selection (fixed in tests); `now` is the
    /// cache's clock. Throws std::runtime_error if c-ares cannot be set up.
    resolver(boost::asio::any_io_executor executor, settings config, std::uint64_t seed = std::random_device{}(),
             std::function<cache::clock::time_point()> now = cache::clock::now);
    ~resolver();
    resolver(resolver const&) = delete;
    resolver& operator=(resolver const&) = delete;

    /// SRV records of `name` (unordered), from the cache when fresh.
    boost::asio::awaitable<answer> query_srv(std::string name);
    /// A or AAAA records of `name`, from the cache when fresh.
    boost::asio::awaitable<answer> query_addresses(std::string name, address::family family);

    /// Where to connect for S2S with `domain` (A-label form): `_xmpps-server._tcp`
    /// and `_xmpp-server._tcp` SRV queried together and merged (srv_order.hpp), or
    /// the domain's own A/AAAA on port 5269 when it has no SRV records; each target's
    /// IPv6 addresses, then its IPv4 ones.
    /// @see RFC 6120 §3.2, RFC 2782, XEP-0368
    boost::asio::awaitable<resolution> resolve(std::string domain);

    /// Queries actually sent to a DNS server (cache hits excluded).
    [[nodiscard]] std::size_t queries_sent() const noexcept { return queries_sent_; }

private:
    boost::asio::awaitable<answer> query(std::string name, std::uint16_t type);
    boost::asio::awaitable<std::vector<candidate>> candidates_for(std::string host, std::uint16_t port,
                                                                  bool direct_tls, std::error_code& last_error);

    settings config_;
    std::unique_ptr<cares_channel> channel_;
    cache cache_;
    std::mt19937_64 rng_;
    std::size_t queries_sent_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fedgate::dns
