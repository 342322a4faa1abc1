#pragma once
/// @file
/// RFC 2782 ordering of SRV records, and XEP-0368's merge of the direct-TLS and
/// STARTTLS record sets. Pure: randomness is injected.

#include "dns/records.hpp"

#include <optional>
#include <random>
#include <system_error>
#include <vector>

namespace fedgate::dns {

/// Orders `records` as RFC 2782 says: ascending priority; within a priority, a
/// weighted random selection (records of weight 0 first in the running list, so
/// they are chosen rarely but not never).
[[nodiscard]] std::vector<srv_record> order_srv(std::vector<srv_record> records, std::mt19937_64& rng);

/// A SRV target with the connection method its service implies.
struct srv_target {
    srv_record record;
    bool direct_tls = false;
    friend bool operator==(srv_target const&, srv_target const&) = default;
};

/// The answer to one SRV query: the records, or why there are none.
struct srv_answer {
    std::vector<srv_record> records;
    std::error_code error;
};

/// What to do after the two SRV queries for a domain.
struct srv_plan {
    std::vector<srv_target> targets;  ///< in connection order
    bool fallback = false;            ///< no SRV at all: try the domain's A/AAAA on 5269
    std::error_code error;            ///< neither targets nor fallback
};

/// Combines `_xmpps-server` (direct TLS) and `_xmpp-server` (STARTTLS) answers:
/// - both record sets are ordered together as one RRset (XEP-0368 §3 rule 1);
/// - a set that is exactly one "." record removes that service (RFC 2782); with
///   nothing left, error::service_unavailable and no fallback (RFC 6120 §3.2.1,
///   XEP-0368 §6: a "." shows the domain uses SRV);
/// - no records of either service (NXDOMAIN, NODATA or a failed query) means the
///   A/AAAA fallback of RFC 6120 §3.2.1; `error` then keeps the STARTTLS query's
///   error for the log.
[[nodiscard]] srv_plan plan_targets(srv_answer const& direct_tls, srv_answer const& starttls, std::mt19937_64& rng);

}  // namespace fedgate::dns
