#include "tests/bench/remote_server.hpp"

#include "tests/bench/bench_lab.hpp"

#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <string_view>

namespace fedgate::bench {

namespace fs = std::filesystem;

namespace {

/// The value of attribute `name` in the first element of `xml` ('' or "").
std::string attribute(std::string_view xml, std::string_view name)
{
    for (char quote : {'\'', '"'}) {
        auto const key = " " + std::string{name} + "=" + quote;
        if (auto at = xml.find(key); at != std::string_view::npos) {
            at += key.size();
            return std::string{xml.substr(at, xml.find(quote, at) - at)};
        }
    }
    return {};
}

/// One S2S stream to b.test, blocking: reads until a condition holds on what
/// was received, writes in the clear or through TLS.
class s2s_peer {
public:
    explicit s2s_peer(int fd) : fd_{fd} {}
    ~s2s_peer()
    {
        if (ssl_)
            SSL_free(ssl_);
        ::close(fd_);
    }
    s2s_peer(s2s_peer const&) = delete;
    s2s_peer& operator=(s2s_peer const&) = delete;

    bool read_more()
    {
        char chunk[65536];
        int n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
        if (n <= 0)
            return false;
        seen.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
    /// Reads until the element that starts with `start` is complete (its '>'),
    /// or, with `end`, until `end` follows it; drops what came before and the
    /// element itself, returns the element.
    std::string read_element(std::string_view start, std::string_view end = ">")
    {
        for (;;) {
            if (auto at = seen.find(start); at != std::string::npos) {
                if (auto stop = seen.find(end, at); stop != std::string::npos) {
                    auto element = seen.substr(at, stop + end.size() - at);
                    seen.erase(0, stop + end.size());
                    return element;
                }
            }
            if (!read_more())
                return {};
        }
    }
    bool write(std::string_view bytes)
    {
        while (!bytes.empty()) {
            int n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                         : static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    bool start_tls(SSL_CTX* ctx)
    {
        ssl_ = SSL_new(ctx);
        SSL_set_fd(ssl_, fd_);
        return SSL_accept(ssl_) == 1;
    }
    /// The client's certificate chained to the lab CA and names `domain`.
    bool client_is(char const* domain) const
    {
        X509* cert = SSL_get1_peer_certificate(ssl_);
        bool ok = cert && SSL_get_verify_result(ssl_) == X509_V_OK &&
                  X509_check_host(cert, domain, 0, 0, nullptr) == 1;
        X509_free(cert);
        return ok;
    }

    std::string seen;

private:
    int fd_;
    SSL* ssl_ = nullptr;
};

/// Our stream header as b.test, answering `client_header`. No dialback
/// namespace: the client must authenticate with EXTERNAL.
std::string answer_header(std::string const& client_header, unsigned stream_id)
{
    auto to = attribute(client_header, "from");
    return "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
           "xmlns:stream='http://etherx.jabber.org/streams' from='b.test' to='" +
           (to.empty() ? std::string{"a.test"} : to) + "' id='b-test-" + std::to_string(stream_id) +
           "' version='1.0'>";
}

}  // namespace

remote_server::remote_server(fs::path const& dir) : listener_{listen_on(port_)}, ctx_{SSL_CTX_new(TLS_server_method())}
{
    auto const ca = (dir / "pki/ca.crt").string();
    if (SSL_CTX_use_certificate_chain_file(ctx_, (dir / "pki/b.test.crt").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, (dir / "pki/b.test.key").c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) != 1)
        die("cannot load b.test's certificate for its server side");
    // Ask for the client's certificate (EXTERNAL needs it); judged at <auth/>.
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    SSL_CTX_set_client_CA_list(ctx_, SSL_load_client_CA_file(ca.c_str()));
    acceptor_ = std::thread{[this] { accept_streams(); }};
}

remote_server::~remote_server()
{
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    if (acceptor_.joinable())
        acceptor_.detach();
}

void remote_server::accept_streams()
{
    for (;;) {
        int fd = accept_from(listener_);
        if (fd < 0)
            return;
        std::thread{[this, fd] { serve(fd); }}.detach();
    }
}

void remote_server::serve(int fd)
{
    static std::atomic<unsigned> streams{0};
    auto const id = ++streams;
    s2s_peer peer{fd};
    auto header = peer.read_element("<stream:stream");
    if (header.empty() ||
        !peer.write(answer_header(header, id) + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                                                "<required/></starttls></stream:features>") ||
        peer.read_element("<starttls").empty() || !peer.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"))
        return;
    peer.seen.clear();
    if (!peer.start_tls(ctx_)) {
        std::cerr << "bench: b.test: a TLS handshake failed\n";
        return;
    }
    header = peer.read_element("<stream:stream");
    if (header.empty() ||
        !peer.write(answer_header(header, id) + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                                "<mechanism>EXTERNAL</mechanism></mechanisms></stream:features>"))
        return;
    auto auth = peer.read_element("<auth");
    if (auth.empty())
        return;
    if (!auth.ends_with("/>") && peer.read_element("", "</auth>").empty())
        return;
    if (!peer.client_is("a.test")) {
        std::cerr << "bench: b.test: EXTERNAL refused, the client certificate is not a.test's\n";
        peer.write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure></stream:stream>");
        return;
    }
    if (!peer.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"))
        return;
    header = peer.read_element("<stream:stream");
    if (header.empty() || !peer.write(answer_header(header, id) + "<stream:features/>"))
        return;
    ++authenticated;
    do  // what arrived with the header first
        messages += count_messages(peer.seen, {}, latencies);
    while (peer.read_more());
}

}  // namespace fedgate::bench
