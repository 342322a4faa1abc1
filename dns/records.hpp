#pragma once
/// @file
/// What DNS tells fedgate about where a domain's XMPP servers are.

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace fedgate::dns {

/// One SRV record (RFC 2782). `target` is lowercase without the final dot; "." is
/// kept as "." (service decidedly not available).
struct srv_record {
    std::string target;
    std::uint16_t port = 0;
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
    friend bool operator==(srv_record const&, srv_record const&) = default;
};

/// An IP address as text, with its family kept visible for Happy Eyeballs.
struct address {
    enum class family : std::uint8_t { ipv4, ipv6 };
    std::string ip;
    family kind = family::ipv4;
    friend bool operator==(address const&, address const&) = default;
};

/// Where to connect, and how: direct TLS (XEP-0368) or STARTTLS (RFC 6120).
struct candidate {
    std::string host;  ///< the SRV target, or the domain itself on fallback
    std::uint16_t port = 0;
    address addr;
    bool direct_tls = false;
    friend bool operator==(candidate const&, candidate const&) = default;
};

/// The outcome of resolving a domain: candidates in the order to try them, or the
/// reason there are none.
struct resolution {
    std::vector<candidate> candidates;
    std::error_code error;  ///< set when candidates is empty
    bool used_fallback = false;  ///< no SRV records: the domain's A/AAAA on 5269
};

}  // namespace fedgate::dns
