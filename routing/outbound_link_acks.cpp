// outbound_link (outbound_link.hpp): the link's side of XEP-0198 stream
// management. What a stream writes stays in unacked_stanzas until the peer's
// <a/> covers it; the count belongs to one stream (counted_on_), the one that
// carries ours; when that stream ends, what it did not acknowledge goes back to
// the head of the queue, or, at shutdown, is reported as possibly lost.
#include "network/connection.hpp"
#include "negotiation/stream_management.hpp"
#include "operations/metric_names.hpp"
#include "routing/outbound_link.hpp"
#include "routing/runtime.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;
namespace ng = fedgate::negotiation;

void outbound_link::start_counting(connection& stream)
{
    auto const& limits = owner_.generation()->cfg.limits;
    unacked_.emplace(ack_request_settings{.request_every = limits.partner_ack_request_every,
                                          .max_unacknowledged = limits.partner_max_unacknowledged});
    counted_on_ = &stream;
}

void outbound_link::acknowledged(connection& source, std::uint32_t handled)
{
    if (!unacked_ || counted_on_ != &source)
        return;
    if (!unacked_->acknowledged(handled)) {
        // XEP-0198 §6; what it did not acknowledge is sent again on the next stream.
        source.close(protocol::stream_error::undefined_condition, ng::close_reason::bad_input,
                     pair_.remote + " acknowledged " + std::to_string(handled) + " stanzas, more than were sent");
        return;
    }
    write_held();
    if (close_after_ack_ && unacked_->empty()) {
        last_ack_timer_.cancel();
        close_stopped();
        return;
    }
    // Stopping, the link asks for whatever is left after each answer: the
    // request that answer closed may have been sent before the tail was
    // written, and the clock that would ask for a quiet tail no longer runs.
    if (up() && unacked_->request_due(close_after_ack_.has_value()))
        source.send_stanza(ng::sm::request());
}

void outbound_link::close_stopped()
{
    if (!close_after_ack_)
        return;
    auto [condition, why] = *std::exchange(close_after_ack_, std::nullopt);
    for (auto* stream : {connection_.get(), adopted_.get()})
        if (stream)
            stream->close(condition, ng::close_reason::done, why);
}

void outbound_link::take_back_unacknowledged(connection const& ended)
{
    if (!unacked_ || counted_on_ != &ended)
        return;
    auto lost = unacked_->lost();
    unacked_.reset();
    counted_on_ = nullptr;
    gate_->open();  // what comes next waits for a stream under the queue's usual bounds
    if (lost.empty())
        return;
    if (stopped_) {
        spdlog::warn("link {} -> {}: {} stanzas were not acknowledged when the stream closed at shutdown; "
                     "they are possibly lost",
                     pair_.local, pair_.remote, lost.size());
        owner_.stats().count(metric::stanzas_possibly_lost, {{"partner", owner_.metric_partner(partner_domain())}}, lost.size());
        return;
    }
    spdlog::info("link {} -> {}: {} stanzas were not acknowledged before the stream ended; they go again "
                 "on the next stream",
                 pair_.local, pair_.remote, lost.size());
    traffic_.queue().put_back(std::move(lost));
}

}  // namespace fedgate::routing
