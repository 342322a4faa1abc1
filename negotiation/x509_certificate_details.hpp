#pragma once
/// @file
/// A peer certificate described for a person (`fedgate probe`): subject, issuer,
/// names, validity, extended key usage, and the two halves of the judgement
/// fedgate makes of it (chain trusted? names the domain?), kept apart so that
/// each can be explained.

#include <openssl/x509.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::negotiation {

struct certificate_details {
    std::string subject;  ///< RFC 2253 form
    std::string issuer;
    std::vector<std::string> dns_ids;
    std::vector<std::string> srv_ids;
    std::vector<std::string> xmpp_addrs;
    std::string not_before;  ///< "2026-01-31T12:00:00Z"
    std::string not_after;
    bool expired = false;
    bool not_yet_valid = false;
    std::vector<std::string> extended_key_usage;  ///< "serverAuth", "clientAuth", or the OID; empty: no extension
    std::optional<std::string> untrusted;  ///< untrusted_chain()'s reason; nullopt: trusted
    std::optional<std::string> matched;    ///< display_name() of the identifier naming `domain`; nullopt: none
};

/// Describes `leaf` as presented with `chain`, judged against `trust` for
/// `domain` (canonical) as check_peer_certificate() judges it.
/// Precondition: `leaf` is not null.
[[nodiscard]] certificate_details describe_certificate(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust,
                                                       std::string_view domain);

}  // namespace fedgate::negotiation
