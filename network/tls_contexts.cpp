#include "network/tls_contexts.hpp"

#include "negotiation/x509_certificate_facts.hpp"
#include "protocol/domain_name.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace fedgate::network {

namespace ssl = boost::asio::ssl;

namespace {

std::string openssl_reason()
{
    unsigned long code = ERR_get_error();
    std::string reason = code ? ERR_reason_error_string(code) ? ERR_reason_error_string(code) : "unknown error"
                              : "unknown error";
    ERR_clear_error();
    return reason;
}

[[noreturn]] void fail(std::string const& what)
{
    throw std::runtime_error{what + ": " + openssl_reason()};
}

/// Accept every chain during the handshake; the sessions judge it afterwards with
/// a reason they can log and act on (RFC 7590 §3.2, XEP-0178, XEP-0344), by
/// check_peer_certificate (negotiation/certificate_identity). OpenSSL does not
/// even walk the chain here: its verdict would be thrown away, and building it
/// was a tenth of fedgate's CPU per inbound negotiation (tests/bench/scale_bench
/// under perf). The peer still proves it holds the certificate's key
/// (CertificateVerify), and the chain it sent is kept for the judgement.
int defer_verification(X509_STORE_CTX*, void*)
{
    return 1;
}

/// XEP-0368 §3: a client that offers ALPN without xmpp-server is not an S2S peer.
int select_xmpp_server(SSL*, unsigned char const** out, unsigned char* out_len, unsigned char const* in,
                       unsigned int in_len, void*)
{
    for (unsigned i = 0; i < in_len;) {
        unsigned const len = in[i];
        std::string_view proto{reinterpret_cast<char const*>(in + i + 1), std::min<unsigned>(len, in_len - i - 1)};
        if (proto == alpn_xmpp_server) {
            *out = in + i + 1;
            *out_len = static_cast<unsigned char>(len);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void harden(SSL_CTX* ctx, conf::tls_settings const& tls, X509_STORE* trust)
{
    int const min = tls.min_version == conf::tls_settings::version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(ctx, min) != 1)
        fail("cannot set the minimum TLS version");
    // No TLS compression (CRIME), no renegotiation, ever (issue 5's hard rules).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, defer_verification, nullptr);
    SSL_CTX_set1_cert_store(ctx, trust);
}

/// As a server: no session resumption. An S2S stream lives for hours, and a
/// partner that reconnects pays one full handshake; but every ticket OpenSSL
/// 3.0 issues costs a copy of the session through DER (the peer's certificate
/// parsed again), a sixth of fedgate's CPU per inbound negotiation
/// (tests/bench/scale_bench under perf), and a server-side session cache would
/// keep up to 20,000 sessions in memory.
void no_resumption(SSL_CTX* ctx)
{
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

/// A certificate file with the leaf alone makes OpenSSL build the chain to
/// send from the trust store in every handshake (X509_verify_cert each time, a
/// tenth of an inbound negotiation's CPU in tests/bench/scale_bench). It is
/// built here once instead, as far as the store allows, exactly as the
/// handshake would have; the root is left out, since a peer that trusts it
/// has it. A file that carries its chain is sent as it is.
void send_chain_built_once(SSL_CTX* ctx)
{
    STACK_OF(X509)* given = nullptr;
    SSL_CTX_get0_chain_certs(ctx, &given);
    if (given == nullptr || sk_X509_num(given) == 0)
        (void)SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
                                                SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR);
    ERR_clear_error();  // what failed here must not be reported for a later load step
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
}

void use_identity(SSL_CTX* ctx, conf::local_domain const& domain)
{
    auto const cert = domain.certificate.path.string();
    auto const key = domain.key.path.string();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
        fail("cannot use the certificate " + cert + " of " + domain.name);
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            fail("the key " + key + " does not belong to the certificate " + cert + " of " + domain.name);
        fail("cannot use the key " + key + " of " + domain.name);
    }
    send_chain_built_once(ctx);
}

X509_STORE* load_trust(conf::tls_settings const& tls)
{
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr)
        fail("cannot create a trust store");
    bool const configured = !tls.ca_file.empty() || !tls.ca_path.empty();
    int const ok = configured
                       ? X509_STORE_load_locations(store, tls.ca_file.empty() ? nullptr : tls.ca_file.path.c_str(),
                                                   tls.ca_path.empty() ? nullptr : tls.ca_path.path.c_str())
                       : X509_STORE_set_default_paths(store);
    if (ok != 1) {
        X509_STORE_free(store);
        fail(configured ? "cannot load the CA certificates of [tls] (" + tls.ca_file.path.string() +
                              tls.ca_path.path.string() + ")"
                        : std::string{"cannot load the system trust store"});
    }
    return store;
}

}  // namespace

