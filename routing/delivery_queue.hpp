#pragma once
/// @file
/// The stanzas waiting for one (local, remote) outbound stream: bounded by count
/// and bytes, each with a delivery deadline, so that a partner that is down for
/// a moment costs its users a delay, not a bounce, and a partner that stays down
/// costs us bounded memory. Sans-I/O: time comes in as arguments.

#include "routing/delivery_failure.hpp"
#include "protocol/element.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace fedgate::routing {

using clock = std::chrono::steady_clock;

struct queue_limits {
    std::size_t max_stanzas = 10'000;
    std::size_t max_bytes = 4 * 1024 * 1024;
    std::chrono::seconds delivery_deadline{60};  ///< bounce what waited longer
};

/// What leaves the queue other than by delivery: error replies for the senders,
/// and the error stanzas that cannot be bounced (RFC 6120 §8.3.1), only counted.
struct bounced {
    std::vector<protocol::element> replies;
    std::size_t dropped_errors = 0;
    std::size_t after_stream_loss = 0;  ///< of them, stanzas put back after a stream lost them
};

/// One stanza waiting, with what its bounds and deadline need.
struct queued_stanza {
    protocol::element stanza;
    std::size_t bytes = 0;
    clock::time_point deadline;
    bool resent = false;  ///< written on a stream that ended before acknowledging it (XEP-0198)
};

/// Adds the error reply to `stanza` to `out`, or counts it as an error stanza
/// that may not be bounced.
void bounce_into(bounced& out, protocol::element const& stanza, protocol::stanza_condition condition,
                 std::string const& text);

class delivery_queue {
public:
    explicit delivery_queue(queue_limits limits = {}) : limits_{limits} {}

    /// Queues `stanza` (`bytes` is its serialised size). When the queue is full the
    /// stanza is refused with <resource-constraint/>: the returned bounce is set.
    [[nodiscard]] std::optional<bounced> push(protocol::element stanza, std::size_t bytes, clock::time_point now);
    /// Queues a stanza whose sender stops being read after it, beyond the limits
    /// if need be: refusing it would turn a short outage into refusals, and what
    /// a paused stream can add is bounded by what one read brought.
    void push_paused(protocol::element stanza, std::size_t bytes, clock::time_point now);
    /// The oldest stanza, out of the queue; nullopt when empty.
    [[nodiscard]] std::optional<queued_stanza> take_first();
    /// Stanzas a stream wrote but its peer did not acknowledge before the stream
    /// ended, back at the head in their order (they are older than all that is
    /// held: it was queued after they were written), beyond the limits, with
    /// their deadlines.
    void put_back(std::deque<queued_stanza> unacknowledged);
    /// Bounces the stanzas whose deadline passed by `now`, with `failure`'s
    /// condition (the last reason delivery failed).
    [[nodiscard]] bounced expire(clock::time_point now, delivery_failure const& failure);
    /// Bounces everything (a failure that retrying will not cure, or shutdown).
    [[nodiscard]] bounced fail_all(delivery_failure const& failure);
    /// When the oldest stanza's deadline passes; nullopt when empty.
    [[nodiscard]] std::optional<clock::time_point> next_deadline() const;

    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] bool empty() const noexcept { return items_.empty(); }

private:
    void bounce_front(bounced& out, delivery_failure const& failure);

    queue_limits limits_;
    std::deque<queued_stanza> items_;  // deadlines ascend: one limit for all, pushed in time order
    std::size_t bytes_ = 0;
};

}  // namespace fedgate::routing
