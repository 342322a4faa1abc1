#include "routing/router.hpp"

#include "negotiation/inbound_session.hpp"
#include "negotiation/wire.hpp"
#include "operations/metric_names.hpp"
#include "routing/component_link.hpp"
#include "routing/outbound_link.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

namespace fedgate::routing {

using network::connection;
using operations::release_free_memory;
namespace metric = operations::metric;

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;

namespace {

constexpr std::chrono::seconds tick_interval{1};

contacts::commit_wait_limits commit_wait_of(conf::limit_settings const& l)
{
    return {.stanzas = l.commit_wait_stanzas, .bytes = l.commit_wait_bytes};
}

}  // namespace

router::router(asio::any_io_executor executor, std::shared_ptr<runtime> rt,
               std::function<asio::any_io_executor()> stream_loops)
    : executor_{std::move(executor)}, stream_loops_{std::move(stream_loops)}, rt_{std::move(rt)}, contacts_{*rt_->relationships, *this, commit_wait_of(rt_->cfg.limits)}, clock_{executor_}
{
    metrics_.gauge_source([this](std::vector<operations::metrics::sample>& out) { gauges(out); });
    show_known_series();
    partners_.configure(rt_->cfg);
    use_blocklist(rt_->blocklist, rt_->blocklist_stamp);
    resize_unlisted();  // [default_partner] max_domains
}

void router::on_settled(std::function<void()> f)
{
    on_settled_ = std::move(f);
    link_settled();
}

void router::link_settled()
{
    // Asked of the current links themselves: a count kept aside would also
    // count links a reload retired.
    bool const all = std::all_of(components_.begin(), components_.end(),
                                 [](auto const& entry) { return entry.second->settled(); });
    if (all && on_settled_)
        std::exchange(on_settled_, {})();
}

std::string router::reload(std::shared_ptr<runtime> next)
{
    auto const before = partner_domains(rt_->cfg);
    bool const was_open = rt_->cfg.default_partner.has_value();
    rt_ = std::move(next);
    contacts_.set_limits(commit_wait_of(rt_->cfg.limits));
    show_partner_series();  // the new partners'
    partners_.configure(rt_->cfg);  // keeps the known partners' state, forgets the removed ones'
    partners_.check_expiry(*rt_->tls);
    use_blocklist(rt_->blocklist, rt_->blocklist_stamp);
    next_blocklist_check_ = {};  // its refresh_seconds may have changed
    limits_.reset();
    resize_unlisted();
    auto const wanted = component_domains(rt_->cfg);
    for (auto it = components_.begin(); it != components_.end();) {
        if (wanted.contains(it->first)) {
            ++it;
            continue;
        }
        it->second->stop(it->first + " is no longer a federation partner");
        retired_components_.push_back(std::move(it->second));
        it = components_.erase(it);
    }
    for (auto const& d : wanted)
        if (!components_.contains(d)) {
            auto link = std::make_unique<component_link>(*this, d);
            link->start();
            components_.emplace(d, std::move(link));
        }
    // Streams of partners that are gone, and of local domains no longer
    // served, end now; the others keep their generation (and its policy)
    // until they close.
    struct ending {
        protocol::stream_error condition;
        ng::close_reason reason;
        std::string why;
    };
    auto const gone = [&](ng::domain_pair const& pair) -> std::optional<ending> {
        if (rt_->domains.find_partner(pair.remote) == nullptr)
            return ending{protocol::stream_error::policy_violation, ng::close_reason::unknown_partner,
                          pair.remote + " is no longer a federation partner"};
        if (!rt_->domains.is_local(pair.local))
            return ending{protocol::stream_error::host_gone, ng::close_reason::host_unknown,
                          pair.local + " is no longer served here"};
        return std::nullopt;
    };
    for (auto* map : {&links_, &verifiers_})
        for (auto& [pair, link] : *map)
            if (auto const end = gone(pair))
                link->stop(end->condition, end->why);
            else
                link->forgive();
    for (auto& [raw, in] : inbound_) {
        if (auto* lent = borrower_of(*in.c); lent != nullptr && lent->closes_itself(*in.c))
            continue;  // it carries ours and waits for their last count first
        for (auto const& pair : in.authenticated)
            if (auto const end = gone(pair)) {
                in.c->close(end->condition, end->reason, end->why);
                break;
            }
    }
    // The internal leg: its links are kept by (local, remote) as the others; the
    // pairs its streams authenticated are the other way round (the remote domain
    // is the one fedgate speaks for there).
    for (auto* map : {&internal_links_, &internal_verifiers_})
        for (auto& [pair, link] : *map)
            if (auto const end = gone(pair))
                link->stop(protocol::stream_error::host_gone, end->why);
            else
                link->forgive();
    for (auto& [raw, in] : internal_inbound_)
        for (auto const& pair : in.authenticated)
            if (auto const end = gone({pair.remote, pair.local})) {
                in.c->close(protocol::stream_error::host_gone, end->reason, end->why);
                break;
            }
    // Said of the partner domains in either mode (in component mode, each is a link).
    auto const after = partner_domains(rt_->cfg);
    std::vector<std::string> added, removed;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(added));
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(removed));
    auto join = [](std::vector<std::string> const& v) {
        std::string out;
        for (auto const& d : v)
            out += (out.empty() ? "" : ", ") + d;
        return out.empty() ? std::string{"none"} : out;
    };
    bool const open = rt_->cfg.default_partner.has_value();
    return "partner domains added: " + join(added) + "; removed: " + join(removed) +
           (open == was_open ? "" : open ? "; [default_partner] added: unlisted domains federate"
                                         : "; [default_partner] removed: unlisted domains are refused");
}

