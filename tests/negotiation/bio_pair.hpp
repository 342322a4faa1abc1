#pragma once
// Two SSL objects joined in memory, so that a TLS handshake runs without sockets
// (the daemon's TLS context tests, the handshake benchmark). Beside test_pki.hpp,
// which makes their certificates.

#include <openssl/ssl.h>

namespace fedgate::test {

/// Joins `client` and `server` by an in-memory BIO pair, each owning its end, with
/// the client set to connect and the server to accept.
inline void join_by_bio_pair(SSL* client, SSL* server)
{
    BIO* client_end = nullptr;
    BIO* server_end = nullptr;
    BIO_new_bio_pair(&client_end, 0, &server_end, 0);
    SSL_set_bio(client, client_end, client_end);
    SSL_set_bio(server, server_end, server_end);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
}

}  // namespace fedgate::test
