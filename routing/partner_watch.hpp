#pragma once
/// @file
/// The routing room's side of the partner state (operations/partner_state.hpp):
/// what the links and the router see of each attempt (a DNS answer, a
/// connection made or refused, a stream authenticated or ended, the TLS and
/// certificate of a connection) in the tracker's terms, with a stable reason
/// code and a sentence for the operator; the failures counted, the gauges
/// read at scrape time, and the certificate warnings logged (a partner's
/// certificate changed, or one of theirs or ours expires soon).

#include "conf/config.hpp"
#include "dns/records.hpp"
#include "negotiation/session_types.hpp"
#include "operations/metrics.hpp"
#include "operations/partner_state.hpp"

#include <chrono>
#include <set>
#include <string_view>
#include <vector>

namespace fedgate::network {
class connection;
class tls_contexts;
struct connect_result;
}  // namespace fedgate::network

namespace fedgate::routing {

class partner_watch {
public:
    explicit partner_watch(operations::metrics& metrics) : metrics_{metrics} {}

    /// The partners and the warning period of `cfg` (at start and at each
    /// reload): new partners' series appear at zero.
    void configure(conf::config const& cfg);
    [[nodiscard]] operations::partner_state const& state() const noexcept { return state_; }

    // ---- outbound attempts (routing/outbound_link.cpp) -------------------------
    void attempt_started(std::string_view domain);
    /// What DNS said of `domain`; false when the attempt ends here (no candidate).
    void resolved(std::string_view domain, dns::resolution const& answer);
    /// The outcome of connecting to the candidates.
    void connected(std::string_view domain, network::connect_result const& attempt);

    // ---- streams, both directions ---------------------------------------------
    /// `source` authenticated for a pair of `domain` with `method`: its TLS and
    /// certificate facts are recorded, and the direction is up.
    void authenticated(std::string_view domain, operations::partner_direction d, network::connection const& source,
                       negotiation::auth_method method);
    /// An authenticated stream of `domain` ended.
    void stream_down(std::string_view domain, operations::partner_direction d);
    /// `source` ended before it authenticated: the attempt failed, at the
    /// stage `why` and the connection's TLS tell.
    void failed(std::string_view domain, operations::partner_direction d, network::connection const& source,
                negotiation::close_stream const& why);
    /// An inbound stream of `domain` began (its header named it).
    void inbound_attempt(std::string_view domain, network::connection const& source);

    /// Logs a warning for each partner's newest certificate and each of ours
    /// (`ours`) that expires within `[tls] expiry_warning_days`. At start, at
    /// reload, and daily (the router's clock).
    void check_expiry(network::tls_contexts const& ours);
    /// Whether the daily check is due at `now`.
    [[nodiscard]] bool expiry_check_due(std::chrono::steady_clock::time_point now) const noexcept
    {
        return now >= next_expiry_check_;
    }

    /// fedgate_partner_up, the last success and failure timestamps, and
    /// fedgate_peer_certificate_expiry_timestamp_seconds.
    void gauges(std::vector<operations::metrics::sample>& out) const;

private:
    /// The TLS and certificate facts of `source` for `domain`, and the
    /// certificate in the inventory (with a warning when it changed).
    void record_tls(std::string_view domain, operations::partner_direction d, network::connection const& source,
                    operations::wall_time at);
    void fail(std::string_view domain, operations::partner_direction d, operations::federation_stage stage,
              std::string_view reason, std::string advice, operations::wall_time at);
    /// Whether an attempt that ended with `reason` failed for its certificate:
    /// the session said so, or the certificate was not valid and only SASL
    /// EXTERNAL could authenticate the partner.
    [[nodiscard]] bool blame_certificate(operations::partner_state_row const& row, operations::partner_direction d,
                                         negotiation::close_reason reason) const;
    /// Zero series of the failures counter for `partner`.
    void show_series(std::string const& partner);

    operations::metrics& metrics_;
    operations::partner_state state_;
    std::set<std::string, std::less<>> sasl_only_;  ///< partners whose policy allows no dialback
    std::chrono::seconds expiry_warning_{std::chrono::days{14}};
    std::chrono::steady_clock::time_point next_expiry_check_{};
};

}  // namespace fedgate::routing
