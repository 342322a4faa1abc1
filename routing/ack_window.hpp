#pragma once
/// @file
/// What fedgate wrote to the internal server since its last sign of life.
/// XEP-0114 has no acknowledgements, so the stanzas written to a component link
/// that then dies are gone without a trace. An IQ ping (XEP-0199) is the next
/// best thing: the internal server must answer an IQ get (RFC 6120 §8.2.3), with
/// a result or an error, and it handles a stream's stanzas in order, so its
/// answer says that everything written before the ping has arrived. The window
/// sends a ping every `ping_every` stanzas (and on the clock for a quiet tail),
/// counts what is written since the last answer (`in_flight`: what a link loss
/// may have cost, reported as possibly lost), and, once the server has shown that
/// it answers, tells the link to stop writing past `max_in_flight` until it does
/// again. Prosody 0.12 answers a ping with a result (mod_ping, on in Debian's
/// default configuration) or, without that module, an error: either will do. For
/// a server that drops unknown IQs without a word, a ping unanswered for
/// `fallback_ticks` clock ticks is followed by a disco#info query (XEP-0030),
/// which every server handles, and that is used from then on. A server that
/// answers neither is not held to the limit: its losses are counted from the
/// link's start. Sans-I/O.

#include "protocol/element.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace fedgate::routing {

struct ack_settings {
    std::uint64_t ping_every = 100;     ///< stanzas written between two pings
    std::uint64_t max_in_flight = 1000;  ///< unanswered stanzas before writing pauses
    unsigned fallback_ticks = 5;         ///< a ping unanswered this long: disco#info instead
};

class ack_window {
public:
    /// `component` is the link's partner domain (the pings' from), `server` a
    /// domain of the internal server (their to).
    ack_window(std::string component, std::string server, ack_settings settings = {});

    /// A stanza was written; returns a ping to write after it when one is due.
    [[nodiscard]] std::optional<protocol::element> written();
    /// A ping when `ping_every` stanzas wait for one and none is outstanding
    /// (after an answer, say).
    [[nodiscard]] std::optional<protocol::element> due();
    /// The clock: a ping for a tail that was written since the last one.
    [[nodiscard]] std::optional<protocol::element> tick();
    /// A ping at once when anything written is unconfirmed and none is
    /// outstanding (the link is about to close: a last answer).
    [[nodiscard]] std::optional<protocol::element> now();
    /// Whether `stanza` from the internal server answers our ping (then it is
    /// ours, not a user's, and goes nowhere else).
    bool answered(protocol::element const& stanza);
    /// Written since the last answer (since the start when there was none).
    [[nodiscard]] std::uint64_t in_flight() const noexcept { return written_ - acknowledged_; }
    /// The server answers pings, and as many stanzas as allowed are unanswered.
    [[nodiscard]] bool full() const noexcept { return answers_ > 0 && in_flight() >= settings_.max_in_flight; }
    /// The link is gone: returns what was in flight, and starts over for the next.
    std::uint64_t lost();
    /// The server has answered a probe on this link.
    [[nodiscard]] bool answering() const noexcept { return answers_ > 0; }
    /// Pings went unanswered, so probes are disco#info queries (once set, for
    /// the window's life: the next link goes to the same server).
    [[nodiscard]] bool using_disco() const noexcept { return disco_; }

private:
    [[nodiscard]] protocol::element ping();

    std::string component_;
    std::string server_;
    ack_settings settings_;
    std::uint64_t written_ = 0;       ///< stanzas written on this link
    std::uint64_t acknowledged_ = 0;  ///< of them, before the last answered ping
    std::uint64_t ping_mark_ = 0;     ///< written_ when the outstanding ping left
    std::uint64_t answers_ = 0;
    std::uint64_t next_id_ = 0;
    std::string outstanding_;  ///< the id of the ping awaiting an answer, or ""
    unsigned waited_ = 0;      ///< clock ticks the outstanding ping has waited
    bool disco_ = false;
};

}  // namespace fedgate::routing
