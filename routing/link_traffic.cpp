#include "routing/link_traffic.hpp"

#include "network/connection.hpp"
#include "operations/metric_names.hpp"
#include "protocol/serializer.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;

queue_limits queue_limits_of(conf::limit_settings const& l)
{
    return {.max_stanzas = l.queue_stanzas, .max_bytes = l.queue_bytes, .delivery_deadline = l.delivery_deadline};
}

link_traffic::link_traffic(link_owner& owner, queue_limits limits, std::string direction, bool inbound_bytes,
                           std::string domain)
    : owner_{&owner},
      queue_{limits},
      direction_{std::move(direction)},
      inbound_bytes_{inbound_bytes},
      domain_{std::move(domain)}
{
}

std::size_t link_traffic::write(connection& stream, protocol::element const& stanza, connection* source)
{
    if (!bytes_)
        bytes_ = &owner_->byte_counter(inbound_bytes_, domain_);
    auto const written = stream.send_stanza(stanza);
    *bytes_ += written;
    // One branch per stanza when debug is off: nothing is formatted.
    if (spdlog::should_log(spdlog::level::debug)) [[unlikely]]
        spdlog::debug("{} relayed {} {}: {} from='{}' to='{}' id='{}' {} bytes", stream.id(), inbound_bytes_ ? "in" : "out",
                      domain_, stanza.name(), stanza.from(), stanza.to(), stanza.attribute_or_empty("id"), written);
    // Never a stream for itself (a reply on the partner's bidirectional
    // stream): it would stop reading what lets it drain.
    if (source && source != &stream && stream.congested())
        source->hold_reading_for(stream.shared_from_this());
    return written;
}

void link_traffic::hold(protocol::element stanza, std::string const& whose)
{
    auto const bytes = protocol::to_string(stanza).size();
    if (auto refused = queue_.push(std::move(stanza), bytes, clock::now()))
        owner_->deliver_bounces(std::move(*refused), "queue for " + whose + " full");
}

void link_traffic::hold_paused(protocol::element stanza)
{
    auto const bytes = protocol::to_string(stanza).size();
    queue_.push_paused(std::move(stanza), bytes, clock::now());
}

void link_traffic::bounce(protocol::element const& stanza, protocol::stanza_condition condition, std::string const& why)
{
    bounced now;
    bounce_into(now, stanza, condition, why);
    owner_->deliver_bounces(std::move(now), why);
}

void link_traffic::expire(clock::time_point now, delivery_failure const& failure, std::string const& why)
{
    if (queue_.empty())
        return;
    auto expired = queue_.expire(now, failure);
    if (!expired.replies.empty() || expired.dropped_errors > 0)
        send_bounces(std::move(expired), why);
}

void link_traffic::bounce_held(delivery_failure const& failure)
{
    send_bounces(queue_.fail_all(failure), failure.text);
}

void link_traffic::send_bounces(bounced b, std::string_view why)
{
    if (b.after_stream_loss > 0)
        owner_->stats().count(metric::bounced_after_stream_loss,
                              {{"partner", owner_->metric_partner(domain_)}, {"side", direction_ == "out" ? "outbound" : "internal"}},
                              b.after_stream_loss);
    owner_->deliver_bounces(std::move(b), why);
}

void link_traffic::count_close(negotiation::close_stream const& why)
{
    owner_->stats().count(metric::stream_closes,
                          {{"direction", direction_}, {"reason", std::string{negotiation::metric_name(why.reason)}}});
}

}  // namespace fedgate::routing
