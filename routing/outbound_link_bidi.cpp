// outbound_link (outbound_link.hpp): the link's side of XEP-0288. When a
// partner opened a bidirectional stream to us and authenticated the pair, the
// router lends that stream to this link, and our stanzas go on it instead of
// on a stream of our own; when it closes, a stream of our own takes over
// (with what the lent one did not acknowledge, first).
#include "network/connection.hpp"
#include "operations/metric_names.hpp"
#include "routing/outbound_link.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;

connection* outbound_link::carrier() const noexcept
{
    if (adopted_ && adopted_writable_ && !adopted_->closing())
        return adopted_.get();
    return own_stream_up() ? connection_.get() : nullptr;
}

bool outbound_link::adopt(std::shared_ptr<connection> stream)
{
    // Our own stream, once up, keeps carrying ours: switching would mix two
    // streams' acknowledgements, and the partner's stream carries its own.
    if (stopped_ || purpose_ != negotiation::outbound_purpose::route || adopted_ || own_stream_up())
        return false;
    adopted_ = std::move(stream);
    adopted_writable_ = false;
    owner_.stats().count(metric::bidi_streams, {{"direction", "in"}});
    // The partner reached us: whatever failed before does not hold now.
    last_failure_.reset();
    retry_.reset();
    if (std::exchange(waiting_to_retry_, false))
        retry_timer_.cancel();
    return true;
}

void outbound_link::may_write(connection& stream, bool counted)
{
    if (adopted_.get() != &stream || adopted_writable_)
        return;
    // What our own stream, closing, has not acknowledged goes first, in order:
    // one count per stream, the carrier's.
    if (counted_on_ != nullptr)
        take_back_unacknowledged(*counted_on_);
    adopted_writable_ = true;
    spdlog::info("{} {} -> {}: on {}'s stream, bidirectional (XEP-0288){}", stream.id(), pair_.local, pair_.remote,
                 pair_.remote, counted ? ", with stream management" : "");
    if (counted)
        start_counting(stream);
    write_held();
}

void outbound_link::released(connection& stream)
{
    if (adopted_.get() != &stream)
        return;
    adopted_.reset();
    adopted_writable_ = false;
    take_back_unacknowledged(stream);
    if (own_stream_up()) {
        // Ours, opened at the same moment as theirs, takes over.
        if (stream_management_ && !unacked_)
            start_counting(*connection_);
        write_held();
        return;
    }
    if (idle())
        owner_.retire(this);
    else
        ensure_connecting();
}

}  // namespace fedgate::routing
