#include "tests/bench/component_sink.hpp"

#include "tests/bench/bench_lab.hpp"

#include <openssl/sha.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

namespace fedgate::bench {

sink::sink() : listener_{listen_on(port_)} {}

sink::~sink()
{
    ::close(listener_);
    if (thread_.joinable())
        thread_.detach();
}

void sink::start()
{
    thread_ = std::thread{[this] { serve(); }};
}

void sink::connect_as(std::uint16_t port, std::string domain, std::string secret)
{
    thread_ = std::thread{[this, port, domain, secret] { join(port, domain, secret); }};
}

void sink::send(std::string_view bytes)
{
    while (!bytes.empty()) {
        auto n = ::send(link_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0)
            die("the component link closed while the sink wrote to it");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void sink::serve()
{
    int fd = accept_from(listener_);
    if (fd < 0)
        return;
    link_ = fd;
    std::string buffer;
    char chunk[65536];
    while (!linked) {  // the header, then the handshake
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            return;
        buffer.append(chunk, static_cast<std::size_t>(n));
        if (buffer.find("<stream:stream") != std::string::npos && buffer.find("sent-header") == std::string::npos) {
            std::string reply = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                                "xmlns:stream='http://etherx.jabber.org/streams' id='bench' from='b.test'>";
            ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
            buffer += "sent-header";
        }
        if (buffer.find("</handshake>") != std::string::npos) {
            ::send(fd, "<handshake/>", 12, MSG_NOSIGNAL);
            linked = true;
        }
    }
    // Nothing follows </handshake> in `buffer`: fedgate waits for our <handshake/>.
    count(fd);
}

void sink::join(std::uint16_t port, std::string const& domain, std::string const& secret)
{
    int fd = connect_to(port);
    link_ = fd;
    std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                         "xmlns:stream='http://etherx.jabber.org/streams' to='" + domain + "'>";
    ::send(fd, header.data(), header.size(), MSG_NOSIGNAL);
    std::string buffer;
    char chunk[4096];
    auto id_at = std::string::npos;
    while ((id_at = buffer.find(" id='")) == std::string::npos || buffer.find('\'', id_at + 5) == std::string::npos) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            die("the component server closed the stream");
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
    auto const id = buffer.substr(id_at + 5, buffer.find('\'', id_at + 5) - id_at - 5);
    unsigned char digest[SHA_DIGEST_LENGTH];
    auto const input = id + secret;
    SHA1(reinterpret_cast<unsigned char const*>(input.data()), input.size(), digest);
    std::string hex;
    for (auto b : digest) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", b);
        hex += two;
    }
    auto const handshake = "<handshake>" + hex + "</handshake>";
    ::send(fd, handshake.data(), handshake.size(), MSG_NOSIGNAL);
    while (buffer.find("<handshake/>") == std::string::npos) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            die("the component handshake failed");
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
    linked = true;
    count(fd);
}

void sink::count(int fd)
{
    char chunk[65536];
    std::string pending;
    for (;;) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            return;
        std::string_view const bytes{chunk, static_cast<std::size_t>(n)};
        messages += count_messages(pending, bytes, latencies);
        // The server stops (fedgate on SIGTERM): answer its </stream:stream>, as
        // an internal server does, instead of letting it wait out its grace.
        if (bytes.find("</stream:stream>") != std::string_view::npos) {
            ::send(fd, "</stream:stream>", 16, MSG_NOSIGNAL);
            return;
        }
    }
}

}  // namespace fedgate::bench
