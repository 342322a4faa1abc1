#pragma once
/// @file
/// The vocabulary of the sans-I/O negotiation sessions (STYLE §2.2): the events a
/// session is fed and the actions it returns. `daemon/` performs the actions in
/// order; tests read them.

#include "negotiation/certificate_identity.hpp"
#include "negotiation/policy_terms.hpp"
#include "protocol/element.hpp"
#include "protocol/jid.hpp"
#include "protocol/namespaces.hpp"
#include "protocol/stream_error.hpp"
#include "protocol/stream_reader.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fedgate::negotiation {

using policy::domain_pair;  // policy/partner.hpp

/// The certificate a peer presented in the TLS handshake, behind an interface so
/// that sessions stay free of OpenSSL objects and tests can state a verdict.
class peer_certificate {
public:
    virtual ~peer_certificate() = default;
    /// Whether the certificate is trusted and names `domain` (canonical form), as
    /// check_peer_certificate() decides.
    [[nodiscard]] virtual certificate_verdict check(std::string_view domain) const = 0;
};

/// What an authoritative server (or the attempt to reach it) said about a key.
enum class dialback_outcome : std::uint8_t {
    valid,
    invalid,
    not_found,    ///< it does not host the domain, or the domain does not resolve
    unreachable,  ///< no connection could be established
    timeout,      ///< no answer in time, or the stream ended before one
};
/// The last dialback_outcome (the metrics show each at start).
inline constexpr dialback_outcome last_dialback_outcome = dialback_outcome::timeout;

/// "valid", "invalid", "not-found", "unreachable", "timeout": for logs and metrics.
[[nodiscard]] std::string_view outcome_name(dialback_outcome o) noexcept;

// ---- events -------------------------------------------------------------------

/// The TLS handshake completed; `certificate` is null when the peer sent none.
struct tls_established {
    std::shared_ptr<peer_certificate const> certificate;
};

/// For an inbound session: the answer to one of its ask_dialback actions.
struct dialback_answer {
    domain_pair pair;
    std::string stream_id;
    dialback_outcome outcome = dialback_outcome::invalid;
};

/// For an outbound session: send this db:verify for the router (XEP-0220 §2.1.2).
/// `pair.local` is the Receiving Server's domain (ours), `pair.remote` the
/// domain whose key is checked, `stream_id` the id of our inbound stream.
struct verify_request {
    domain_pair pair;
    std::string stream_id;
    std::string key;
};

/// A deadline the daemon set for the negotiation passed.
struct deadline_passed {};

/// The connection is gone (read error, EOF, TLS failure).
struct transport_closed {
    std::string why;
};

using event = std::variant<protocol::stream_opened, protocol::element_received, protocol::stream_ended,
                           tls_established, dialback_answer, verify_request, deadline_passed, transport_closed>;

// ---- actions ------------------------------------------------------------------

/// Send a stream header (RFC 6120 §4.7) with these attributes; S2S headers
/// (content jabber:server) also declare xmlns:db.
struct send_header {
    std::string from;
    std::string to;
    std::string id;  ///< empty on the initiating side
    std::string_view content = protocol::ns::server;
};

/// Send one element.
struct send_element {
    protocol::element element;
};

enum class tls_role : std::uint8_t { client, server };

/// Start the TLS handshake. The executor must refuse (close the connection) when
/// bytes were received after the element that asked for it (RFC 6120 §5.4.3.3).
struct begin_tls {
    tls_role role = tls_role::server;
    std::string local_domain;  ///< whose certificate to present
    std::string server_name;   ///< SNI and the name to verify (client role)
};

/// A new stream starts (RFC 6120 §5.4.3.3, §6.4.6): the parser is replaced and
/// the next header we send opens it. Before begin_tls when TLS starts, so that
/// whatever the handshake lets happen already belongs to the new stream.
struct restart_stream {};

/// Inbound: verify a dialback key with the authoritative server of `pair.remote`
/// and feed the answer back as a dialback_answer.
struct ask_dialback {
    domain_pair pair;
    std::string stream_id;
    std::string key;
};

/// Outbound: the authoritative server answered a verify_request.
struct dialback_verified {
    verify_request request;
    dialback_outcome outcome = dialback_outcome::invalid;
};

/// The pair may now carry stanzas (inbound: from remote to local; outbound: from
/// local to remote).
struct authenticated {
    domain_pair pair;
    auth_method method = auth_method::sasl_over_tls;
    /// Outbound: the peer enabled XEP-0198 stream management, so it will say
    /// which of the stanzas written on this stream it has handled.
    bool stream_management = false;
    /// Outbound: XEP-0288 was asked for, so the peer may send its stanzas for
    /// the pair (from pair.remote to pair.local) on this stream too; they come
    /// as route_stanza actions.
    bool bidi = false;
};

/// Inbound, XEP-0288: the peer asked for a bidirectional stream and has
/// authenticated `pair`, so this stream will carry our stanzas for it (from
/// pair.local to pair.remote): the router lends it to the pair's link, which
/// opens no stream of its own, and writes once bidi_counting has come. At most
/// one per stream.
struct bidi_ready {
    domain_pair pair;
};

/// Inbound, XEP-0288, after bidi_ready: our stanzas may go now. With `counted`
/// the peer enabled XEP-0198 and counts them (its <a/> come as acknowledged
/// actions); without, they go uncounted. Comes at once when stream management
/// was not offered, else when the peer enables it, or at a deadline_passed.
struct bidi_counting {
    domain_pair pair;
    bool counted = false;
};

