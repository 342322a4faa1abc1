#include "routing/outbound_link.hpp"

#include "negotiation/stream_management.hpp"
#include "operations/metric_names.hpp"
#include "protocol/serializer.hpp"
#include "routing/partner_watch.hpp"
#include "routing/runtime.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;
using protocol::stanza_condition;

namespace {

/// What a verification that could not even reach the authoritative server
/// tells the inbound session.
/// How long a stopped link waits for the peer to acknowledge what it was sent
/// (XEP-0198) before it closes the stream: well inside the shutdown's 10 s.
constexpr std::chrono::seconds last_acknowledgement_wait{2};

ng::dialback_outcome outcome_of(delivery_failure const& f)
{
    if (f.condition == stanza_condition::remote_server_timeout)
        return ng::dialback_outcome::timeout;
    return f.condition == stanza_condition::remote_server_not_found ? ng::dialback_outcome::not_found
                                                                      : ng::dialback_outcome::unreachable;
}

}  // namespace

outbound_link::outbound_link(link_owner& owner, ng::domain_pair pair, ng::outbound_purpose purpose, link_leg leg)
    : owner_{owner},
      pair_{std::move(pair)},
      purpose_{purpose},
      leg_{leg},
      traffic_{owner, queue_limits_of(owner.generation()->cfg.limits), leg == link_leg::internal ? "internal" : "out",
               leg == link_leg::internal, partner_domain()},
      retry_{leg == link_leg::internal ? internal_server_retry : retry_limits{}},
      retry_timer_{owner.executor()},
      gate_{std::make_shared<network::manual_gate>(
          leg == link_leg::internal ? "the internal server is away, or has not acknowledged what it was sent"
                                    : pair_.remote + " has not acknowledged what it was sent")},
      last_ack_timer_{owner.executor()}
{
}

outbound_link::~outbound_link()
{
    *alive_ = false;
    gate_->open();
}

bool outbound_link::idle() const noexcept
{
    return !connection_ && !adopted_ && !connecting_ && !waiting_to_retry_ && traffic_.queue().empty() &&
           verifies_.empty();
}

void outbound_link::deliver(protocol::element stanza, connection* source)
{
    if (stopped_) {
        // A stopped link only closes: it would hold this and never connect.
        traffic_.bounce(stanza, stanza_condition::service_unavailable, "the stream to " + pair_.remote + " is closing");
        return;
    }
    auto* const stream = carrier();  // once per stanza: it asks the session
    if (stream && traffic_.queue().empty() && !unacked_) {
        traffic_.write(*stream, stanza, source);
        return;
    }
    if (stream) {
        auto const deadline = clock::now() + owner_.generation()->cfg.limits.delivery_deadline;
        if (traffic_.queue().empty() && !window_full()) {
            send({std::move(stanza), 0, deadline, false}, source);
            return;
        }
        // In order behind what waits: stanzas a stream that ended took back,
        // or more than the peer may leave unacknowledged; the sender pauses
        // until the peer answers, unless it is the stream those answers come
        // on (a reply of ours to the partner's stream, XEP-0288).
        traffic_.hold_paused(std::move(stanza));
        if (window_full() && source && source != stream) {
            gate_->close();
            source->hold_reading_for(gate_);
        }
        write_held();
        return;
    }
    if (refusing()) {
        traffic_.bounce(stanza, last_failure_->condition, last_failure_->text);
        return;
    }
    traffic_.hold(std::move(stanza), pair_.remote);
    if (leg_ == link_leg::internal && source) {
        // As a component link does: the partner's stream waits while the
        // internal server is away, so that its stanzas wait in the partner's
        // queue rather than fill ours (until the delivery deadline bounces
        // what waits here, which opens the gate).
        gate_->close();
        source->hold_reading_for(gate_);
    }
    ensure_connecting();
}

void outbound_link::verify(ng::verify_request request)
{
    if (connection_ && !connection_->closing()) {
        connection_->feed(request);
        return;
    }
    verifies_.push_back(std::move(request));
    ensure_connecting();
}

