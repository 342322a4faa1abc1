#include "routing/delivery_queue.hpp"

namespace fedgate::routing {

void bounce_into(bounced& out, protocol::element const& stanza, protocol::stanza_condition condition,
                 std::string const& text)
{
    if (protocol::may_bounce(stanza))
        out.replies.push_back(protocol::make_error_reply(stanza, condition, text));
    else
        ++out.dropped_errors;
}

std::optional<bounced> delivery_queue::push(protocol::element stanza, std::size_t bytes, clock::time_point now)
{
    if (items_.size() >= limits_.max_stanzas || bytes_ + bytes > limits_.max_bytes) {
        bounced refused;
        bounce_into(refused, stanza, protocol::stanza_condition::resource_constraint,
                    "too many stanzas are waiting for this server");
        return refused;
    }
    push_paused(std::move(stanza), bytes, now);
    return std::nullopt;
}

void delivery_queue::push_paused(protocol::element stanza, std::size_t bytes, clock::time_point now)
{
    bytes_ += bytes;
    items_.push_back({std::move(stanza), bytes, now + limits_.delivery_deadline, false});
}

std::optional<queued_stanza> delivery_queue::take_first()
{
    if (items_.empty())
        return std::nullopt;
    auto out = std::move(items_.front());
    bytes_ -= out.bytes;
    items_.pop_front();
    return out;
}

void delivery_queue::put_back(std::deque<queued_stanza> unacknowledged)
{
    for (auto it = unacknowledged.rbegin(); it != unacknowledged.rend(); ++it) {
        bytes_ += it->bytes;
        it->resent = true;
        items_.push_front(std::move(*it));
    }
}

void delivery_queue::bounce_front(bounced& out, delivery_failure const& failure)
{
    auto const& first = items_.front();
    bounce_into(out, first.stanza, failure.condition, failure.text);
    out.after_stream_loss += first.resent ? 1 : 0;
    bytes_ -= first.bytes;
    items_.pop_front();
}

bounced delivery_queue::expire(clock::time_point now, delivery_failure const& failure)
{
    bounced out;
    while (!items_.empty() && items_.front().deadline <= now)
        bounce_front(out, failure);
    return out;
}

bounced delivery_queue::fail_all(delivery_failure const& failure)
{
    bounced out;
    while (!items_.empty())
        bounce_front(out, failure);
    return out;
}

std::optional<clock::time_point> delivery_queue::next_deadline() const
{
    if (items_.empty())
        return std::nullopt;
    return items_.front().deadline;
}

}  // namespace fedgate::routing
