#pragma once
/// @file
/// Validation and normalisation of XMPP domainparts that name DNS domains.

#include <string>
#include <string_view>

namespace fedgate::protocol {

/// The outcome of normalising a domain name: either `canonical` is set, or `error`
/// says, in words an operator understands, why the input is not a domain name.
struct domain_check {
    std::string canonical;  ///< lowercase Unicode (U-label) form, no trailing dot
    std::string error;      ///< empty when the input is a valid domain name

    [[nodiscard]] explicit operator bool() const noexcept { return error.empty(); }
};

/// Normalises `input` as the domainpart of a JID (RFC 7622 §3.2) that must also be a
/// resolvable DNS name: IDNA2008 via libidn2 (UTS #46 non-transitional mapping, so
/// case is folded), a single trailing dot stripped, every label 1..63 octets of
/// letters, digits and hyphens in A-label form, the whole at most 253 octets.
/// IP literals are refused: federation peers are named by domain (RFC 6120 §13.7.2).
/// @see RFC 7622 §3.2, RFC 5890, RFC 1035 §2.3.4
[[nodiscard]] domain_check check_domain_name(std::string_view input);

/// The A-label (ASCII, "xn--") form of a domain for DNS queries and certificate
/// matching; `canonical` must come from check_domain_name().
[[nodiscard]] std::string to_ascii_domain(std::string_view canonical);

}  // namespace fedgate::protocol
