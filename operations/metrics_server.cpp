#include "operations/metrics_server.hpp"

#include "network/log_failure.hpp"
#include "operations/bounded_accept.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <stdexcept>

namespace fedgate::operations {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

metrics_server::metrics_server(asio::any_io_executor executor, conf::socket_address const& where, metrics const& m)
    : acceptor_{executor}, metrics_{m}
{
    boost::system::error_code ec;
    tcp::endpoint endpoint{asio::ip::make_address(where.host, ec), where.port};
    if (!ec)
        acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
        acceptor_.set_option(tcp::acceptor::reuse_address{true}, ec);
    if (!ec)
        acceptor_.bind(endpoint, ec);
    if (!ec)
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error{"cannot serve metrics on " + where.host + " port " + std::to_string(where.port) +
                                 ": " + ec.message()};
}

void metrics_server::start()
{
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), network::log_failure("metrics listener"));
}

void metrics_server::stop()
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

namespace {
/// Scrapers are few; more at once is a client misbehaving, and every socket
/// here is one the S2S side cannot have.
constexpr unsigned max_open = 8;
}  // namespace

asio::awaitable<void> metrics_server::accept_loop()
{
    co_await bounded_accept(acceptor_, open_, max_open, [this](auto socket) { return serve(std::move(socket)); },
                            "metrics request");
}

asio::awaitable<void> metrics_server::serve(tcp::socket socket)
{
    using namespace asio::experimental::awaitable_operators;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    asio::steady_timer limit{socket.get_executor(), std::chrono::seconds{5}};
    auto got = co_await (http::async_read(socket, buffer, request, use_tuple) || limit.async_wait(use_tuple));
    if (got.index() != 0 || std::get<0>(std::get<0>(got)))
        co_return;
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(false);
    if (request.method() == http::verb::get && request.target() == "/metrics") {
        response.result(http::status::ok);
        response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        response.body() = metrics_.render();
    } else {
        response.result(http::status::not_found);
        response.set(http::field::content_type, "text/plain");
        response.body() = "fedgate serves GET /metrics only\n";
    }
    response.prepare_payload();
    limit.expires_after(std::chrono::seconds{5});  // a reader that does not read loses the answer
    (void)co_await (http::async_write(socket, response, use_tuple) || limit.async_wait(use_tuple));
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace fedgate::operations
