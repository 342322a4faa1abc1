// connection (connection.hpp): its clock. One timer serves the negotiation
// deadline, the idle timeout, the whitespace keepalive and the grace a closing
// stream gets, whichever comes first.
#include "network/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace fedgate::network {

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;
using std::chrono::steady_clock;

namespace {
/// How long closing may take before the socket is simply closed: a peer that
/// neither reads our last bytes nor answers close_notify does not hold it.
constexpr std::chrono::seconds closing_grace{5};
}  // namespace

steady_clock::time_point connection::next_deadline() const
{
    if (closing_)
        return closing_since_ + closing_grace;
    if (!established_)
        return opened_at_ + options_.negotiation_timeout;
    auto next = steady_clock::time_point::max();
    if (options_.idle_timeout.count() > 0)
        next = std::min(next, last_stanza_ + options_.idle_timeout);
    if (options_.keepalive.count() > 0)
        next = std::min(next, last_write_ + options_.keepalive);
    return next;
}

asio::awaitable<void> connection::clock_loop()
{
    auto self = shared_from_this();
    while (!closed_) {
        clock_.expires_at(next_deadline());
        auto [ec] = co_await clock_.async_wait(asio::as_tuple(asio::use_awaitable));
        auto now = steady_clock::now();
        if (closed_)
            break;
        if (ec || now < next_deadline())
            continue;  // woken early: recompute
        if (closing_) {
            spdlog::debug("{} closing took too long; dropping the connection", id_);
            io_.close();
            break;
        } else if (!established_) {
            perform_all_now(driver_.handle(ng::deadline_passed{}));
            if (!closing_)
                // A session that does not care about its deadline still gets one.
                perform_all_now({ng::close_stream{protocol::stream_error::connection_timeout, ng::close_reason::timeout,
                                                  "negotiation took too long"}});
        } else if (options_.idle_timeout.count() > 0 && now >= last_stanza_ + options_.idle_timeout) {
            close(std::nullopt, ng::close_reason::done, "idle");
        } else {
            // RFC 6120 §4.6.1 whitespace keepalive, unless bytes are on their way
            // anyway; either way the next one is a full interval away.
            last_write_ = now;
            if (!writing_ && outbox_.empty())
                enqueue(" ");
        }
    }
}

}  // namespace fedgate::network
