// Happy Eyeballs over real loopback sockets: the first candidate that accepts
// wins, refusals move on at once, silence is bounded by the attempt limit.
#include "network/connector.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using fedgate::network::connect_first;
using fedgate::network::connect_result;
using fedgate::dns::candidate;
using namespace std::chrono_literals;

/// A port on 127.0.0.1 where nothing listens: bound, then closed.
std::uint16_t closed_port(asio::io_context& io)
{
    tcp::acceptor a{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
    return a.local_endpoint().port();
}

candidate at(std::string ip, std::uint16_t port, bool direct_tls = false)
{
    auto family = ip.find(':') == std::string::npos ? fedgate::dns::address::family::ipv4
                                                    : fedgate::dns::address::family::ipv6;
    return {.host = "peer.test", .port = port, .addr = {std::move(ip), family}, .direct_tls = direct_tls};
}

connect_result run(asio::io_context& io, std::vector<candidate> candidates, fedgate::network::connect_timing timing)
{
    auto future = asio::co_spawn(io, connect_first(io.get_executor(), std::move(candidates), timing), asio::use_future);
    io.run();
    io.restart();
    return future.get();
}

TEST(connect_first, skips_refusing_candidates_and_reports_the_one_that_answered)
{
    asio::io_context io;
    tcp::acceptor listening{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
    auto const good = listening.local_endpoint().port();
    auto const refused = closed_port(io);
    auto result = run(io, {at("127.0.0.1", refused), at("127.0.0.1", good, true)}, {});
    ASSERT_TRUE(result.socket.has_value()) << result.error;
    EXPECT_EQ(result.used.port, good);
    EXPECT_TRUE(result.used.direct_tls);
    EXPECT_EQ(result.socket->remote_endpoint().port(), good);
}

TEST(connect_first, every_refusal_is_a_failure_that_names_the_last_address)
{
    asio::io_context io;
    auto const a = closed_port(io);
    auto const b = closed_port(io);
    auto result = run(io, {at("127.0.0.1", a), at("127.0.0.1", b)}, {});
    EXPECT_FALSE(result.socket.has_value());
    EXPECT_FALSE(result.timed_out);
    EXPECT_NE(result.error.find("127.0.0.1 port"), std::string::npos) << result.error;
}

TEST(connect_first, an_address_that_is_not_an_ip_fails_cleanly)
{
    asio::io_context io;
    auto result = run(io, {at("not-an-ip", 5269)}, {});
    EXPECT_FALSE(result.socket.has_value());
    EXPECT_NE(result.error.find("not-an-ip"), std::string::npos);
}

TEST(connect_first, a_slow_first_candidate_does_not_hold_up_a_later_one)
{
    // The listener's backlog is full, so further connects to it hang (SYNs are
    // dropped); the second candidate starts after the stagger and wins.
    asio::io_context io;
    tcp::acceptor full{io};
    full.open(tcp::v4());
    full.bind(tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
    full.listen(0);
    std::vector<int> fillers;  // raw non-blocking connects: Asio's connect() would wait
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(full.local_endpoint().port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 4; ++i) {
        fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        (void)::connect(fillers.back(), reinterpret_cast<sockaddr const*>(&to), sizeof to);
    }
    tcp::acceptor listening{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
    auto const good = listening.local_endpoint().port();
    // The first attempt could wait a minute; waiting for it would show.
    auto const started = std::chrono::steady_clock::now();
    auto result = run(io, {at("127.0.0.1", full.local_endpoint().port()), at("127.0.0.1", good)},
                      {.stagger = 50ms, .attempt = 60s});
    EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
    for (int fd : fillers)
        ::close(fd);
    ASSERT_TRUE(result.socket.has_value()) << result.error;
    EXPECT_EQ(result.used.port, good);
}

}  // namespace
