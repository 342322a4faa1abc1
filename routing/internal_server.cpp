#include "routing/internal_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fedgate::routing {

namespace asio = boost::asio;

asio::awaitable<internal_server_address> find_internal_server(asio::any_io_executor executor,
                                                              conf::internal_settings const& in)
{
    asio::ip::tcp::resolver resolver{executor};
    auto const host = in.host;                     // copies: the caller's settings may go with a reload
    auto const service = std::to_string(in.port);  // named: see connection::run() on GCC 12
    auto [ec, found] = co_await resolver.async_resolve(host, service, asio::as_tuple(asio::use_awaitable));
    internal_server_address out;
    out.error = ec;
    for (auto const& entry : found) {
        auto ip = entry.endpoint().address();
        out.candidates.push_back({.host = host,
                                  .port = in.port,
                                  .addr = {ip.to_string(), ip.is_v6() ? dns::address::family::ipv6
                                                                      : dns::address::family::ipv4}});
    }
    co_return out;
}

}  // namespace fedgate::routing
