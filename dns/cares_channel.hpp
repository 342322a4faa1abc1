#pragma once
/// @file
/// Internal to dns/: one c-ares channel driven by an Asio executor, and the parsing
/// of c-ares replies into records.

#include "dns/error.hpp"
#include "dns/records.hpp"
#include "dns/resolver.hpp"

#include <ares.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <vector>

namespace fedgate::dns {

/// Receives the outcome of one query; called once, from inside c-ares, so it must
/// only hand the result over (post), never resume work in place.
struct completion {
    virtual ~completion() = default;
    virtual void complete(int ares_status, std::vector<unsigned char> reply) = 0;
};

class cares_channel {
public:
    cares_channel(boost::asio::any_io_executor executor, settings const& config);
    ~cares_channel();
    cares_channel(cares_channel const&) = delete;
    cares_channel& operator=(cares_channel const&) = delete;

    /// Sends a query of `type` (class IN) for `name`.
    void start(std::string const& name, std::uint16_t type, std::unique_ptr<completion> done);
    [[nodiscard]] boost::asio::any_io_executor executor() const { return executor_; }

private:
    struct watch {
        boost::asio::posix::stream_descriptor descriptor;
        std::uint64_t generation = 0;
        bool want_read = false, want_write = false;
        bool reading = false, writing = false;
    };
    static void on_reply(void* arg, int status, int timeouts, unsigned char* reply, int length) noexcept;
    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) noexcept;
    void arm(ares_socket_t fd);
    void reschedule_timer();

    boost::asio::any_io_executor executor_;
    ares_channel channel_ = nullptr;
    boost::asio::steady_timer timer_;
    std::map<ares_socket_t, std::unique_ptr<watch>> watches_;
    std::uint64_t generation_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// The error for a c-ares status.
[[nodiscard]] std::error_code to_error(int ares_status) noexcept;
/// SRV records of a reply; "." for the root target. A record whose target is
/// no host name is left out (error::bad_reply when nothing else is left).
[[nodiscard]] std::vector<srv_record> parse_srv(std::vector<unsigned char> const& reply, std::error_code& ec);
/// A or AAAA records of a reply; lowers `ttl` to the smallest record TTL.
[[nodiscard]] std::vector<address> parse_addresses(std::vector<unsigned char> const& reply, address::family family,
                                                   std::error_code& ec, std::uint32_t& ttl);

}  // namespace fedgate::dns
