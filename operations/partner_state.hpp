#pragma once
/// @file
/// The state of federation with each partner, per direction, as the operator
/// asks about it: is it up, since when, by which method; how far did the last
/// attempt get, stage by stage (DNS, TCP, TLS, peer certificate,
/// authentication, stream), and when it failed, at which stage, with which
/// stable reason code and which advice; which certificates the partner
/// presented. Sans-I/O: a plain object on the event loop's thread, fed with
/// events that carry their time, read with snapshot(). The routing and network
/// rooms feed it; the metrics, `fedgate status` and its JSON read it.

#include "negotiation/certificate_facts.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::operations {

using wall_time = std::chrono::system_clock::time_point;

enum class partner_direction : std::uint8_t { inbound, outbound };
/// "in", "out": the direction label of the metrics.
[[nodiscard]] std::string_view label_of(partner_direction d) noexcept;
inline constexpr std::array<partner_direction, 2> every_direction{partner_direction::inbound,
                                                                  partner_direction::outbound};

/// The stages of one attempt, in the order a stream goes through them. An
/// inbound attempt starts at tcp (the partner is known once its header names
/// it, so the TCP facts are recorded then).
enum class federation_stage : std::uint8_t { dns, tcp, tls, certificate, authentication, stream };
inline constexpr std::size_t stage_count = 6;
/// "dns", "tcp", "tls", "certificate", "authentication", "stream": the stage label.
[[nodiscard]] std::string_view label_of(federation_stage s) noexcept;
inline constexpr std::array<federation_stage, stage_count> every_stage{
    federation_stage::dns,         federation_stage::tcp,            federation_stage::tls,
    federation_stage::certificate, federation_stage::authentication, federation_stage::stream};

/// The reason codes a failure at each stage may carry: short stable strings,
/// the `reason` label of fedgate_partner_failures_total. DNS reuses
/// dns::code_of(), the later stages negotiation::metric_name(close_reason)
/// where a close reason classifies the failure already.
namespace partner_failure {
// tcp
inline constexpr std::string_view connection_refused = "connection_refused";
inline constexpr std::string_view connection_timeout = "connection_timeout";
inline constexpr std::string_view unreachable = "unreachable";  ///< no route, network down, no address to try
// tls
inline constexpr std::string_view handshake_failed = "handshake_failed";
inline constexpr std::string_view tls_not_offered = "tls-not-offered";  ///< close_reason::tls_not_offered
inline constexpr std::string_view tls_refused = "tls-refused";          ///< close_reason::tls_refused
// certificate
inline constexpr std::string_view no_certificate = "no_certificate";
inline constexpr std::string_view untrusted = "untrusted";
inline constexpr std::string_view expired = "expired";              ///< untrusted: its validity has ended
inline constexpr std::string_view not_yet_valid = "not_yet_valid";  ///< untrusted: its validity has not begun
inline constexpr std::string_view name_mismatch = "name_mismatch";
inline constexpr std::string_view certificate_invalid = "certificate-invalid";  ///< close_reason, detail unknown
// authentication
inline constexpr std::string_view sasl_failed = "sasl-failed";
inline constexpr std::string_view dialback_invalid = "dialback-invalid";
inline constexpr std::string_view dialback_error = "dialback-error";
inline constexpr std::string_view no_common_method = "no-common-method";
inline constexpr std::string_view policy = "policy";
inline constexpr std::string_view not_authenticated = "not-authenticated";
inline constexpr std::string_view too_many_failures = "too-many-failures";
// stream (any stage: how the connection ended before the attempt completed)
inline constexpr std::string_view timeout = "timeout";
inline constexpr std::string_view peer_closed = "peer-closed";
inline constexpr std::string_view transport_closed = "transport-closed";
inline constexpr std::string_view bad_input = "bad-input";
inline constexpr std::string_view stream_error_received = "stream-error-received";
inline constexpr std::string_view host_unknown = "host-unknown";
inline constexpr std::string_view unknown_partner = "unknown-partner";
/// Anything else; the advice says what.
inline constexpr std::string_view other = "other";
}  // namespace partner_failure

/// Every reason code a failure at `s` may carry (the metrics show each at
/// zero from start). A code outside the list is counted as `other`.
[[nodiscard]] std::span<std::string_view const> reasons_of(federation_stage s) noexcept;
/// `reason` when reasons_of(s) lists it, else `other`: the reason label a
/// failure is counted with.
[[nodiscard]] std::string_view counted_reason(federation_stage s, std::string_view reason) noexcept;

