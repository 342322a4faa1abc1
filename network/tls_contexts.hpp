#pragma once
/// @file
/// The TLS contexts of the gateway, built once per configuration generation:
/// one server and one client context per local domain (each presents that
/// domain's certificate), a listener context that switches by SNI, and one
/// trust store. TLS 1.2 at least, no compression, no renegotiation. Peer
/// certificates are requested in both directions but judged after the handshake
/// by negotiation::check_peer_certificate() (server purpose, RFC 6125 names), so
/// that TLS dialback can still proceed where PKIX fails and every refusal has a
/// reason in the log.

#include "conf/config.hpp"
#include "negotiation/certificate_facts.hpp"

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::network {

/// ALPN protocol id for direct-TLS S2S (XEP-0368 §3).
inline constexpr std::string_view alpn_xmpp_server = "xmpp-server";

class tls_contexts {
public:
    /// Loads certificates, keys and the trust store. Throws std::runtime_error
    /// naming the file and OpenSSL's reason when one cannot be used.
    [[nodiscard]] static std::unique_ptr<tls_contexts> load(conf::tls_settings const& tls,
                                                            std::vector<conf::local_domain> const& domains);

    /// For accepted connections: presents the certificate of the domain the
    /// client asked for by SNI, or of the first local domain without SNI.
    [[nodiscard]] boost::asio::ssl::context& listener() { return *listener_; }
    /// On an accepted connection before its handshake: present `local_domain`'s
    /// certificate (the stream header's `to`, known before STARTTLS). SNI, when
    /// the client sends it, still decides. Unknown domains change nothing.
    void present(SSL* ssl, std::string_view local_domain) const;
    /// For connections we initiate as `local_domain`; nullptr if it is not ours.
    [[nodiscard]] boost::asio::ssl::context* client(std::string_view local_domain);
    /// The certificate each local domain presents, by domain, for the expiry
    /// warnings (`[tls] expiry_warning_days`).
    [[nodiscard]] std::vector<std::pair<std::string, negotiation::certificate_facts>> local_certificates() const;
    /// The trust anchors peer certificates are verified against.
    [[nodiscard]] X509_STORE* trust() const noexcept { return trust_; }

    /// Sets SNI (the A-label of `server_name`) and, for direct TLS, the ALPN
    /// protocol on a client connection before its handshake.
    static void prepare_client(SSL* ssl, std::string_view server_name, bool direct_tls);
    /// The SNI name a client sent, or "".
    [[nodiscard]] static std::string requested_server_name(SSL* ssl);

    ~tls_contexts();
    tls_contexts(tls_contexts const&) = delete;
    tls_contexts& operator=(tls_contexts const&) = delete;

private:
    tls_contexts() = default;
    static int on_server_name(SSL* ssl, int* alert, void* self);

    std::unique_ptr<boost::asio::ssl::context> listener_;
    std::map<std::string, std::unique_ptr<boost::asio::ssl::context>, std::less<>> servers_;  // by A-label
    std::map<std::string, std::unique_ptr<boost::asio::ssl::context>, std::less<>> clients_;  // by canonical name
    X509_STORE* trust_ = nullptr;
};

}  // namespace fedgate::network