router::~router() = default;

void router::start()
{
    for (auto const& d : component_domains(rt_->cfg)) {
        auto link = std::make_unique<component_link>(*this, d);
        link->start();
        components_.emplace(d, std::move(link));
    }
    partners_.check_expiry(*rt_->tls);
    tick();
}

void router::tick()
{
    auto const now = clock::now();
    for (auto& [pair, link] : links_)
        link->tick(now);
    for (auto& [domain, link] : components_)
        link->tick(now);
    for (auto& [pair, link] : internal_links_)
        link->tick(now);
    end_bidi_waits();
    if (memory_.quiet(inbound_.size()))
        operations::release_free_memory();
    log_summaries(now);
    refresh_blocklist(now);
    limits_.prune(now);
    if (partners_.expiry_check_due(std::chrono::steady_clock::now()))
        partners_.check_expiry(*rt_->tls);
    std::erase_if(retired_components_, [](auto const& link) { return link->closed(); });
    std::erase_if(retired_links_, [](auto const& link) { return link->idle(); });
    for (auto it = checks_.begin(); it != checks_.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        auto [stream_id, pair] = it->first;
        auto inbound = it->second.inbound.lock();
        it = checks_.erase(it);
        spdlog::warn("dialback verification of {} for {} (stream {}) timed out", pair.remote, pair.local, stream_id);
        metrics_.count(metric::dialback_verifications, {{"result", "timeout"}});
        if (inbound)
            inbound->feed(ng::dialback_answer{pair, stream_id, ng::dialback_outcome::timeout});
    }
    if (stopping_)
        return;
    clock_.expires_after(tick_interval);
    clock_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            tick();
    });
}

// ---- inbound S2S --------------------------------------------------------------

