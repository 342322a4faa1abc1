#include "operations/control_server.hpp"

#include "network/log_failure.hpp"
#include "operations/bounded_accept.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/stat.h>

namespace fedgate::operations {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// Operators' commands are few; more at once is a client misbehaving.
constexpr unsigned max_open = 4;
/// A request is one short line.
constexpr std::size_t max_request = 256;
}  // namespace

std::unique_ptr<control_server> control_server::open(asio::any_io_executor executor, std::filesystem::path const& path,
                                                     answer reply, std::string& why)
{
    std::error_code fs_ec;
    if (!std::filesystem::is_directory(path.parent_path(), fs_ec)) {
        why = "its folder " + path.parent_path().string() +
              " does not exist (the systemd unit's RuntimeDirectory=fedgate makes /run/fedgate)";
        return nullptr;
    }
    boost::system::error_code ec;
    if (std::filesystem::is_socket(path, fs_ec)) {
        // Someone listening there is another fedgate (or anything else): keep
        // away from it. Nobody listening: a stopped instance's file, replaced.
        local::socket probe{executor};
        probe.connect(local::endpoint{path.string()}, ec);
        if (!ec) {
            why = "another process answers on " + path.string() + " (another fedgate with the same [control] socket?)";
            return nullptr;
        }
        std::filesystem::remove(path, fs_ec);
    } else if (std::filesystem::exists(path, fs_ec)) {
        why = path.string() + " exists and is not a socket";
        return nullptr;
    }
    std::unique_ptr<control_server> server{new control_server{executor, path, std::move(reply)}};
    auto& acceptor = server->acceptor_;
    acceptor.open(local{}, ec);
    if (!ec)
        acceptor.bind(local::endpoint{path.string()}, ec);
    if (!ec && ::chmod(path.c_str(), 0660) != 0)
        ec.assign(errno, boost::system::system_category());
    if (!ec)
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        why = "cannot listen on " + path.string() + ": " + ec.message();
        server->stop();
        return nullptr;
    }
    return server;
}

control_server::control_server(asio::any_io_executor executor, std::filesystem::path path, answer reply)
    : acceptor_{std::move(executor)}, path_{std::move(path)}, reply_{std::move(reply)}
{
}

control_server::~control_server()
{
    stop();
}

void control_server::start()
{
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), network::log_failure("control socket"));
}

void control_server::stop()
{
    if (!acceptor_.is_open())
        return;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    std::error_code fs_ignored;
    std::filesystem::remove(path_, fs_ignored);
}

asio::awaitable<void> control_server::accept_loop()
{
    co_await bounded_accept(acceptor_, open_, max_open, [this](auto socket) { return serve(std::move(socket)); },
                            "control request");
}

asio::awaitable<void> control_server::serve(local::socket socket)
{
    using namespace asio::experimental::awaitable_operators;
    std::string request;
    asio::steady_timer limit{socket.get_executor(), std::chrono::seconds{5}};
    auto got = co_await (asio::async_read_until(socket, asio::dynamic_buffer(request, max_request), '\n', use_tuple) ||
                         limit.async_wait(use_tuple));
    if (got.index() != 0 || std::get<0>(std::get<0>(got)))
        co_return;  // too long, too slow or gone: nothing to answer
    request.resize(request.find('\n'));
    auto const reply = reply_(request);
    limit.expires_after(std::chrono::seconds{5});  // a reader that does not read loses the answer
    (void)co_await (asio::async_write(socket, asio::buffer(reply), use_tuple) || limit.async_wait(use_tuple));
    boost::system::error_code ignored;
    socket.shutdown(local::socket::shutdown_both, ignored);
}

}  // namespace fedgate::operations