// ---- facts of the last attempt, per stage ------------------------------------

struct dns_facts {
    /// SRV answers as "_xmpps-server._tcp.b.example: 10 5 xmpp.b.example:5270".
    std::vector<std::string> srv_answers;
    /// A/AAAA answers of the chosen target.
    std::vector<std::string> addresses;
    std::string target;        ///< the chosen "host:port"
    bool direct_tls = false;   ///< from an _xmpps-server record (XEP-0368)
};

struct tcp_facts {
    std::string address;  ///< the peer's "192.0.2.1:5269" or "[2001:db8::1]:5269"
    bool ipv6 = false;
};

struct tls_facts {
    std::string version;  ///< "TLSv1.3"
    std::string cipher;   ///< "TLS_AES_256_GCM_SHA384"
    std::string alpn;     ///< "xmpp-server", or empty when none was agreed
    bool direct_tls = false;  ///< direct TLS (XEP-0368) rather than STARTTLS
};

struct certificate_check_facts {
    /// "valid", "no_certificate", "untrusted", "name_mismatch".
    std::string verdict;
    /// The identity that matched: "SRV-ID", "XmppAddr", "DNS-ID",
    /// "DNS-ID (wildcard)"; empty unless valid.
    std::string matched_identity;
    std::string detail;       ///< why not valid, as the check said
    std::string fingerprint;  ///< the leaf's, a key into partner_state_row::certificates; empty when none
};

struct authentication_facts {
    std::string method;   ///< "sasl-over-tls", "tls-dialback", "tcp-dialback" (policy::metric_name)
    std::string outcome;  ///< "success", or the failure's reason code
};

/// One stage of the last attempt.
struct stage_record {
    enum class outcome : std::uint8_t { not_reached, succeeded, failed };
    outcome result = outcome::not_reached;
    wall_time at{};
    std::string reason;  ///< failed: the reason code
    std::string advice;  ///< failed: a sentence an operator can act on
};

/// The last success of a direction: when, by which method.
struct success_record {
    wall_time at{};
    std::string method;  ///< as authentication_facts::method
};

/// The last failure of a direction.
struct failure_record {
    wall_time at{};
    federation_stage stage = federation_stage::stream;
    std::string reason;
    std::string advice;
};

/// One direction (inbound or outbound) of one partner.
struct direction_state {
    partner_direction direction = partner_direction::outbound;
    bool up = false;             ///< at least one authenticated stream now
    unsigned streams_up = 0;     ///< authenticated streams now (inbound may have several)
    wall_time since{};           ///< when `up` last changed; epoch when it never did
    std::string method;          ///< of the newest stream up; empty when down
    std::optional<success_record> last_success;
    std::optional<failure_record> last_failure;
    wall_time attempt_started{};  ///< when the last attempt began; epoch when none
    std::array<stage_record, stage_count> stages{};  ///< of the last attempt, indexed by federation_stage
    std::optional<dns_facts> dns;
    std::optional<tcp_facts> tcp;
    std::optional<tls_facts> tls;
    std::optional<certificate_check_facts> certificate;
    std::optional<authentication_facts> authentication;
    /// Failures counted since start, by stage and reason code (the metrics' counter).
    std::map<std::pair<federation_stage, std::string>, std::uint64_t> failures;

    [[nodiscard]] stage_record const& stage(federation_stage s) const { return stages[static_cast<std::size_t>(s)]; }
};

/// A certificate a partner presented, in either direction.
struct certificate_record {
    negotiation::certificate_facts facts;
    wall_time first_seen{};
    wall_time last_seen{};
    partner_direction last_direction = partner_direction::inbound;
};

/// Everything known of one partner.
struct partner_state_row {
    std::string partner;  ///< its primary domain
    direction_state inbound;
    direction_state outbound;
    /// Newest (last_seen) first; at most partner_state::certificates_kept.
    std::vector<certificate_record> certificates;

    [[nodiscard]] direction_state const& of(partner_direction d) const
    {
        return d == partner_direction::inbound ? inbound : outbound;
    }
};

/// A partner as the configuration names it.
struct known_partner {
    std::string domain;                           ///< primary: the key of every row
    std::vector<std::string> additional_domains;  ///< events for these count for the primary
};

