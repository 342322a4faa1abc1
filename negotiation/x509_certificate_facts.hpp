#pragma once
/// @file
/// Reads a certificate_facts out of an OpenSSL certificate: the one place
/// where the inventory of partners' certificates touches OpenSSL.

#include "negotiation/certificate_facts.hpp"

#include <openssl/x509.h>

namespace fedgate::negotiation {

/// The facts of `cert` (not null). The subjectAltName entries are read with
/// extract_names() (so a name with an embedded NUL is left out here too), then
/// the IP addresses and URIs, which identity matching ignores but an operator
/// may want to see.
[[nodiscard]] certificate_facts extract_certificate_facts(X509* cert);

}  // namespace fedgate::negotiation