void outbound_link::on_action(connection& source, ng::action& a)
{
    if (auto const* done = std::get_if<ng::authenticated>(&a)) {
        spdlog::info("{} {} -> {} authenticated by {}{}{}", source.id(), done->pair.local, done->pair.remote,
                     display_name(done->method), done->stream_management ? ", with stream management" : "",
                     done->bidi ? ", bidirectional (XEP-0288): it carries " + pair_.remote + "'s stanzas too" : "");
        authenticated_ = true;
        stream_management_ = done->stream_management;
        if (watched())
            owner_.partners().authenticated(pair_.remote, operations::partner_direction::outbound, source,
                                            done->method);
        owner_.stats().count(metric::streams_authenticated,
                              {{"direction", "out"}, {"method", std::string{metric_name(done->method)}}});
        if (done->bidi)
            owner_.stats().count(metric::bidi_streams, {{"direction", "out"}});
        retry_.reset();
        last_failure_.reset();
        if (adopted_)
            // The partner's stream came first and carries ours; this one stays
            // for the partner's stanzas (it may have lent it to its link in
            // turn: both sides opened at once), and takes over if that ends.
            return;
        if (done->stream_management)
            start_counting(source);
        write_held();
    } else if (auto const* ack = std::get_if<ng::acknowledged>(&a)) {
        acknowledged(source, ack->handled);
    } else if (auto* theirs = std::get_if<ng::route_stanza>(&a)) {
        owner_.from_partner(std::move(*theirs), source);  // XEP-0288
    } else if (auto* bounce = std::get_if<ng::bounce_stanza>(&a)) {
        owner_.to_remote(bounce->pair, std::move(bounce->reply), &source);
    } else if (auto const* answer = std::get_if<ng::dialback_verified>(&a)) {
        owner_.dialback_answered(answer->request, answer->outcome);
    } else if (auto const* ignored = std::get_if<ng::discarded>(&a)) {
        spdlog::info("{} ignored: {}", source.id(), ignored->what);
    }
}

void outbound_link::send(queued_stanza item, connection* source)
{
    auto& stream = *carrier();
    item.bytes = traffic_.write(stream, item.stanza, source);
    if (item.resent)
        owner_.stats().count(metric::stanzas_resent,
                             {{"partner", owner_.metric_partner(partner_domain())}, {"side", leg_ == link_leg::internal ? "internal" : "outbound"}});
    if (unacked_ && unacked_->written(std::move(item)))
        stream.send_stanza(ng::sm::request());
}

void outbound_link::write_held()
{
    while (up() && !window_full())
        if (auto item = traffic_.queue().take_first())
            send(std::move(*item), nullptr);
        else
            break;
    if (traffic_.queue().empty())
        gate_->open();
}

void outbound_link::on_closed(connection& source, ng::close_stream const& why)
{
    traffic_.count_close(why);
    bool const was_up = std::exchange(authenticated_, false);
    if (watched()) {
        if (was_up)
            owner_.partners().stream_down(pair_.remote, operations::partner_direction::outbound);
        else if (!stopped_)
            owner_.partners().failed(pair_.remote, operations::partner_direction::outbound, source, why);
    }
    take_back_unacknowledged(source);
    connection_.reset();
    stream_management_ = false;
    // Released after this call, as the connection is: it runs its last lines.
    asio::post(owner_.executor(), [keep = std::exchange(stream_generation_, nullptr)] {});
    if (up())
        write_held();  // the partner's stream carries ours (XEP-0288): what came back goes at once
    if (stopped_) {
        if (idle())
            owner_.retire(this);
        return;
    }
    if (was_up || adopted_ || purpose_ == ng::outbound_purpose::verify_only) {
        // An established stream may end (idle, the peer restarting), a verifier
        // when it has answered: what arrived meanwhile gets a new stream, and a
        // failure then goes through the backoff. One the partner's stream made
        // unneeded ends quietly.
        if (idle())
            owner_.retire(this);
        else
            ensure_connecting();
        return;
    }
    failed(classify(why.reason, pair_.remote + ": " + why.detail));
}

