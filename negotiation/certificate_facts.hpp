#pragma once
/// @file
/// What a certificate says, as plain data: the inventory of the certificates
/// partners presented (operations/partner_state.hpp) and the expiry warnings
/// read these, so that nothing above negotiation/ holds an OpenSSL object.
/// Filled by extract_certificate_facts() (x509_certificate_facts.hpp).

#include <chrono>
#include <string>
#include <vector>

namespace fedgate::negotiation {

struct certificate_facts {
    std::string fingerprint;  ///< SHA-256 of the DER, lowercase hex: the certificate's identity in the inventory
    std::string subject;      ///< one line, RFC 2253 order ("CN=b.example,O=B")
    std::string issuer;       ///< same form
    std::string serial;       ///< uppercase hex, no separators
    /// subjectAltName entries with their kind: "DNS:b.example",
    /// "SRV:_xmpp-server.b.example", "XmppAddr:b.example", "IP:192.0.2.1", ...
    std::vector<std::string> subject_alt_names;
    /// extendedKeyUsage short names ("serverAuth", "clientAuth", or the OID);
    /// empty when the certificate has no such extension (any use allowed).
    std::vector<std::string> extended_key_usage;
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;

    friend bool operator==(certificate_facts const&, certificate_facts const&) = default;
};

}  // namespace fedgate::negotiation
