#pragma once
/// @file
/// What a probe saw of a remote domain, as plain values: the DNS answers, each
/// address tried, and the one negotiation run (fedgate's own outbound_session
/// over a real connection). The I/O driver (daemon/probe_driver.cpp) fills it;
/// explain() turns it into findings. Nothing here does I/O, so that tests can
/// script peers a real server will not play.

#include "policy/partner.hpp"
#include "policy/partner_policy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedgate::probe {

/// One SRV record as DNS gave it; `target` "." means "decidedly not offered".
struct srv_record {
    std::string target;
    std::uint16_t port = 0;
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
};

/// The answer to one SRV query.
struct srv_answer {
    std::string name;  ///< "_xmpp-server._tcp.example.org"
    std::vector<srv_record> records;
    std::string error;  ///< dns::code_of() ("nxdomain", "no_data", "timeout", ...); empty when records came
};

/// One address of one target, and what connecting to it gave.
struct address_attempt {
    std::string host;  ///< the SRV target, or the domain itself on fallback
    std::uint16_t port = 0;
    std::string ip;
    bool ipv6 = false;
    bool direct_tls = false;  ///< an _xmpps-server target (XEP-0368)
    bool connected = false;
    bool timed_out = false;
    std::string error;  ///< when not connected: what the connect said
};

/// What one <stream:features/> offered.
struct features_seen {
    bool starttls = false;
    bool starttls_required = false;
    std::vector<std::string> mechanisms;  ///< SASL mechanisms, as offered
    bool dialback = false;                ///< <dialback xmlns='urn:xmpp:features:dialback'/> (XEP-0220 §2.1)
    bool stream_management = false;       ///< XEP-0198
    bool bidi = false;                    ///< XEP-0288
};

/// The peer's certificate, read with OpenSSL (negotiation/x509_certificate_details).
struct certificate_seen {
    std::string subject;
    std::string issuer;
    std::vector<std::string> dns_ids;
    std::vector<std::string> srv_ids;
    std::vector<std::string> xmpp_addrs;
    std::string not_before;  ///< ISO 8601 UTC
    std::string not_after;
    bool expired = false;
    bool not_yet_valid = false;
    std::vector<std::string> extended_key_usage;  ///< "serverAuth", "clientAuth", ...; empty: no EKU extension (any use)
    std::optional<std::string> untrusted;          ///< why the chain is not trusted; nullopt: trusted by our store
    std::optional<std::string> matched;  ///< which identifier names the domain ("DNS-ID", ...); nullopt: none
};

/// The negotiation run over the first address that connected.
struct negotiation_seen {
    std::string address;  ///< "ip port N"
    bool direct_tls = false;
    bool header_received = false;
    std::string stream_id;  ///< the peer's first stream id (dialback needs one)
    std::optional<features_seen> before_tls;
    std::optional<features_seen> after_tls;
    bool tls_attempted = false;  ///< STARTTLS sent or direct TLS started
    bool tls_established = false;
    std::string tls_summary;  ///< "TLSv1.3 TLS_AES_256_GCM_SHA384"
    std::optional<certificate_seen> certificate;  ///< set when TLS came up and the peer presented one
    std::optional<std::string> sasl;      ///< "success" or the failure condition ("not-authorized")
    std::optional<std::string> dialback;  ///< "valid", "invalid", "error"; unset: no answer
    bool dialback_sent = false;
    std::optional<policy::auth_method> method;  ///< authenticated with this
    std::string close_reason;  ///< negotiation::metric_name(close_reason) when not authenticated
    std::string close_detail;
};

/// The partner's policy the probe ran under.
struct partner_seen {
    std::string domain;  ///< the primary domain
    policy::partner_type type = policy::partner_type::federated;
    policy::negotiation_settings settings;
};

/// Everything one probe saw.
struct observation {
    std::string local;   ///< our domain the streams were from
    std::string remote;  ///< the domain probed
    std::optional<partner_seen> partner;  ///< nullopt: not a configured partner (probed as tls/sasl optional, dialback on)
    srv_answer direct_tls_srv;  ///< _xmpps-server._tcp
    srv_answer starttls_srv;    ///< _xmpp-server._tcp
    bool used_fallback = false;  ///< no SRV: the domain's A/AAAA on 5269
    std::string resolve_error;   ///< dns::code_of() when no address was found
    std::vector<address_attempt> addresses;
    std::optional<negotiation_seen> negotiation;  ///< nullopt: no address connected
};

}  // namespace fedgate::probe
