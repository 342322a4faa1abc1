#pragma once
/// @file
/// Is a peer's certificate valid for an XMPP domain? The checks of RFC 6125 as
/// profiled for XMPP by RFC 7590 §3.2 and XEP-0178, with RFC 9525's stricter rules:
/// no CN-ID fallback, wildcards only as the complete left-most label.

#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::negotiation {

/// The reference identities a certificate presents, as found in its subjectAltName.
struct certificate_names {
    std::vector<std::string> dns_ids;     ///< dNSName, lowercase as presented (A-labels)
    std::vector<std::string> srv_ids;     ///< SRVName otherName, e.g. "_xmpp-server.example.com"
    std::vector<std::string> xmpp_addrs;  ///< id-on-xmppAddr otherName (UTF-8 JIDs)
};

/// Reads the subjectAltName of `cert`. Names with embedded NULs are dropped (they
/// are an attack, not an identity). The subject CN is deliberately not read.
[[nodiscard]] certificate_names extract_names(X509* cert);

/// Which kind of presented identifier matched.
enum class identity_kind : std::uint8_t { srv_id, xmpp_addr, dns_id, dns_id_wildcard };

/// Matches `domain` (canonical, as from protocol::check_domain_name) against the
/// names: SRV-ID `_xmpp-server.<domain>` (not `_xmpp-client`), an XmppAddr that is a
/// bare domain JID (one with a localpart or resource does not count), a DNS-ID
/// exactly, or a DNS-ID `*.<parent>` whose wildcard stands for exactly the left-most
/// label of `domain`. IDNs are compared in A-label form.
/// @return the first kind that matched, or nullopt.
/// @see RFC 6125 §6.4, RFC 9525 §6.3, RFC 7590 §3.2, XEP-0178 §3
[[nodiscard]] std::optional<identity_kind> match_domain(certificate_names const& names, std::string_view domain);

/// The outcome of checking a peer's certificate for a domain.
struct certificate_verdict {
    enum class status : std::uint8_t { valid, no_certificate, untrusted, name_mismatch };
    status result = status::no_certificate;
    std::optional<identity_kind> matched;  ///< set when result == valid
    std::string reason;                    ///< for logs and bounces; empty when valid

    [[nodiscard]] bool valid() const noexcept { return result == status::valid; }
};

/// Verifies `leaf` and the peer-supplied `chain` against `trust`, for the TLS
/// *server* purpose whichever side presented it: an initiating server's certificate
/// is checked as a server certificate, because public CAs issue server certificates
/// without clientAuth and a client-purpose check would reject them. Then matches
/// `domain` with match_domain(). `at` overrides the current time (tests).
[[nodiscard]] certificate_verdict check_peer_certificate(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust,
                                                         std::string_view domain,
                                                         std::optional<time_t> at = std::nullopt);

/// The two halves of check_peer_certificate, for a caller that checks one
/// certificate for several domains and verifies its chain once:
/// why the chain is not trusted (nullopt: it is), ...
[[nodiscard]] std::optional<std::string> untrusted_chain(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust,
                                                         std::optional<time_t> at = std::nullopt);
/// ... and whether a certificate whose chain is trusted names `domain`.
[[nodiscard]] certificate_verdict match_trusted_certificate(X509* leaf, std::string_view domain);

/// "SRV-ID", "XmppAddr", "DNS-ID", "DNS-ID (wildcard)".
[[nodiscard]] std::string_view display_name(identity_kind k) noexcept;

}  // namespace fedgate::negotiation
