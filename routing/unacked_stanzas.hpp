#pragma once
/// @file
/// What an outbound stream with XEP-0198 stream management has written and its
/// peer not yet acknowledged: kept (with its deadline) until an <a/> covers it,
/// so that a stream that ends in the middle of a burst loses nothing. The
/// link puts what is left back at the head of its queue for the next stream,
/// which sends it again (at least once: the peer may have handled a stanza
/// whose acknowledgement never arrived). The ledger also says when to ask for
/// an acknowledgement (<r/>): every `request_every` stanzas and, for a quiet
/// tail, on the clock; one request at a time. Past `max_unacknowledged` the
/// link stops writing until the peer answers. Sans-I/O.

#include "routing/delivery_queue.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace fedgate::routing {

struct ack_request_settings {
    std::size_t request_every = 10;         ///< stanzas written between two <r/>
    std::size_t max_unacknowledged = 1000;  ///< then writing waits for an answer
};

class unacked_stanzas {
public:
    /// `peer_count` is the peer's count to start from: 0 on every new stream
    /// (XEP-0198 §4); tests start near 2^32 to cross the wrap.
    explicit unacked_stanzas(ack_request_settings settings = {}, std::uint32_t peer_count = 0)
        : settings_{settings}, handled_{peer_count}
    {
    }

    /// `stanza` was written: kept until acknowledged. Returns whether an <r/>
    /// should follow it.
    [[nodiscard]] bool written(queued_stanza stanza);
    /// The peer's <a h='handled'/>: forgets what it covers. Returns how many it
    /// newly acknowledged, or nullopt when it counts more stanzas than were
    /// written (XEP-0198 §6: the stream is then closed with an error).
    [[nodiscard]] std::optional<std::size_t> acknowledged(std::uint32_t handled);
    /// Whether an <r/> should go now (none is outstanding): after an answer,
    /// when `request_every` more were written since the last one; on the clock
    /// (`quiet`), when anything at all is unacknowledged.
    [[nodiscard]] bool request_due(bool quiet);
    /// As many stanzas are unacknowledged as may be.
    [[nodiscard]] bool full() const noexcept { return items_.size() >= settings_.max_unacknowledged; }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
    /// The stream ended: what it did not acknowledge, oldest first. The ledger
    /// starts over for the next stream (whose count begins at 0).
    [[nodiscard]] std::deque<queued_stanza> lost();

private:
    ack_request_settings settings_;
    std::deque<queued_stanza> items_;
    std::uint32_t handled_ = 0;        ///< the peer's last count (modulo 2^32, like its `h`)
    std::size_t since_request_ = 0;    ///< written since the last <r/>
    bool outstanding_ = false;         ///< an <r/> awaits its <a/>
};

}  // namespace fedgate::routing
