#include "routing/component_link.hpp"
#include "routing/internal_server.hpp"

#include "negotiation/component_session.hpp"
#include "network/connector.hpp"
#include "network/log_failure.hpp"
#include "operations/metric_names.hpp"
#include "protocol/serializer.hpp"
#include "routing/runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connect_first;
using network::connect_result;
using network::connection;
using network::log_failure;
using network::manual_gate;
namespace metric = operations::metric;

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;
using protocol::stanza_condition;

namespace {
/// At shutdown, how long a last answer to a ping may take before the link closes anyway.
constexpr std::chrono::seconds last_answer_wait{2};

/// Standing by while another connection holds the component (another instance
/// of a deployment): the takeover after that one is gone is what matters, and a
/// connection next door each second costs nothing.
constexpr std::chrono::milliseconds standby_retry_min{500};
constexpr std::chrono::milliseconds standby_retry_max{1500};

/// A domain of the internal server, for the pings' `to`.
std::string server_domain(conf::config const& cfg)
{
    return cfg.local_domains.empty() ? std::string{} : cfg.local_domains.front().name;
}
}  // namespace

component_link::component_link(link_owner& owner, std::string domain)
    : owner_{owner},
      domain_{std::move(domain)},
      traffic_{owner, queue_limits_of(owner.generation()->cfg.limits), "component", true, domain_},
      retry_{internal_server_retry},
      window_{domain_, server_domain(owner.generation()->cfg),
              {.ping_every = owner.generation()->cfg.limits.internal_ping_every,
               .max_in_flight = owner.generation()->cfg.limits.internal_max_unacknowledged}},
      last_answer_timer_{owner.executor()},
      retry_timer_{owner.executor()},
      gate_{std::make_shared<manual_gate>("the internal server is not reachable for " + domain_)}
{
}

component_link::~component_link()
{
    *alive_ = false;
    gate_->open();
}

void component_link::start()
{
    if (connecting_ || connection_ || stopped_)
        return;
    connecting_ = true;
    asio::co_spawn(owner_.executor(), connect(), log_failure("link " + domain_));
}

asio::awaitable<void> component_link::connect()
{
    auto alive = alive_;
    auto const generation = owner_.generation();  // kept alive across the awaits
    auto const& in = generation->cfg.internal;
    auto [candidates, ec] = co_await find_internal_server(owner_.executor(), in);
    if (!*alive)
        co_return;
    connect_result attempt;
    if (!candidates.empty()) {
        auto executor = owner_.executor();  // named: see connection::serve() on GCC 12
        attempt = co_await connect_first(executor, std::move(candidates));
    }
    if (!*alive)
        co_return;
    connecting_ = false;
    if (stopped_)
        co_return;  // abandoned: the socket, if any, closes with `attempt`
    if (!attempt.socket) {
        // One warning per outage; the retries in between are debug lines.
        auto const level = retry_.failures() == 0 ? spdlog::level::warn : spdlog::level::debug;
        spdlog::log(level, "link {}: cannot reach the internal server: {} (retrying)", domain_,
                    ec ? in.host + " port " + std::to_string(in.port) + ": " + ec.message() : attempt.error);
        settle();
        reconnect_later();
        co_return;
    }
    auto& rt = *generation;
    auto session = std::make_unique<ng::component_session>(
        ng::component_context{.domain = domain_, .secret = rt.component_secret, .domains = &rt.domains});
    auto options = s2s_options(rt.cfg.limits, "link");
    options.content_ns = protocol::ns::component;
    options.idle_timeout = std::chrono::seconds{0};
    options.keepalive = rt.cfg.limits.keepalive;
    if (standing_by_)
        options.lifecycle_level = spdlog::level::debug;
    connection_ = std::make_shared<connection>(std::move(*attempt.socket), std::move(session), std::move(options),
                                               *rt.tls, *this);
    connection_->keep(generation);
    spdlog::log(standing_by_ ? spdlog::level::debug : spdlog::level::info, "{} component link for {} to {} port {}",
                connection_->id(), domain_, in.host, in.port);
    connection_->start();
}

void component_link::settle()
{
    if (!std::exchange(settled_, true))
        owner_.link_settled();
}

void component_link::reconnect_later()
{
    if (stopped_ || owner_.stopping())
        return;
    std::uniform_int_distribution<long long> standby{standby_retry_min.count(), standby_retry_max.count()};
    retry_timer_.expires_after(standing_by_ ? std::chrono::milliseconds{standby(standby_jitter_)} : retry_.next());
    retry_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (*alive && !ec)
            start();
    });
}