void router::accept(asio::ip::tcp::socket socket, bool direct_tls)
{
    boost::system::error_code ec;
    auto const ip = socket.remote_endpoint(ec).address().to_string();
    if (ec)
        return;
    auto const& limits = rt_->cfg.limits;
    std::string refusal;
    if (stopping_)
        refusal = "shutting down";
    else if (inbound_.size() >= limits.max_inbound_connections)
        refusal = std::to_string(inbound_.size()) + " inbound connections, the configured maximum";
    else if (inbound_per_ip_[ip] >= limits.connections_per_ip)
        refusal = std::to_string(inbound_per_ip_[ip]) + " connections from this address, the configured maximum";
    else if (!limits_.admit_connection(ip, limits.connection_rate_per_ip, clock::now()))
        refusal = "over " + std::to_string(limits.connection_rate_per_ip) + " new connections a second from this address";
    if (!refusal.empty()) {
        spdlog::warn("connection from {} refused: {}", ip, refusal);
        metrics_.count(metric::connections_refused, {});
        socket.close(ec);
        return;
    }
    auto session = std::make_unique<ng::inbound_session>(ng::inbound_context{.domains = &rt_->domains,
                                                                             .secret = &rt_->dialback,
                                                                             .sasl = rt_->sasl_server.get(),
                                                                             .direct_tls = direct_tls,
                                                                             .max_auth_failures = rt_->cfg.limits.auth_failures,
                                                                             .blocklist = blocklist_});
    auto options = s2s_options(rt_->cfg.limits, "in");
    options.tls_first = direct_tls;
    // The listener may have put the socket on another event loop (worker_threads).
    options.observer_executor = executor_;
    auto const* typed = session.get();
    auto c = std::make_shared<connection>(std::move(socket), std::move(session), std::move(options), *rt_->tls, *this);
    ++inbound_per_ip_[ip];
    // The router keeps the stream's generation (not the connection, which may
    // be freed on its own event loop): a generation is freed on this one,
    // where its resolver lives.
    inbound_.emplace(c.get(), inbound_stream{.c = c, .generation = rt_, .session = typed});
    memory_.opened(inbound_.size());
    c->start();
}

void router::on_action(connection& source, ng::action& a)
{
    std::visit(ng::wire::overloaded{
                   [&](ng::authenticated& done) {
                       spdlog::info("{} {} -> {} authenticated by {}", source.id(), done.pair.remote, done.pair.local,
                                    display_name(done.method));
                       metrics_.count(metric::streams_authenticated,
                                      {{"direction", "in"}, {"method", std::string{metric_name(done.method)}}});
                       auto in = inbound_.find(&source);
                       if (in == inbound_.end() || close_if_blocked(source, done.pair.remote))
                           return;
                       in->second.authenticated.push_back(done.pair);
                       if (auto const* partner = rt_->domains.find_partner(done.pair.remote))
                           use_unlisted(*partner, done.pair.remote);
                       // Up once per stream: further pairs on it are the same partner's.
                       if (in->second.partner_up.empty()) {
                           in->second.partner_up = done.pair.remote;
                           partners_.authenticated(done.pair.remote, operations::partner_direction::inbound, source,
                                                   done.method);
                       }
                   },
                   [&](ng::route_stanza& r) { from_remote(std::move(r), source); },
                   [&](ng::bidi_ready& ready) {
                       if (auto in = inbound_.find(&source); in != inbound_.end())
                           in->second.awaiting_bidi_decision = true;
                       lend(source, ready);
                   },
                   [&](ng::bidi_counting& go) {
                       if (auto in = inbound_.find(&source); in != inbound_.end())
                           in->second.awaiting_bidi_decision = false;
                       may_write_on(source, go.counted);
                   },
                   [&](ng::acknowledged& ack) { acknowledged_on(source, ack.handled); },
                   [&](ng::bounce_stanza& b) { to_remote(b.pair, std::move(b.reply), &source); },
                   [&](ng::ask_dialback& ask) { ask_dialback(source, ask); },
                   [&](ng::discarded& d) { spdlog::info("{} ignored: {}", source.id(), d.what); },
                   [&](auto&) {},
               },
               a);
}

void router::on_closed(connection& source, ng::close_stream const& why)
{
    metrics_.count(metric::stream_closes, {{"direction", "in"}, {"reason", std::string{ng::metric_name(why.reason)}}});
    if (why.reason == ng::close_reason::blocked)
        metrics_.count(metric::blocked, {{"direction", "in"}});
    auto it = inbound_.find(&source);
    if (it == inbound_.end())
        return;
    auto const& ip = source.io().peer_ip();
    if (auto count = inbound_per_ip_.find(ip); count != inbound_per_ip_.end() && --count->second == 0)
        inbound_per_ip_.erase(count);
    if (!it->second.partner_up.empty())
        partners_.stream_down(it->second.partner_up, operations::partner_direction::inbound);
    else if (auto const& peer = it->second.session->peer_domain(); !peer.empty() && !it->second.session->asked_verify())
        partners_.failed(peer, operations::partner_direction::inbound, source, why);  // a verifier's stream is no attempt
    if (it->second.lent_to)
        release_lent(source);
    // Released later: the connection is still running its last lines.
    asio::post(executor_, [keep = it->second.c, generation = it->second.generation] {});
    inbound_.erase(it);
    if (memory_.closed(inbound_.size()))
        asio::post(executor_, [] { release_free_memory(); });  // after the stream above is freed
    check_stopped();
}