/// Inbound, with stream management: answer the peer's <r/> with <a h='handled'/>.
/// The executor holds the answer while the stream is paused for a destination
/// (back-pressure): then some of the stanzas counted wait in fedgate's memory,
/// and the count goes out once they have been passed on or bounced, so that a
/// crash of ours costs the peer only what it was never told we handled.
struct send_ack {
    std::uint32_t handled = 0;
};

/// With stream management, on a stream that carries our stanzas (outbound, or
/// inbound after bidi_ready): the peer has handled `handled` of those written on
/// it (the `h` of its <a/>, XEP-0198 §4: a count modulo 2^32).
struct acknowledged {
    std::uint32_t handled = 0;
};

/// A component link completed its XEP-0114 handshake for `domain`.
struct link_ready {
    std::string domain;
};

/// A stanza whose addressing was checked, to route: from a partner's stream
/// (an inbound one, or an outbound one with XEP-0288; pair.local = its `to`
/// domain) or from a component link (pair.local = its `from` domain,
/// pair.remote = the partner domain it is for).
struct route_stanza {
    protocol::element stanza;
    domain_pair pair;
    protocol::stanza_addresses addresses;  ///< as checked: the router does not parse them again
};

/// A stanza that cannot be routed but deserves an error to its sender (RFC 6120
/// §8.3); the router sends `reply` back the way the stanza came.
struct bounce_stanza {
    protocol::element reply;
    domain_pair pair;
};

/// Something the peer sent was ignored on purpose (an unsolicited dialback answer,
/// whitespace-only junk): the executor logs `what` and counts it.
struct discarded {
    std::string what;
};

/// Why a session ended, for logs, metrics and the bounces of queued stanzas.
enum class close_reason : std::uint8_t {
    peer_closed,            ///< </stream:stream>
    transport_closed,       ///< the connection dropped
    timeout,                ///< negotiation deadline
    bad_input,              ///< the peer broke the protocol (reader or sequence error)
    host_unknown,           ///< inbound `to` is not one of our domains
    unknown_partner,        ///< the peer domain is not a configured partner
    policy,                 ///< the partner's policy forbids what the peer did
    not_authenticated,      ///< stanza before authentication or from an unauthorised pair
    tls_not_offered,        ///< outbound: tls = required, the peer offered no STARTTLS
    tls_refused,            ///< outbound: the peer requires TLS, the policy forbids it
    certificate_invalid,    ///< the peer certificate is not valid for its domain
    sasl_failed,            ///< EXTERNAL was refused
    dialback_invalid,       ///< a dialback key was invalid
    dialback_error,         ///< dialback could not be completed (XEP-0220 §2.4)
    no_common_method,       ///< nothing the policy allows is possible with this peer
    stream_error_received,  ///< the peer sent <stream:error/>
    component_conflict,     ///< the internal server has another connection for this component
    too_many_failures,      ///< repeated SASL or dialback failures
    done,                   ///< a verification-only stream finished its work
    blocked,                ///< the peer domain is on the operator's blocklist
    unlisted_domains_full,  ///< an unlisted domain's, closed for a more recent one ([default_partner] max_domains)
};
/// The last close_reason: the metrics show every reason from 0 to this at start.
inline constexpr close_reason last_close_reason = close_reason::unlisted_domains_full;

/// "peer-closed", "certificate-invalid", ...: stable names for metrics labels.
[[nodiscard]] std::string_view metric_name(close_reason r) noexcept;

/// End the stream: send <stream:error/> when `condition` is set (with `detail` as
/// its <text/>), then </stream:stream>, then close. `reason` and `detail` go into
/// the log line. `detail` never holds keys or SASL payloads.
struct close_stream {
    std::optional<protocol::stream_error> condition;
    close_reason reason = close_reason::bad_input;
    std::string detail;
    /// End the TCP connection at once, writing nothing more, not even what is
    /// queued: once TLS was asked for, no XML goes out in the clear (RFC 6120
    /// §5.4.3.3), and a stream error or </stream:stream> would.
    bool drop_connection = false;
};

using action = std::variant<send_header, send_element, send_ack, begin_tls, restart_stream, ask_dialback, dialback_verified,
                            authenticated, bidi_ready, bidi_counting, acknowledged, link_ready, route_stanza, bounce_stanza, discarded,
                            close_stream>;

/// `a` alone in a vector of actions, moved there. A braced list would copy it
/// (the elements of a std::initializer_list are const), and the copy of a
/// stanza costs about as much as its parsing did.
template <class Action>
[[nodiscard]] std::vector<action> only(Action&& a)
{
    std::vector<action> out;
    out.emplace_back(std::forward<Action>(a));
    return out;
}

/// What every session offers its executor.
class session {
public:
    virtual ~session() = default;
    /// The actions to take when the connection is up (or, for direct TLS, when the
    /// TLS handshake can start).
    [[nodiscard]] virtual std::vector<action> start() = 0;
    /// Feeds one event; returns what to do, in order. After a close_stream the
    /// session is finished and ignores further events. By value: a stanza moves
    /// on into its route_stanza instead of being copied.
    [[nodiscard]] virtual std::vector<action> handle(event e) = 0;
    [[nodiscard]] virtual bool finished() const noexcept = 0;
    /// XEP-0198: the peer's stanzas handled on this stream, when stream
    /// management counts them; a close the connection makes sends it first, so
    /// that the peer neither sends again nor bounces what arrived.
    [[nodiscard]] virtual std::optional<std::uint32_t> handled_count() const noexcept { return std::nullopt; }
};

}  // namespace fedgate::negotiation