void component_link::on_action(connection& source, ng::action& a)
{
    if (std::holds_alternative<ng::link_ready>(a)) {
        spdlog::info("{} component link for {} ready{}", source.id(), domain_,
                     traffic_.queue().empty() ? std::string{}
                                              : "; sending the " + std::to_string(traffic_.queue().size()) + " stanzas held");
        if (std::exchange(standing_by_, false))
            spdlog::info("link {}: the internal server took this instance's connection for {}: no longer standing by",
                         domain_, domain_);
        ready_ = true;
        outage_expired_ = false;
        retry_.reset();
        settle();
        write_held();  // then the paused partner streams read again
    } else if (auto* r = std::get_if<ng::route_stanza>(&a)) {
        if (window_.answered(r->stanza)) {
            forget_confirmed();
            if (close_after_answer_) {
                if (window_.in_flight() == 0)
                    close_stopped();
                else if (auto ping = window_.now())
                    connection_->send_stanza(*ping);
                return;
            }
            write_held();
            if (auto ping = window_.due())
                connection_->send_stanza(*ping);
            return;
        }
        if (stopped_ && !ready()) {
            // We closed the link: nothing could answer this stanza on it any
            // more, not even a bounce. It is not taken, and said so.
            ++not_taken_after_close_;
            return;
        }
        owner_.from_internal(std::move(*r), &source);
    } else if (auto* b = std::get_if<ng::bounce_stanza>(&a)) {
        // Back to the internal sender, on the stream it came from: a sender that
        // does not read its bounces stops being read.
        source.send_stanza(b->reply);
        owner_.bounced_by_link(b->reply, "a stanza the internal server sent on the link for " + domain_ +
                                             " was not for " + domain_ + " (a route on the internal server points "
                                             "other domains at this component: ejabberd's global_routes?)");
        if (connection_ && connection_->congested())
            source.hold_reading_for(connection_);
    } else if (auto const* ignored = std::get_if<ng::discarded>(&a)) {
        spdlog::info("{} ignored: {}", source.id(), ignored->what);
    }
}

void component_link::on_closed(connection&, ng::close_stream const& why)
{
    traffic_.count_close(why);
    bool const was_ready = std::exchange(ready_, false);
    if (was_ready)
        went_down();
    take_back_unconfirmed();
    if (auto const not_taken = std::exchange(not_taken_after_close_, 0); not_taken > 0)
        spdlog::warn("link {}: {} stanzas the internal server sent after fedgate had closed the link were not "
                     "taken (the server had fedgate's </stream:stream>; it may bounce them, XEP-0114 cannot tell it)",
                     domain_, not_taken);
    connection_.reset();
    bool const conflict = why.reason == ng::close_reason::component_conflict;
    if (conflict && !standing_by_)
        spdlog::info("link {}: standing by: {} (another fedgate instance?); trying again every second, each try at "
                     "debug level",
                     domain_, why.detail);
    else if (!conflict && standing_by_)
        spdlog::warn("link {}: no longer standing by: {}: {}", domain_, ng::metric_name(why.reason), why.detail);
    else if (!was_ready && !conflict && !stopped_ && retry_.failures() == 0)
        // Refused before it was up (an unknown component, a wrong secret): a
        // warning once per outage; the retries say it again at info level.
        spdlog::warn("link {}: the internal server refused the link: {} (retrying)", domain_, why.detail);
    standing_by_ = conflict;
    settle();
    if (stopped_)
        owner_.check_stopped();
    else
        reconnect_later();
}

void component_link::write(queued_stanza item, connection* source)
{
    item.bytes = traffic_.write(*connection_, item.stanza, source);
    if (item.resent)
        owner_.stats().count(metric::stanzas_resent, {{"partner", domain_}, {"side", "internal"}});
    unconfirmed_.push_back({std::move(item), source ? source->weak_from_this() : std::weak_ptr<connection>{}});
    if (unconfirmed_.size() > owner_.generation()->cfg.limits.internal_max_unacknowledged)
        forget_oldest_unconfirmed();  // a server that answers no probe: only counted, below
    if (auto ping = window_.written())
        connection_->send_stanza(*ping);
}

void component_link::forget_confirmed()
{
    while (unconfirmed_.size() > window_.in_flight())
        forget_oldest_unconfirmed();
}

void component_link::forget_oldest_unconfirmed()
{
    auto& oldest = unconfirmed_.front();
    if (auto stream = oldest.read_on.lock())
        stream->give_back(std::move(oldest.item.stanza));
    unconfirmed_.pop_front();
}

