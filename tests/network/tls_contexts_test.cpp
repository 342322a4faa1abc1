// The gateway's TLS contexts, handshaking in memory (BIO pairs) with
// certificates the test makes: SNI picks the identity, client certificates reach
// the server and are judged afterwards, TLS 1.2 is the floor, ALPN per XEP-0368.
#include "network/tls_contexts.hpp"

#include "negotiation/x509_peer_certificate.hpp"
#include "bio_pair.hpp"
#include "test_pki.hpp"

#include <openssl/pem.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace {

using namespace fedgate;
using fedgate::network::tls_contexts;
namespace fs = std::filesystem;

struct ssl_deleter {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

/// A throw-away folder with a CA and PEM files for some domains.
class pki_folder {
public:
    pki_folder() : dir_{fs::temp_directory_path() / ("fedgate-tls-" + std::to_string(::getpid()))}
    {
        fs::create_directories(dir_);
        write_cert(ca_.cert.get(), dir_ / "ca.pem");
    }
    ~pki_folder() { fs::remove_all(dir_); }

    /// Issues a certificate for `domain` (DNS-ID), writes it and its key.
    conf::local_domain issue(std::string const& domain, test::authority const* by = nullptr)
    {
        auto key = test::make_key();
        auto cert = (by ? *by : ca_).issue({domain, "DNS:" + domain}, key.get());
        conf::local_domain d;
        d.name = domain;
        d.certificate.path = dir_ / (domain + ".crt");
        d.key.path = dir_ / (domain + ".key");
        write_cert(cert.get(), d.certificate.path);
        std::unique_ptr<FILE, decltype(&std::fclose)> f{std::fopen(d.key.path.c_str(), "w"), &std::fclose};
        PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        return d;
    }
    conf::tls_settings settings() const
    {
        conf::tls_settings s;
        s.ca_file.path = dir_ / "ca.pem";
        return s;
    }
    fs::path const& dir() const { return dir_; }
    test::authority ca_ = test::authority::create("lab CA");

private:
    static void write_cert(X509* cert, fs::path const& path)
    {
        std::unique_ptr<FILE, decltype(&std::fclose)> f{std::fopen(path.c_str(), "w"), &std::fclose};
        PEM_write_X509(f.get(), cert);
    }
    fs::path dir_;
};

/// Runs a handshake between two SSL objects over a BIO pair; true when both finish.
bool handshake(SSL* client, SSL* server)
{
    test::join_by_bio_pair(client, server);
    bool client_done = false, server_done = false;
    for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
        for (auto [ssl, done] : {std::pair{client, &client_done}, {server, &server_done}}) {
            if (*done)
                continue;
            int rc = SSL_do_handshake(ssl);
            if (rc == 1)
                *done = true;
            else if (int e = SSL_get_error(ssl, rc); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                return false;
        }
    }
    return client_done && server_done;
}

std::string subject_dns(X509* cert)
{
    auto names = negotiation::extract_names(cert);
    return names.dns_ids.empty() ? "" : names.dns_ids.front();
}

TEST(tls_contexts, the_listener_presents_the_identity_the_client_asked_for)
{
    pki_folder pki;
    auto contexts = tls_contexts::load(pki.settings(), {pki.issue("contoso.test"), pki.issue("contoso-sales.test")});
    auto partner = tls_contexts::load(pki.settings(), {pki.issue("fabrikam.test")});
    for (std::string asked : {"contoso-sales.test", "contoso.test"}) {
        ssl_ptr server{SSL_new(contexts->listener().native_handle())};
        ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
        tls_contexts::prepare_client(client.get(), asked, false);
        ASSERT_TRUE(handshake(client.get(), server.get()));
        EXPECT_EQ(tls_contexts::requested_server_name(server.get()), asked);
        std::unique_ptr<X509, decltype(&X509_free)> presented{SSL_get1_peer_certificate(client.get()), &X509_free};
        EXPECT_EQ(subject_dns(presented.get()), asked);
        EXPECT_GE(SSL_version(client.get()), TLS1_2_VERSION);
        // The initiating server's certificate (serverAuth only) reached us and is valid.
        auto peer = negotiation::make_x509_peer_certificate(SSL_get0_peer_certificate(server.get()),
                                                           SSL_get_peer_cert_chain(server.get()), contexts->trust());
        ASSERT_NE(peer, nullptr);
        EXPECT_TRUE(peer->check("fabrikam.test").valid()) << peer->check("fabrikam.test").reason;
    }
}

TEST(tls_contexts, without_sni_the_stream_header_to_chooses_the_identity)
{
    pki_folder pki;
    auto contexts = tls_contexts::load(pki.settings(), {pki.issue("contoso.test"), pki.issue("contoso-sales.test")});
    auto partner = tls_contexts::load(pki.settings(), {pki.issue("fabrikam.test")});
    for (std::string to : {"contoso-sales.test", "contoso.test"}) {
        ssl_ptr server{SSL_new(contexts->listener().native_handle())};
        contexts->present(server.get(), to);
        ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
        ASSERT_TRUE(handshake(client.get(), server.get()));
        EXPECT_EQ(tls_contexts::requested_server_name(server.get()), "");
        std::unique_ptr<X509, decltype(&X509_free)> presented{SSL_get1_peer_certificate(client.get()), &X509_free};
        EXPECT_EQ(subject_dns(presented.get()), to);
    }
    // SNI still decides when the client sends it.
    ssl_ptr server{SSL_new(contexts->listener().native_handle())};
    contexts->present(server.get(), "contoso.test");
    ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
    tls_contexts::prepare_client(client.get(), "contoso-sales.test", false);
    ASSERT_TRUE(handshake(client.get(), server.get()));
    std::unique_ptr<X509, decltype(&X509_free)> presented{SSL_get1_peer_certificate(client.get()), &X509_free};
    EXPECT_EQ(subject_dns(presented.get()), "contoso-sales.test");
}

TEST(tls_contexts, an_untrusted_peer_completes_the_handshake_and_is_judged_after)
{
    pki_folder pki;
    auto rogue_ca = test::authority::create("rogue CA");
    auto contexts = tls_contexts::load(pki.settings(), {pki.issue("contoso.test")});
    auto rogue = tls_contexts::load(pki.settings(), {pki.issue("fabrikam.test", &rogue_ca)});
    ssl_ptr server{SSL_new(contexts->listener().native_handle())};
    ssl_ptr client{SSL_new(rogue->client("fabrikam.test")->native_handle())};
    tls_contexts::prepare_client(client.get(), "contoso.test", false);
    ASSERT_TRUE(handshake(client.get(), server.get()));
    auto peer = negotiation::make_x509_peer_certificate(SSL_get0_peer_certificate(server.get()),
                                                       SSL_get_peer_cert_chain(server.get()), contexts->trust());
    EXPECT_EQ(peer->check("fabrikam.test").result, negotiation::certificate_verdict::status::untrusted);
}

int certificates_sent(SSL* receiver)
{
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(receiver);
    return chain ? sk_X509_num(chain) : 0;
}

TEST(tls_contexts, a_leaf_alone_is_sent_with_the_chain_the_store_builds_but_not_the_root)
{
    // The chain is built once when the context loads, not in each handshake;
    // with one CA the built chain is the leaf, the root left out, both ways.
    pki_folder pki;
    auto contexts = tls_contexts::load(pki.settings(), {pki.issue("contoso.test")});
    auto partner = tls_contexts::load(pki.settings(), {pki.issue("fabrikam.test")});
    ssl_ptr server{SSL_new(contexts->listener().native_handle())};
    ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
    tls_contexts::prepare_client(client.get(), "contoso.test", false);
    ASSERT_TRUE(handshake(client.get(), server.get()));
    EXPECT_EQ(certificates_sent(client.get()), 1) << "what the listener sent";
    // On the server's side OpenSSL's peer chain leaves the peer's leaf out.
    EXPECT_EQ(certificates_sent(server.get()), 0) << "what the initiating side sent beyond its leaf";
    auto peer = negotiation::make_x509_peer_certificate(SSL_get0_peer_certificate(server.get()),
                                                       SSL_get_peer_cert_chain(server.get()), contexts->trust());
    EXPECT_TRUE(peer->check("fabrikam.test").valid());
}

TEST(tls_contexts, a_certificate_file_with_its_chain_is_sent_as_it_is)
{
    pki_folder pki;
    auto domain = pki.issue("contoso.test");
    {
        std::unique_ptr<FILE, decltype(&std::fclose)> f{std::fopen(domain.certificate.path.c_str(), "a"), &std::fclose};
        PEM_write_X509(f.get(), pki.ca_.cert.get());
    }
    auto contexts = tls_contexts::load(pki.settings(), {domain});
    auto partner = tls_contexts::load(pki.settings(), {pki.issue("fabrikam.test")});
    ssl_ptr server{SSL_new(contexts->listener().native_handle())};
    ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
    tls_contexts::prepare_client(client.get(), "contoso.test", false);
    ASSERT_TRUE(handshake(client.get(), server.get()));
    EXPECT_EQ(certificates_sent(client.get()), 2);
}

TEST(tls_contexts, tls_below_1_2_is_refused)
{
    pki_folder pki;
    auto contexts = tls_contexts::load(pki.settings(), {pki.issue("contoso.test")});
    auto partner = tls_contexts::load(pki.settings(), {pki.issue("fabrikam.test")});
    // OpenSSL 3's default security level refuses TLS 1.1 on the client side by
    // itself: level 0 lets this client offer it, so that only fedgate's minimum
    // can refuse it.
    auto tls11_client = [&] {
        ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
        SSL_set_security_level(client.get(), 0);
        SSL_set_min_proto_version(client.get(), TLS1_VERSION);
        SSL_set_max_proto_version(client.get(), TLS1_1_VERSION);
        return client;
    };
    {
        ssl_ptr server{SSL_new(contexts->listener().native_handle())};
        auto client = tls11_client();
        EXPECT_FALSE(handshake(client.get(), server.get()));
    }
    {
        // The control: the same client gets through to a server without that
        // minimum, so the refusal above is fedgate's.
        ssl_ptr server{SSL_new(contexts->listener().native_handle())};
        SSL_set_security_level(server.get(), 0);
        SSL_set_min_proto_version(server.get(), TLS1_VERSION);
        auto client = tls11_client();
        EXPECT_TRUE(handshake(client.get(), server.get()));
    }
}

TEST(tls_contexts, direct_tls_negotiates_alpn_xmpp_server_and_refuses_other_protocols)
{
    pki_folder pki;
    auto contexts = tls_contexts::load(pki.settings(), {pki.issue("contoso.test")});
    auto partner = tls_contexts::load(pki.settings(), {pki.issue("fabrikam.test")});
    {
        ssl_ptr server{SSL_new(contexts->listener().native_handle())};
        ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
        tls_contexts::prepare_client(client.get(), "contoso.test", true);
        ASSERT_TRUE(handshake(client.get(), server.get()));
        unsigned char const* proto = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(client.get(), &proto, &len);
        EXPECT_EQ(std::string_view(reinterpret_cast<char const*>(proto), len), "xmpp-server");
    }
    {
        ssl_ptr server{SSL_new(contexts->listener().native_handle())};
        ssl_ptr client{SSL_new(partner->client("fabrikam.test")->native_handle())};
        static unsigned char const h2[] = {2, 'h', '2'};
        SSL_set_alpn_protos(client.get(), h2, sizeof h2);
        EXPECT_FALSE(handshake(client.get(), server.get()));
    }
}

TEST(tls_contexts, unusable_files_are_named_with_the_reason)
{
    pki_folder pki;
    auto good = pki.issue("contoso.test");
    auto missing = good;
    missing.certificate.path = pki.dir() / "nope.crt";
    try {
        (void)tls_contexts::load(pki.settings(), {missing});
        FAIL() << "a missing certificate loaded";
    } catch (std::runtime_error const& e) {
        EXPECT_NE(std::string{e.what()}.find("nope.crt"), std::string::npos) << e.what();
    }
    auto mismatched = good;
    mismatched.key = pki.issue("other.test").key;
    try {
        (void)tls_contexts::load(pki.settings(), {mismatched});
        FAIL() << "a key of another certificate loaded";
    } catch (std::runtime_error const& e) {
        EXPECT_NE(std::string{e.what()}.find("does not belong to the certificate"), std::string::npos) << e.what();
    }
}

}  // namespace
