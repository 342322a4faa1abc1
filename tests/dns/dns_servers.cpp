#include "dns_servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>
#include <stdexcept>

extern char** environ;

namespace fedgate::test {
namespace {

sockaddr_in loopback(std::uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/// Whether something already holds 127.0.0.1:port (`type`: SOCK_DGRAM, SOCK_STREAM).
bool port_taken(std::uint16_t port, int type)
{
    int s = ::socket(AF_INET, type, 0);
    auto a = loopback(port);
    bool const taken = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
    ::close(s);
    return taken;
}

bool udp_port_taken(std::uint16_t port)
{
    return port_taken(port, SOCK_DGRAM);
}

}  // namespace

std::uint16_t free_udp_port()
{
    // Below the kernel's ephemeral range (32768 and up), and free for TCP too
    // (dnsmasq listens on both): a port the kernel picked for us could be taken
    // the next moment by any outgoing connection on the machine, a benchmark's
    // thousands of them for instance.
    std::mt19937 pick{std::random_device{}()};
    std::uniform_int_distribution<int> below_ephemeral{20000, 32000};
    for (int attempt = 0; attempt < 200; ++attempt) {
        auto const port = static_cast<std::uint16_t>(below_ephemeral(pick));
        if (!port_taken(port, SOCK_DGRAM) && !port_taken(port, SOCK_STREAM))
            return port;
    }
    throw std::runtime_error{"no free port for a DNS server"};
}

dnsmasq::dnsmasq(std::vector<std::string> const& records) : port_{free_udp_port()}
{
    std::vector<std::string> args = {"/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                     "--conf-file=/dev/null", "--listen-address=127.0.0.1", "--bind-interfaces",
                                     "--port=" + std::to_string(port_), "--local=/test/", "--local-ttl=300",
                                     "--user=root", "--log-facility=/dev/null"};
    args.insert(args.end(), records.begin(), records.end());
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
        throw std::runtime_error{"cannot start dnsmasq (is dnsmasq-base installed?)"};
    for (int i = 0; i < 200 && !udp_port_taken(port_); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    if (!udp_port_taken(port_))
        throw std::runtime_error{"dnsmasq did not start listening"};
}

dnsmasq::~dnsmasq()
{
    stop();
}

void dnsmasq::stop()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

fake_dns_server::fake_dns_server(behaviour b) : behaviour_{b}
{
    socket_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    auto a = loopback(0);
    ::bind(socket_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(socket_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (behaviour_ != behaviour::silent)
        thread_ = std::thread{[this] { serve(); }};
}

fake_dns_server::~fake_dns_server()
{
    stop_ = true;
    if (thread_.joinable())
        thread_.join();
    ::close(socket_);
}

void fake_dns_server::serve()
{
    unsigned char query[512];
    while (!stop_) {
        pollfd p{socket_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0)
            continue;
        sockaddr_in from{};
        socklen_t len = sizeof from;
        auto n = ::recvfrom(socket_, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 12)
            continue;
        std::vector<unsigned char> reply(query, query + n);  // id and question echoed
        reply[2] = 0x81;                                     // QR, RD
        reply[3] = 0x80;                                     // RA, rcode set below
        if (behaviour_ == behaviour::servfail)
            reply[3] |= 2;
        else if (behaviour_ == behaviour::refused)
            reply[3] |= 5;
        else {
            // NOERROR claiming one answer, then a record cut off in its name.
            reply[7] = 1;
            reply.insert(reply.end(), {0x05, 'b', 'r'});
        }
        ::sendto(socket_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
}

}  // namespace fedgate::test
