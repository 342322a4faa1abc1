#pragma once
/// @file
/// The sentences the partner state gives an operator: for each failure, what
/// it means and what to do (partner_watch.hpp), and how a certificate reads
/// in a log line. Plain functions of what was seen, so tests can read them.

#include "negotiation/certificate_facts.hpp"
#include "negotiation/certificate_identity.hpp"
#include "negotiation/session_types.hpp"
#include "operations/partner_state.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace fedgate::routing {

/// Resolving `domain` failed with `error` (dns::error).
[[nodiscard]] std::string dns_advice(std::string_view domain, std::error_code error);
/// No connection to `domain`: `reason` is a tcp reason code, `error` what the last attempt said.
[[nodiscard]] std::string connect_advice(std::string_view domain, std::string_view reason, std::string const& error);
/// The certificate stage's verdict as a reason code: "valid", "no_certificate",
/// "name_mismatch", or for a chain that failed "expired" or "not_yet_valid" when
/// the certificate's dates (`facts`, when known) explain it at `now`, else
/// "untrusted": an operator must be told "renew", not "trust another CA".
[[nodiscard]] std::string_view certificate_verdict_of(negotiation::certificate_verdict::status result,
                                                      negotiation::certificate_facts const* facts,
                                                      operations::wall_time now);
/// The certificate `domain` presented has `verdict` (certificate_verdict_of);
/// "" when valid. `facts` (when known) dates an expired certificate.
[[nodiscard]] std::string certificate_advice(std::string_view domain, std::string_view verdict,
                                             std::string const& detail,
                                             negotiation::certificate_facts const* facts = nullptr);

/// Where a stream that ended before it authenticated failed, and why.
struct close_cause {
    operations::federation_stage stage = operations::federation_stage::stream;
    std::string reason;  ///< a reason code of reasons_of(stage)
    std::string advice;
};
/// The stage and reason of a close (`tls_failed`: the TLS handshake failed).
[[nodiscard]] close_cause close_cause_of(std::string_view domain, operations::partner_direction d,
                                         negotiation::close_stream const& why, bool tls_failed);

/// "CN=b.example (issuer CN=CA, serial 1A, SHA-256 ab12..., valid until 2027-01-01)".
[[nodiscard]] std::string describe(negotiation::certificate_facts const& c);
/// "CN=b.example (...) expires on 2027-01-01 00:00 UTC, in 3 days" or "... expired on ..., 2 days ago".
[[nodiscard]] std::string expiry_text(negotiation::certificate_facts const& c, operations::wall_time now);

}  // namespace fedgate::routing
