#pragma once
/// @file
/// The production peer_certificate: the leaf and chain a TLS peer presented,
/// checked with check_peer_certificate() against the configured trust store.

#include "negotiation/session_types.hpp"

#include <openssl/x509.h>

#include <memory>

namespace fedgate::negotiation {

/// Builds the certificate a session is given in tls_established. Takes its own
/// references on `leaf`, `chain` and `trust`, so the TLS stream may go first.
/// Returns null when `leaf` is null (the peer sent no certificate).
[[nodiscard]] std::shared_ptr<peer_certificate const> make_x509_peer_certificate(X509* leaf, STACK_OF(X509) * chain,
                                                                               X509_STORE* trust);

}  // namespace fedgate::negotiation