/// What certificate_seen() found.
enum class certificate_news : std::uint8_t {
    known,    ///< the partner presented this one before (and it is its newest)
    first,    ///< the first certificate seen from this partner
    changed,  ///< another than the newest seen before
};

/// A certificate that expires within the warning period (or has expired).
struct expiry_warning {
    std::string partner;  ///< the partner's primary domain
    negotiation::certificate_facts facts;
};

/// The tracker. Events naming a domain no partner has are ignored, so its
/// size is bounded by the configuration. Every event carries its wall time.
class partner_state {
public:
    /// Certificates kept per partner (the oldest seen goes first).
    static constexpr std::size_t certificates_kept = 4;

    explicit partner_state(std::vector<known_partner> partners = {});

    /// A reload: partners still configured keep their state, new ones start
    /// empty, removed ones are forgotten.
    void set_partners(std::vector<known_partner> partners);
    /// The primary domain of the partner that has `domain` (primary or
    /// additional); null when none.
    [[nodiscard]] std::string const* partner_of(std::string_view domain) const;

    /// A new attempt in `d`: the per-stage records and facts of the previous
    /// one are cleared (last success and failure stay).
    void attempt_started(std::string_view domain, partner_direction d, wall_time at);
    /// A stage completed. Facts come with the overloads below.
    void stage_succeeded(std::string_view domain, partner_direction d, federation_stage s, wall_time at);
    /// A stage failed: the attempt ends there. `reason` should be one of
    /// reasons_of(s); it is kept as given and counted as given (or as `other`
    /// when not in the list, so the counter's labels stay bounded).
    void stage_failed(std::string_view domain, partner_direction d, federation_stage s, std::string_view reason,
                      std::string advice, wall_time at);

    /// Stage succeeded, with its facts.
    void resolved(std::string_view domain, dns_facts facts, wall_time at);
    void connected(std::string_view domain, partner_direction d, tcp_facts facts, wall_time at);
    void tls_up(std::string_view domain, partner_direction d, tls_facts facts, wall_time at);
    /// The certificate check's facts: the stage succeeded when facts.verdict
    /// is "valid", else its record says failed, with the verdict as its reason
    /// and `advice`. Not yet the attempt's failure (no last_failure, not
    /// counted): dialback may still authenticate the stream. stage_failed()
    /// makes it one when the stream ends for its certificate.
    void certificate_checked(std::string_view domain, partner_direction d, certificate_check_facts facts,
                             std::string advice, wall_time at);

    /// Authentication succeeded with `method`, and the stream is up: the
    /// authentication and stream stages succeed, the direction is up.
    void stream_up(std::string_view domain, partner_direction d, std::string_view method, wall_time at);
    /// An authenticated stream ended. The direction is down once none is left.
    void stream_down(std::string_view domain, partner_direction d, wall_time at);

    /// A certificate the partner presented: added to (or refreshed in) its
    /// inventory.
    certificate_news certificate_seen(std::string_view domain, partner_direction d,
                                      negotiation::certificate_facts const& facts, wall_time at);

    /// The partners' newest certificates that expire before now + `within`.
    [[nodiscard]] std::vector<expiry_warning> expiring(wall_time now, std::chrono::seconds within) const;

    /// Every configured partner, in domain order.
    [[nodiscard]] std::vector<partner_state_row> snapshot() const;
    /// One partner (any of its domains); nullopt when not configured.
    [[nodiscard]] std::optional<partner_state_row> snapshot(std::string_view domain) const;
    /// The rows themselves, by primary domain, for the metrics' gauges (no copy).
    [[nodiscard]] std::map<std::string, partner_state_row, std::less<>> const& rows() const noexcept { return rows_; }

private:
    direction_state* find(std::string_view domain, partner_direction d);
    partner_state_row* find_row(std::string_view domain);

    std::map<std::string, partner_state_row, std::less<>> rows_;
    std::map<std::string, std::string, std::less<>> primary_of_;  ///< every domain -> primary
};

/// Whether a certificate that expires at `not_after` warrants a warning at
/// `now` with `within` (expired ones do).
[[nodiscard]] bool expires_within(wall_time not_after, wall_time now, std::chrono::seconds within) noexcept;

}  // namespace fedgate::operations
