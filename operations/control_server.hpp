#pragma once
/// @file
/// The control socket: a local Unix stream socket where `fedgate status` asks
/// the running daemon. One request line per connection ("status"), one answer
/// (a JSON document), then the daemon closes. Mode 0660: the service's group
/// may ask; nobody else can reach it (no network address at all).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace fedgate::operations {

class control_server {
public:
    /// Answers one request line (without its newline) with the text to send.
    using answer = std::function<std::string(std::string_view request)>;

    /// Binds `path`. Returns null with `why` set when it cannot: the folder is
    /// missing, or another process answers there (a stale socket file of a
    /// stopped fedgate is replaced).
    static std::unique_ptr<control_server> open(boost::asio::any_io_executor executor,
                                                std::filesystem::path const& path, answer reply, std::string& why);
    ~control_server();
    control_server(control_server const&) = delete;
    control_server& operator=(control_server const&) = delete;

    void start();
    /// Closes the socket and removes its file.
    void stop();

private:
    control_server(boost::asio::any_io_executor executor, std::filesystem::path path, answer reply);
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);

    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::filesystem::path path_;
    answer reply_;
    unsigned open_ = 0;  ///< requests being served; a few at most
};

/// The request `fedgate status` sends, and the only one there is so far.
inline constexpr std::string_view status_request = "status";

}  // namespace fedgate::operations