void component_link::take_back_unconfirmed()
{
    bool const answering = window_.answering();
    auto const written = window_.lost();
    std::deque<queued_stanza> kept;
    for (auto& each : std::exchange(unconfirmed_, {}))
        kept.push_back(std::move(each.item));
    std::uint64_t sent_again = 0;
    if (!kept.empty() && !stopped_) {
        // The server may have handled some of them: at least once, as on a
        // partner's stream with XEP-0198.
        sent_again = kept.size();
        spdlog::info("link {}: {} stanzas written since the internal server's last answer go again on the next "
                     "link (it may have handled some: at least once)",
                     domain_, sent_again);
        traffic_.queue().put_back(std::move(kept));
    }
    if (auto const lost = written - std::min<std::uint64_t>(written, sent_again); lost > 0) {
        // At shutdown, or beyond what was kept: say how many may be gone.
        spdlog::warn("link {}: {} stanzas written since {} are possibly lost", domain_, lost,
                     answering ? "the internal server's last answer"
                               : "the link came up (the internal server answered no ping)");
        owner_.stats().count(metric::stanzas_possibly_lost, {{"partner", domain_}}, lost);
    }
}

void component_link::write_held()
{
    while (ready() && !window_.full())
        if (auto item = traffic_.queue().take_first())
            write(std::move(*item));
        else
            break;
    if (traffic_.queue().empty())
        gate_->open();
}

void component_link::went_down()
{
    down_since_ = clock::now();
    outage_expired_ = false;
}

void component_link::deliver(protocol::element stanza, connection* source)
{
    if (ready() && traffic_.queue().empty() && !window_.full()) {
        auto const deadline = clock::now() + owner_.generation()->cfg.limits.delivery_deadline;
        write({std::move(stanza), 0, deadline, false}, source);
        return;
    }
    if (!ready() && (stopped_ || outage_expired_)) {
        auto const why = stopped_ ? stop_reason_
                                  : "the internal server of " + domain_ + " is not reachable";
        traffic_.bounce(stanza, stopped_ ? stanza_condition::service_unavailable : stanza_condition::remote_server_timeout,
                        why);
        return;
    }
    if (source) {
        // The partner's stanzas wait in its own queue, not in ours: its stream
        // is read no more, and the rest of what it had sent is held.
        traffic_.hold_paused(std::move(stanza));
        gate_->close();
        source->hold_reading_for(gate_);
        return;
    }
    traffic_.hold(std::move(stanza), "the internal server");
}

void component_link::tick(clock::time_point now)
{
    if (ready()) {
        bool const disco_before = window_.using_disco();
        if (auto ping = window_.tick())
            connection_->send_stanza(*ping);
        if (window_.using_disco() && !disco_before)
            spdlog::info("link {}: the internal server does not answer XEP-0199 pings (RFC 6120 §8.2.3 says it "
                         "must); asking it disco#info instead to learn what it has received",
                         domain_);
    }
    if (!ready() && !stopped_ && !outage_expired_ && now >= down_since_ + owner_.generation()->cfg.limits.delivery_deadline) {
        // Waiting longer would only delay the same answer: what comes now is
        // bounced at once until the link is back.
        outage_expired_ = true;
        spdlog::warn("link {}: the internal server has been {} for {} s; stanzas for it are bounced until the link "
                     "is back",
                     domain_, standing_by_ ? "taken by another connection for this component" : "unreachable",
                     std::chrono::duration_cast<std::chrono::seconds>(now - down_since_).count());
        gate_->open();
    }
    if (traffic_.queue().empty())
        return;
    traffic_.expire(now, {stanza_condition::remote_server_timeout, true, "the internal server of this domain is not reachable"},
                    "internal server unreachable for " + domain_);
    // A server that is up but confirms nothing for the delivery deadline: what
    // waited is bounced above, and the paused streams may send what is next.
    if (traffic_.queue().empty() && ready())
        gate_->open();
}

void component_link::bounce_held(std::string const& why)
{
    traffic_.bounce_held({stanza_condition::service_unavailable, false, why});
}

void component_link::stop(std::string why)
{
    stopped_ = true;
    stop_reason_ = std::move(why);
    retry_timer_.cancel();
    gate_->open();
    bounce_held(stop_reason_);
    if (ready() && window_.in_flight() > 0) {
        // What was written may not have been handled yet: ask, and close when
        // the answer covers it, rather than count it as possibly lost. Also on
        // a link that has not answered yet (new after a restart, say): a
        // server that never answers costs the wait below, once.
        close_after_answer_ = true;
        if (auto ping = window_.now())
            connection_->send_stanza(*ping);
        last_answer_timer_.expires_after(last_answer_wait);
        last_answer_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
            if (*alive && !ec)
                close_stopped();
        });
        return;
    }
    close_stopped();
}

void component_link::close_stopped()
{
    close_after_answer_ = false;
    last_answer_timer_.cancel();
    if (connection_)
        connection_->close(std::nullopt, ng::close_reason::done, stop_reason_);
}

}  // namespace fedgate::routing