std::unique_ptr<tls_contexts> tls_contexts::load(conf::tls_settings const& tls,
                                                 std::vector<conf::local_domain> const& domains)
{
    if (domains.empty())
        throw std::runtime_error{"no local domain: TLS needs at least one certificate"};
    std::unique_ptr<tls_contexts> self{new tls_contexts};
    self->trust_ = load_trust(tls);
    for (auto const& domain : domains) {
        auto server = std::make_unique<ssl::context>(ssl::context::tls_server);
        harden(server->native_handle(), tls, self->trust_);
        no_resumption(server->native_handle());
        use_identity(server->native_handle(), domain);
        SSL_CTX_set_alpn_select_cb(server->native_handle(), select_xmpp_server, nullptr);
        auto client = std::make_unique<ssl::context>(ssl::context::tls_client);
        harden(client->native_handle(), tls, self->trust_);
        use_identity(client->native_handle(), domain);
        self->servers_.emplace(protocol::to_ascii_domain(domain.name), std::move(server));
        self->clients_.emplace(domain.name, std::move(client));
    }
    // The listener starts with the first domain's identity and switches by SNI.
    self->listener_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    auto* listener = self->listener_->native_handle();
    harden(listener, tls, self->trust_);
    no_resumption(listener);
    use_identity(listener, domains.front());
    SSL_CTX_set_alpn_select_cb(listener, select_xmpp_server, nullptr);
    // The SSL_CTX_set_tlsext_servername_* macros hide C casts; call what they expand to.
    SSL_CTX_callback_ctrl(listener, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                          reinterpret_cast<void (*)()>(&tls_contexts::on_server_name));
    SSL_CTX_ctrl(listener, SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG, 0, self.get());
    return self;
}

tls_contexts::~tls_contexts()
{
    X509_STORE_free(trust_);
}

int tls_contexts::on_server_name(SSL* ssl, int*, void* arg)
{
    auto* self = static_cast<tls_contexts*>(arg);
    auto name = requested_server_name(ssl);
    auto it = self->servers_.find(name);
    // An unknown name keeps the default identity: the stream header's 'to' then
    // gets <host-unknown/>, which says more than a TLS alert.
    if (it != self->servers_.end())
        SSL_set_SSL_CTX(ssl, it->second->native_handle());
    return SSL_TLSEXT_ERR_OK;
}

void tls_contexts::present(SSL* ssl, std::string_view local_domain) const
{
    if (local_domain.empty())
        return;
    // The SNI callback stays with the listener context (OpenSSL calls the
    // session context's), so a client's SNI can still switch identities.
    if (auto it = servers_.find(protocol::to_ascii_domain(local_domain)); it != servers_.end())
        SSL_set_SSL_CTX(ssl, it->second->native_handle());
}

std::vector<std::pair<std::string, negotiation::certificate_facts>> tls_contexts::local_certificates() const
{
    std::vector<std::pair<std::string, negotiation::certificate_facts>> out;
    for (auto const& [domain, context] : clients_)
        if (X509* cert = SSL_CTX_get0_certificate(context->native_handle()); cert != nullptr)
            out.emplace_back(domain, negotiation::extract_certificate_facts(cert));
    return out;
}

boost::asio::ssl::context* tls_contexts::client(std::string_view local_domain)
{
    auto it = clients_.find(local_domain);
    return it == clients_.end() ? nullptr : it->second.get();
}

void tls_contexts::prepare_client(SSL* ssl, std::string_view server_name, bool direct_tls)
{
    auto const ascii = protocol::to_ascii_domain(server_name);
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(ascii.c_str()));
    if (direct_tls) {
        std::string protos;
        protos += static_cast<char>(alpn_xmpp_server.size());
        protos += alpn_xmpp_server;
        SSL_set_alpn_protos(ssl, reinterpret_cast<unsigned char const*>(protos.data()),
                            static_cast<unsigned>(protos.size()));
    }
}

std::string tls_contexts::requested_server_name(SSL* ssl)
{
    char const* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr)
        return {};
    std::string lower{name};
    for (auto& c : lower)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return lower;
}

}  // namespace fedgate::network
