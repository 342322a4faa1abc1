#include "daemon/status_cli.hpp"

#include "conf/config.hpp"
#include "operations/control_server.hpp"
#include "operations/status_report.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace fedgate::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr int unreachable = 2;

/// The control socket the configuration names. Only the text is read, not the
/// certificates and keys it names: an operator in the service's group may ask
/// for the status without reading the private keys.
std::optional<std::filesystem::path> control_socket(std::string const& file)
{
    std::ifstream in{file};
    if (!in) {
        std::cerr << "fedgate status: cannot read " << file << " (see -c)\n";
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = conf::parse(text.str(), file, std::filesystem::path{file}.parent_path());
    if (!parsed.ok()) {
        for (auto const& d : parsed.findings)
            std::cerr << d.format() << "\n";
        std::cerr << "fedgate status: " << file << " is invalid (see fedgate check-config)\n";
        return std::nullopt;
    }
    if (parsed.cfg->control.socket.empty()) {
        std::cerr << "fedgate status: " << file << " sets no control socket ([control] socket = \"\"): "
                  << "the daemon cannot be asked\n";
        return std::nullopt;
    }
    return parsed.cfg->control.socket;
}

/// The daemon's answer, or nullopt after a message.
std::optional<std::string> ask(std::filesystem::path const& socket)
{
    asio::io_context io;
    local::socket s{io};
    boost::system::error_code ec;
    s.connect(local::endpoint{socket.string()}, ec);
    if (ec) {
        std::cerr << "fedgate status: no fedgate answers on " << socket.string() << ": " << ec.message()
                  << (ec == asio::error::not_found || ec == boost::system::errc::no_such_file_or_directory
                          ? " (is it running? systemctl status fedgate)"
                          : ec == boost::system::errc::permission_denied
                                ? " (run it as root or as a member of the service's group)"
                                : "")
                  << "\n";
        return std::nullopt;
    }
    timeval limit{.tv_sec = 10, .tv_usec = 0};  // a daemon that hangs does not hang its operator
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    std::string request{operations::status_request};
    request += '\n';
    asio::write(s, asio::buffer(request), ec);
    std::string answer;
    if (!ec)
        asio::read(s, asio::dynamic_buffer(answer), ec);
    if (ec && ec != asio::error::eof) {
        std::cerr << "fedgate status: " << socket.string() << ": " << ec.message() << "\n";
        return std::nullopt;
    }
    return answer;
}

}  // namespace

int status_command(std::string const& config_file, bool json)
{
    auto const socket = control_socket(config_file);
    if (!socket)
        return unreachable;
    auto const answer = ask(*socket);
    if (!answer)
        return unreachable;
    boost::system::error_code ec;
    auto document = boost::json::parse(*answer, ec);
    if (ec || !document.is_object()) {
        std::cerr << "fedgate status: the daemon's answer is not a status document (" << answer->substr(0, 200)
                  << ")\n";
        return unreachable;
    }
    std::cout << (json ? *answer + (answer->ends_with('\n') ? "" : "\n")
                       : operations::status_text(document.as_object()));
    return operations::any_partner_failing(document.as_object()) ? 1 : 0;
}

}  // namespace fedgate::daemon