void outbound_link::failed(delivery_failure failure)
{
    if (adopted_ && !stopped_) {
        // A stream of our own failed while the partner's carries ours: nothing
        // waits for ours, and nothing is refused.
        spdlog::info("link {} -> {}: a stream of our own failed ({}); {}'s stream carries ours", pair_.local,
                     pair_.remote, failure.text, pair_.remote);
        return;
    }
    // Logged once per cause: the same failure again (each attempt of the
    // schedule) is a debug line.
    bool const repeated = last_failure_ && last_failure_->text == failure.text;
    spdlog::log(repeated ? spdlog::level::debug : spdlog::level::warn, "link {} -> {} failed: {}{}", pair_.local,
                pair_.remote, failure.text, failure.retry && !traffic_.queue().empty() ? " (will retry)" : "");
    last_failure_ = failure;
    for (auto& v : std::exchange(verifies_, {}))
        owner_.dialback_answered(v, outcome_of(failure));
    if (!failure.retry || stopped_)
        traffic_.bounce_held(failure);
    if (traffic_.queue().empty())
        gate_->open();
    if (stopped_ || purpose_ == ng::outbound_purpose::verify_only || (failure.retry && traffic_.queue().empty())) {
        owner_.retire(this);
        return;
    }
    // A failure that retrying will not cure keeps the link, and its schedule,
    // until the next attempt is due: stanzas meanwhile are bounced at once with
    // the same cause, so a flood of them (bounces of bounces' senders, a busy
    // user) costs no DNS query or connection each (issue 16).
    waiting_to_retry_ = true;
    auto delay = retry_.next();
    // At most hold_down_seconds after a failure that retrying does not cure
    // (NXDOMAIN, a refused certificate or policy): the partner may have fixed
    // it, and a user should not wait the reconnection cap (10 min) to find out.
    if (!failure.retry)
        delay = std::min(delay, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    owner_.generation()->cfg.limits.hold_down));
    spdlog::log(repeated ? spdlog::level::debug : spdlog::level::info, "link {} -> {}: next attempt in {} ms{}",
                pair_.local, pair_.remote, delay.count(),
                failure.retry ? "" : "; until then its stanzas are bounced at once");
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (!*alive)
            return;
        waiting_to_retry_ = false;
        bool const due = !ec || std::exchange(retry_at_once_, false);
        if (due && (!traffic_.queue().empty() || !verifies_.empty()))
            ensure_connecting();
        // Idle after a failure that retrying does not cure: the link stays, with
        // its schedule, and the next stanza makes the next attempt.
        else if (idle() && (stopped_ || !last_failure_ || last_failure_->retry))
            owner_.retire(this);
    });
}

bool outbound_link::refusing() const noexcept
{
    return waiting_to_retry_ && last_failure_ && !last_failure_->retry;
}

void outbound_link::forgive()
{
    retry_.reset();
    if (!refusing())
        return;
    retry_timer_.cancel();  // the handler sees the cancel: waiting ends, nothing is attempted yet
}

void outbound_link::retry_now()
{
    retry_.reset();
    if (!waiting_to_retry_ || retry_at_once_)
        return;
    retry_at_once_ = true;
    retry_timer_.cancel();  // the handler attempts, if anything waits
}

void outbound_link::tick(clock::time_point now)
{
    if (up() && unacked_ && unacked_->request_due(true))
        carrier()->send_stanza(ng::sm::request());
    if (traffic_.queue().empty())
        return;
    auto failure = last_failure_.value_or(delivery_failure{stanza_condition::remote_server_timeout, true,
                                                           "no stream to " + pair_.remote + " within the delivery deadline"});
    if (leg_ == link_leg::internal && failure.retry)
        // The sender's "remote server" is the local user's: it did not answer
        // in time, whatever stopped fedgate's stream to it (as with a component link).
        failure = {stanza_condition::remote_server_timeout, true,
                   "the internal server was not reachable within the delivery deadline (" + failure.text + ")"};
    traffic_.expire(now, failure, failure.text);
    if (traffic_.queue().empty())
        gate_->open();  // nothing left that its feeders wait for
}

void outbound_link::stop(protocol::stream_error condition, std::string const& why, stanza_condition bounce)
{
    stopped_ = true;
    retry_timer_.cancel();
    traffic_.bounce_held({bounce, false, why});
    gate_->open();
    for (auto& v : std::exchange(verifies_, {}))
        owner_.dialback_answered(v, ng::dialback_outcome::timeout);
    if (up() && unacked_ && !unacked_->empty()) {
        // XEP-0198: what was written may have arrived; ask, and close when the
        // answer says so, rather than count it as possibly lost.
        close_after_ack_.emplace(condition, why);
        if (unacked_->request_due(true))
            carrier()->send_stanza(ng::sm::request());
        last_ack_timer_.expires_after(last_acknowledgement_wait);
        last_ack_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
            if (*alive && !ec)
                close_stopped();
        });
        return;
    }
    if (adopted_)
        adopted_->close(condition, ng::close_reason::done, why);
    if (connection_)
        connection_->close(condition, ng::close_reason::done, why);
    else if (!connecting_ && !waiting_to_retry_ && !adopted_)
        owner_.retire(this);
}

}  // namespace fedgate::routing