// ---- dialback -------------------------------------------------------------------

void router::ask_dialback(connection& source, ng::ask_dialback const& ask)
{
    auto it = inbound_.find(&source);
    // A stream accepted before the list changed may ask for a domain it now
    // blocks: no connection to its authoritative server.
    if (it == inbound_.end() || close_if_blocked(source, ask.pair.remote))
        return;
    spdlog::info("{} verifying the dialback key of {} for {} with its authoritative server", source.id(),
                 ask.pair.remote, ask.pair.local);
    verify_with_authority(it->second.c, ask, false);
}

void router::verify_with_authority(std::shared_ptr<connection> const& source, ng::ask_dialback const& ask, bool internal)
{
    checks_[{ask.stream_id, ask.pair}] = {source, clock::now() + rt_->cfg.limits.negotiation_timeout};
    ng::verify_request request{ask.pair, ask.stream_id, ask.key};
    auto& links = internal ? internal_links_ : links_;
    // The internal leg's links are kept by (local, remote) as the others; its
    // requests come the other way round.
    auto const key = internal ? ng::domain_pair{ask.pair.remote, ask.pair.local} : ask.pair;
    // XEP-0220 §2.1.2: on our stream to that domain when there is one, else on
    // a stream opened for this purpose; never on the partner's own stream that
    // a link may be using (XEP-0288 §2.2: not where the request came).
    if (auto link = links.find(key); link != links.end() && link->second->own_stream_up()) {
        link->second->verify(std::move(request));
        return;
    }
    auto& verifier = (internal ? internal_verifiers_ : verifiers_)[key];
    if (!verifier)
        verifier = std::make_unique<outbound_link>(*this, ask.pair, ng::outbound_purpose::verify_only,
                                                   internal ? link_leg::internal : link_leg::partner);
    verifier->verify(std::move(request));
}

void router::dialback_answered(ng::verify_request const& request, ng::dialback_outcome outcome)
{
    auto it = checks_.find({request.stream_id, request.pair});
    if (it == checks_.end())
        return;  // answered late, after the timeout
    auto inbound = it->second.inbound.lock();
    checks_.erase(it);
    spdlog::info("dialback verification of {} for {}: {}", request.pair.remote, request.pair.local,
                 ng::outcome_name(outcome));
    metrics_.count(metric::dialback_verifications, {{"result", std::string{ng::outcome_name(outcome)}}});
    if (inbound)
        inbound->feed(ng::dialback_answer{request.pair, request.stream_id, outcome});
}

// ---- stanzas --------------------------------------------------------------------

outbound_link& router::link_for(ng::domain_pair const& pair)
{
    auto& link = links_[pair];
    // Never a fresh link at shutdown: it would hold what it is given and never
    // connect (refuse_out bounces what comes for a stopped link then).
    if (!link || (link->stopped() && !stopping_)) {
        if (link)  // a partner removed, then added back: a fresh link
            retired_links_.push_back(std::move(link));
        link = std::make_unique<outbound_link>(*this, pair, ng::outbound_purpose::route);
    }
    return *link;
}

void router::retire(outbound_link* link)
{
    // Deferred: the link is usually on the call stack that asks.
    asio::post(executor_, [this, link] {
        for (auto* map : {&links_, &verifiers_, &internal_links_, &internal_verifiers_})
            for (auto it = map->begin(); it != map->end(); ++it)
                if (it->second.get() == link && link->idle()) {
                    map->erase(it);
                    break;
                }
        check_stopped();
    });
}

}  // namespace fedgate::routing
