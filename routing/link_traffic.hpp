#pragma once
/// @file
/// What both kinds of link do with stanzas alike, written once: write one on the
/// stream (its bytes counted, the sender paused while the stream is congested),
/// hold it while there is no stream (a full queue bounces it), bounce it at once,
/// expire or bounce what is held, and count the stream's close.

#include "conf/config.hpp"
#include "routing/delivery_queue.hpp"
#include "routing/link_owner.hpp"
#include "negotiation/session_types.hpp"

#include <cstdint>
#include <string>

namespace fedgate::routing {

class link_traffic {
public:
    /// `direction` labels the close metric ("out", "component"); bytes are
    /// counted inbound or outbound for the partner owning `domain`.
    link_traffic(link_owner& owner, queue_limits limits, std::string direction, bool inbound_bytes, std::string domain);

    /// Writes `stanza` on `stream`, counting its bytes (returned); `source`
    /// stops being read while `stream` is congested.
    std::size_t write(network::connection& stream, protocol::element const& stanza,
                      network::connection* source = nullptr);
    /// Holds `stanza` until a stream is up; a full queue bounces it, saying
    /// whose queue (`whose`: "the internal server", a domain) was full.
    void hold(protocol::element stanza, std::string const& whose);
    /// Holds `stanza` beyond the limits, for a sender that is paused meanwhile.
    void hold_paused(protocol::element stanza);
    /// Bounces `stanza` now with `condition` and `why`.
    void bounce(protocol::element const& stanza, protocol::stanza_condition condition, std::string const& why);
    /// Bounces what is held past its delivery deadline with `failure`; `why` for the log.
    void expire(clock::time_point now, delivery_failure const& failure, std::string const& why);
    /// Bounces everything held with `failure`.
    void bounce_held(delivery_failure const& failure);
    /// fedgate_stream_closes_total{direction, reason}.
    void count_close(negotiation::close_stream const& why);

    [[nodiscard]] delivery_queue& queue() noexcept { return queue_; }
    [[nodiscard]] delivery_queue const& queue() const noexcept { return queue_; }
    [[nodiscard]] link_owner& owner() const noexcept { return *owner_; }

private:
    /// Hands bounces to the owner, counting those a lost stream had written.
    void send_bounces(bounced b, std::string_view why);

    link_owner* owner_;
    delivery_queue queue_;
    std::string direction_;
    bool inbound_bytes_;
    std::string domain_;
    std::uint64_t* bytes_ = nullptr;  ///< in the owner's metrics, found at the first write
};

/// The [limits] of a link's queue.
[[nodiscard]] queue_limits queue_limits_of(conf::limit_settings const& l);

}  // namespace fedgate::routing
