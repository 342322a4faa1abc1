// connection (connection.hpp): the TLS handshake a session asks for, and the
// peer certificate it hands back to the session.
#include "network/connection.hpp"

#include "negotiation/x509_certificate_facts.hpp"
#include "negotiation/x509_peer_certificate.hpp"
#include "network/tls_contexts.hpp"

#include <spdlog/spdlog.h>

#include <array>

namespace fedgate::network {

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;

namespace {

std::string subject_of(X509* cert)
{
    if (!cert)
        return "no certificate";
    std::array<char, 256> buf{};
    X509_NAME_oneline(X509_get_subject_name(cert), buf.data(), static_cast<int>(buf.size()));
    return buf.data();
}

tls_details details_of(SSL* ssl, bool direct_tls, std::shared_ptr<ng::peer_certificate const> certificate, X509* leaf)
{
    tls_details d;
    d.version = SSL_get_version(ssl);
    d.cipher = SSL_get_cipher_name(ssl);
    unsigned char const* alpn = nullptr;
    unsigned int alpn_size = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_size);
    if (alpn != nullptr)
        d.alpn.assign(reinterpret_cast<char const*>(alpn), alpn_size);
    d.direct_tls = direct_tls;
    d.certificate = std::move(certificate);
    if (leaf != nullptr)
        d.certificate_facts = ng::extract_certificate_facts(leaf);
    return d;
}

}  // namespace

asio::awaitable<void> connection::start_tls(ng::begin_tls const& request)
{
    co_await flush();
    if (closing_)
        co_return;
    asio::ssl::context* context = &tls_.listener();
    if (request.role == ng::tls_role::client) {
        auto const& identity = options_.tls_identity.empty() ? request.local_domain : options_.tls_identity;
        context = tls_.client(identity);
        if (!context) {
            perform_all_now({ng::close_stream{protocol::stream_error::internal_server_error, ng::close_reason::bad_input,
                                              "no certificate for " + identity}});
            co_return;
        }
    }
    tls_pending_ = true;
    boost::system::error_code ec;
    bool const client = request.role == ng::tls_role::client;
    std::function<void(SSL*)> const prepare = [&](SSL* ssl) {
        if (client)
            tls_contexts::prepare_client(ssl, request.server_name, options_.alpn);
        else
            tls_.present(ssl, request.local_domain);
    };
    co_await io_.handshake(*context, client ? transport::role::client : transport::role::server, prepare, ec);
    tls_pending_ = false;
    writer_wake_.notify();  // held bytes (a close of ours) may go now
    if (ec) {
        tls_failed_ = true;
        spdlog::warn("{} TLS handshake failed: {}", id_, ec.message());
        fail_transport("TLS handshake failed: " + ec.message());
        co_return;
    }
    if (closing_)
        co_return;  // closed from outside during the handshake
    SSL* ssl = io_.ssl();
    X509* leaf = SSL_get0_peer_certificate(ssl);
    spdlog::info("{} TLS up: {}, sni '{}', peer certificate: {}", id_, io_.tls_summary(),
                 tls_contexts::requested_server_name(ssl), subject_of(leaf));
    auto certificate = ng::make_x509_peer_certificate(leaf, SSL_get_peer_cert_chain(ssl), tls_.trust());
    tls_details_ = details_of(ssl, options_.tls_first || options_.alpn, certificate, leaf);
    tls_published_.store(&*tls_details_, std::memory_order_release);
    if (options_.tls_first) {
        auto started = driver_.start();
        co_await perform(std::move(started));
    }
    auto actions = driver_.handle(ng::tls_established{std::move(certificate)});
    co_await perform(std::move(actions));
}


}  // namespace fedgate::network
