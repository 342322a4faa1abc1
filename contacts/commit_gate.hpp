#pragma once
/// @file
/// Keeps stanzas to one destination in order while some of them wait for the
/// relationship store: a stanza whose relationship change must be durable
/// before it leaves (an invitation) holds every later stanza to the same
/// destination until its write is committed. Sans-I/O.

#include "protocol/element.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace fedgate::contacts {

class commit_gate {
public:
    using ticket = std::uint64_t;

    /// Adds `stanza`. Without `needs_commit` it leaves at once unless earlier
    /// stanzas still wait; with it, it waits for committed(ticket). Returns what
    /// may leave now, in order, and the ticket when one was needed.
    struct pushed {
        std::vector<protocol::element> release;
        std::optional<ticket> wait_for;
    };
    /// `bytes` is what the stanza weighs, for bytes().
    [[nodiscard]] pushed push(protocol::element stanza, bool needs_commit, std::size_t bytes = 0);

    /// The write for `t` finished. Returns what may leave now, in order; when the
    /// write failed, `failed` holds the stanza that waited for it (it must not
    /// leave: its relationship is not durable).
    struct outcome {
        std::vector<protocol::element> release;
        std::optional<protocol::element> failed;
    };
    [[nodiscard]] outcome committed(ticket t, bool ok);

    /// Everything held, in order, the gate left empty: at shutdown, when the
    /// writes will not be waited for (their committed() is then ignored).
    [[nodiscard]] std::vector<protocol::element> take_all();

    [[nodiscard]] bool empty() const noexcept { return waiting_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return waiting_.size(); }
    /// What the stanzas held weigh, as given to push().
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }

private:
    struct item {
        protocol::element stanza;
        std::optional<ticket> pending;  ///< set while its write is not committed
        bool failed = false;
        std::size_t bytes = 0;
    };
    std::vector<protocol::element> release_ready();

    std::deque<item> waiting_;
    ticket next_ = 1;
    std::size_t bytes_ = 0;
};

}  // namespace fedgate::contacts
