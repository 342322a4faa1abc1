#include "network/connector.hpp"

#include "network/log_failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace fedgate::network {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// What the attempts share with the coordinator. Attempts outlive the
/// coordinator's interest (a loser finishes after the winner returned), so the
/// race is shared.
struct race {
    explicit race(asio::any_io_executor executor) : wake{std::move(executor)} {}
    std::optional<tcp::socket> winner;
    dns::candidate used;
    std::vector<std::shared_ptr<tcp::socket>> sockets;
    unsigned running = 0;
    bool timed_out = false;
    bool refused = false;
    std::string error;
    asio::steady_timer wake;  ///< the coordinator's only wait; attempts cancel it
};

asio::awaitable<void> attempt(std::shared_ptr<race> r, dns::candidate c, std::chrono::milliseconds limit)
{
    auto executor = co_await asio::this_coro::executor;
    auto socket = std::make_shared<tcp::socket>(executor);
    r->sockets.push_back(socket);
    boost::system::error_code bad_address;
    auto ip = asio::ip::make_address(c.addr.ip, bad_address);
    std::string const where = c.addr.ip + " port " + std::to_string(c.port);
    if (bad_address) {
        r->error = where + ": " + bad_address.message();
    } else {
        asio::steady_timer timer{executor, limit};
        auto outcome = co_await (socket->async_connect(tcp::endpoint{ip, c.port}, use_tuple) ||
                                 timer.async_wait(use_tuple));
        if (outcome.index() == 1) {
            r->timed_out = true;
            r->error = where + ": no answer within " + std::to_string(limit.count()) + " ms";
        } else if (auto [ec] = std::get<0>(outcome); ec) {
            r->refused = r->refused || ec == asio::error::connection_refused;
            r->error = where + ": " + ec.message();
        } else if (!r->winner) {
            r->winner.emplace(std::move(*socket));
            r->used = std::move(c);
        }
    }
    --r->running;
    r->wake.cancel();
}

/// Waits until someone won, nothing runs any more, or `until`.
asio::awaitable<void> settle(race& r, asio::steady_timer::time_point until)
{
    while (!r.winner && r.running > 0 && asio::steady_timer::clock_type::now() < until) {
        r.wake.expires_at(until);
        (void)co_await r.wake.async_wait(use_tuple);
    }
}

}  // namespace

asio::awaitable<connect_result> connect_first(asio::any_io_executor executor, std::vector<dns::candidate> candidates,
                                              connect_timing timing)
{
    auto r = std::make_shared<race>(executor);
    for (auto& c : candidates) {
        ++r->running;
        asio::co_spawn(executor, attempt(r, c, timing.attempt), log_failure("connect " + c.addr.ip));
        co_await settle(*r, asio::steady_timer::clock_type::now() + timing.stagger);
        if (r->winner)
            break;
    }
    co_await settle(*r, asio::steady_timer::time_point::max());
    connect_result result;
    if (r->winner) {
        result.socket = std::move(r->winner);
        result.used = r->used;
    } else {
        result.timed_out = r->timed_out;
        result.refused = r->refused;
        result.error = r->error;
    }
    for (auto& s : r->sockets) {
        boost::system::error_code ignored;
        s->close(ignored);  // the losers; the winner was moved out
    }
    co_return result;
}

}  // namespace fedgate::network
