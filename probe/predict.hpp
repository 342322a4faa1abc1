#pragma once
/// @file
/// Which method a partner policy would negotiate with a peer, from what the peer
/// showed: the decisions of negotiation::outbound_session (STARTTLS per policy,
/// then SASL EXTERNAL, TLS dialback, TCP dialback) replayed on the facts, so
/// that a probe can say what another setting would give without connecting
/// again. The negotiation itself stays in negotiation/; this only reads its rules
/// (negotiation/README.md "Outbound"); tests/probe/predict_test.cpp states them
/// case by case, as tests/negotiation/outbound_session_test.cpp does for the session.

#include "probe/observation.hpp"
#include "probe/report.hpp"

namespace fedgate::probe {

/// What a peer showed, as the policy decisions see it.
struct peer_capabilities {
    bool reachable = false;        ///< some address connected and the stream opened
    bool direct_tls = false;       ///< the address used is a direct TLS one (TLS before the stream)
    bool offers_starttls = false;  ///< in the first features
    bool requires_tls = false;     ///< <required/> in <starttls/>, or direct TLS
    bool tls_observed = false;     ///< TLS was tried; if not, what follows it is unknown
    bool tls_works = false;        ///< the handshake succeeded
    bool certificate_valid = false;  ///< trusted and naming the domain
    bool offers_external = false;    ///< EXTERNAL after TLS
    /// Whether the peer accepted our dialback key (nullopt: not tried or not answered).
    std::optional<bool> dialback_accepted;
    std::optional<bool> external_accepted;  ///< nullopt: not tried
};

/// Reads the capabilities from a negotiation (nullopt: nothing connected).
[[nodiscard]] peer_capabilities capabilities_of(std::optional<negotiation_seen> const& seen);

/// What `settings` would negotiate with `peer`. A combination the commit rule
/// refuses negotiates nothing (reason "policy-refused").
[[nodiscard]] prediction predict(policy::negotiation_settings const& settings, peer_capabilities const& peer);

/// The 11 combinations the commit rule accepts, in the matrix's order.
[[nodiscard]] std::vector<policy::negotiation_settings> valid_settings();

/// "tls = required, sasl = optional, dialback = true".
[[nodiscard]] std::string describe(policy::negotiation_settings const& s);

}  // namespace fedgate::probe
