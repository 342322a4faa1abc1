#include "tests/bench/partner_stream.hpp"

#include "tests/bench/bench_lab.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace fedgate::bench {

namespace fs = std::filesystem;

SSL_CTX* partner_context(fs::path const& dir)
{
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (SSL_CTX_load_verify_locations(ctx, (dir / "pki/ca.crt").c_str(), nullptr) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, (dir / "pki/b.test.crt").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, (dir / "pki/b.test.key").c_str(), SSL_FILETYPE_PEM) != 1)
        die("cannot load b.test's certificate");
    return ctx;
}

std::string partner_header(std::string const& to)
{
    return "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
           "xmlns:stream='http://etherx.jabber.org/streams' from='b.test' to='" + to + "' version='1.0'>";
}

partner_stream::partner_stream(std::uint16_t port, SSL_CTX* ctx, std::string to)
    : fd_{connect_to(port)}, ctx_{ctx}, to_{std::move(to)}
{
}

partner_stream::~partner_stream()
{
    if (ssl_)
        SSL_free(ssl_);
    ::close(fd_);
}

void partner_stream::negotiate()
{
    send(partner_header(to_));
    read_until("</stream:features>");
    send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    read_until("<proceed");
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, to_.c_str());
    if (SSL_connect(ssl_) != 1)
        die("TLS handshake failed");
    send(partner_header(to_));
    read_until("</stream:features>");
    send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>");
    read_until("<success");
    send(partner_header(to_));
    read_until("</stream:features>", "<stream:features/>");
}

void partner_stream::send(std::string_view bytes)
{
    while (!bytes.empty()) {
        int n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                     : static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
        if (n <= 0)
            die("write failed");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void partner_stream::read_until(std::string_view marker, std::string_view other)
{
    for (;;) {
        if (seen_.find(marker) != std::string::npos || seen_.find(other) != std::string::npos) {
            seen_.clear();
            return;
        }
        char chunk[16384];
        int n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
        if (n <= 0)
            die("the stream ended during negotiation; received: " + seen_);
        seen_.append(chunk, static_cast<std::size_t>(n));
    }
}

}  // namespace fedgate::bench
