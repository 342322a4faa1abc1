// The baseline for fedgate's inbound negotiation rate (issue 10): what bare
// OpenSSL, on this machine and in this process, spends as the server of the
// TLS handshake an inbound S2S stream makes (TLS 1.3, X25519, ECDSA P-256
// certificates both ways, the client's certificate requested, no resumption),
// with nothing else: no sockets, no XML, no SASL. Client and server talk
// through an in-memory BIO pair; only the server's calls are timed, in thread
// CPU time. scale_bench's "negotiations per fedgate CPU-second" divided by
// this benchmark's items_per_second is the share of the limit fedgate reaches.
//
//   build/tests/bench/tls_handshake_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include "tests/negotiation/bio_pair.hpp"
#include "tests/negotiation/test_pki.hpp"

#include <benchmark/benchmark.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <stdexcept>

namespace {

using namespace fedgate::test;

double thread_cpu_seconds()
{
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

int accept_chain(X509_STORE_CTX*, void*)
{
    return 1;  // as fedgate: the chain is judged after the handshake (the second benchmark)
}

struct lab {
    authority ca = authority::create("bench CA");
    pkey_ptr server_key = make_key();
    pkey_ptr client_key = make_key();
    x509_ptr server_cert = ca.issue({"a.test", "DNS:a.test"}, server_key.get());
    x509_ptr client_cert = ca.issue({"b.test", "DNS:b.test"}, client_key.get());
    store_ptr trust = ca.trust_store();
    SSL_CTX* server = context(TLS_server_method(), server_cert.get(), server_key.get());
    SSL_CTX* client = context(TLS_client_method(), client_cert.get(), client_key.get());

    lab()
    {
        // fedgate's server settings (network/tls_contexts.cpp).
        SSL_CTX_set_num_tickets(server, 0);
        SSL_CTX_set_options(server, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_session_cache_mode(client, SSL_SESS_CACHE_OFF);
        // The partner sends its chain, as scale_bench's client does (OpenSSL's
        // automatic chain from its CA file) and as a partner with a public CA's
        // certificate does (leaf and intermediate): two certificates to parse.
        SSL_CTX_add1_chain_cert(client, ca.cert.get());
    }
    ~lab()
    {
        SSL_CTX_free(server);
        SSL_CTX_free(client);
    }
    lab(lab const&) = delete;
    lab& operator=(lab const&) = delete;

    SSL_CTX* context(SSL_METHOD const* method, X509* cert, EVP_PKEY* key) const
    {
        SSL_CTX* ctx = SSL_CTX_new(method);
        if (!ctx || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
            throw std::runtime_error{"cannot set up the TLS context"};
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_cert_verify_callback(ctx, accept_chain, nullptr);
        return ctx;
    }
};

lab& the_lab()
{
    static lab l;
    return l;
}

/// One handshake; returns the server's CPU seconds (its handshake steps, the
/// chain check when asked, and freeing its connection).
double serve_one_handshake(lab& l, bool check_chain)
{
    SSL* client = SSL_new(l.client);
    SSL* server = SSL_new(l.server);
    join_by_bio_pair(client, server);
    // SSL_set_tlsext_host_name is a macro with a C cast.
    SSL_ctrl(client, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>("a.test"));

    double server_cpu = 0;
    bool client_done = false;
    bool server_done = false;
    for (int round = 0; round < 16 && !(client_done && server_done); ++round) {
        if (!client_done)
            client_done = SSL_do_handshake(client) == 1;
        double const t0 = thread_cpu_seconds();
        if (!server_done)
            server_done = SSL_do_handshake(server) == 1;
        server_cpu += thread_cpu_seconds() - t0;
    }
    if (!client_done || !server_done)
        throw std::runtime_error{"the handshake did not complete"};
    // TLS 1.3: the client's certificate arrives in its last flight, so the
    // server's last step above has read it.
    double const t0 = thread_cpu_seconds();
    if (check_chain) {
        X509_STORE_CTX* ctx = X509_STORE_CTX_new();
        X509_STORE_CTX_init(ctx, l.trust.get(), SSL_get0_peer_certificate(server), SSL_get_peer_cert_chain(server));
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
        if (X509_verify_cert(ctx) != 1)
            throw std::runtime_error{"the client's chain did not verify"};
        X509_STORE_CTX_free(ctx);
    }
    SSL_free(server);
    server_cpu += thread_cpu_seconds() - t0;
    SSL_free(client);
    return server_cpu;
}

void run(benchmark::State& state, bool check_chain)
{
    auto& l = the_lab();
    for (auto _ : state)
        state.SetIterationTime(serve_one_handshake(l, check_chain));
    state.SetItemsProcessed(state.iterations());
}

/// The handshake alone.
void BM_openssl_server_handshake(benchmark::State& state)
{
    run(state, false);
}
BENCHMARK(BM_openssl_server_handshake)->UseManualTime();

/// The handshake and one verification of the client's chain: the least an
/// inbound XEP-0178 negotiation costs with OpenSSL.
void BM_openssl_server_handshake_and_chain_check(benchmark::State& state)
{
    run(state, true);
}
BENCHMARK(BM_openssl_server_handshake_and_chain_check)->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
