// The router's internal leg in s2s mode ([internal] mode = "s2s", shared/DESIGN.md
// "Internal modes"): the internal server federates with fedgate as with every
// remote domain. Its streams arrive on the internal listener and are negotiated
// with the roles turned round (runtime::internal_domains): fedgate speaks for the
// remote domains there, verifies the internal server's dialback keys with the
// internal server itself, and answers its db:verify for the remote domains with
// the internal leg's secret. What partners send to local users goes on S2S links
// to [internal] host and port, one per (remote domain, local domain) pair.
#include "routing/router.hpp"

#include "conf/socket_address.hpp"
#include "negotiation/wire.hpp"
#include "operations/metric_names.hpp"
#include "routing/outbound_link.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace fedgate::routing {

using network::connection;
namespace metric = operations::metric;

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;

bool router::s2s_internal() const noexcept
{
    return rt_->cfg.internal.mode == conf::internal_settings::link_mode::s2s;
}

void router::accept_internal(asio::ip::tcp::socket socket)
{
    boost::system::error_code ec;
    auto const ip = socket.remote_endpoint(ec).address().to_string();
    if (ec)
        return;
    auto const& allowed = rt_->cfg.internal.allowed_addresses;
    bool const known = std::any_of(allowed.begin(), allowed.end(),
                                   [&](conf::address_range const& r) { return conf::contains(r, ip); });
    if (!known || stopping_ || !s2s_internal()) {
        // Only the internal server may speak here: anyone else could claim to
        // be a local domain's server to the remote domains fedgate speaks for.
        spdlog::warn("internal listener: connection from {} refused: {}", ip,
                     stopping_ ? "shutting down" : "not in [internal] allowed_addresses");
        metrics_.count(metric::connections_refused, {});
        socket.close(ec);
        return;
    }
    auto session = std::make_unique<ng::inbound_session>(ng::inbound_context{.domains = &rt_->internal_domains,
                                                                             .secret = &rt_->internal_dialback,
                                                                             .sasl = rt_->sasl_server.get(),
                                                                             .max_auth_failures = rt_->cfg.limits.auth_failures});
    auto options = s2s_options(rt_->cfg.limits, "internal-in");
    options.observer_executor = executor_;
    // The internal server keeps its streams as long as it likes (as with a
    // component link): an idle one is its business.
    options.idle_timeout = std::chrono::seconds{0};
    auto const* typed = session.get();
    auto c = std::make_shared<connection>(std::move(socket), std::move(session), std::move(options), *rt_->tls,
                                          internal_observer_);
    internal_inbound_.emplace(c.get(), inbound_stream{.c = c, .generation = rt_, .session = typed});
    c->start();
}

void router::on_internal_action(connection& source, ng::action& a)
{
    std::visit(ng::wire::overloaded{
                   [&](ng::authenticated& done) {
                       spdlog::info("{} internal server {} -> {} authenticated by {}", source.id(), done.pair.remote,
                                    done.pair.local, display_name(done.method));
                       metrics_.count(metric::streams_authenticated,
                                      {{"direction", "internal"}, {"method", std::string{metric_name(done.method)}}});
                       if (auto in = internal_inbound_.find(&source); in != internal_inbound_.end())
                           in->second.authenticated.push_back(done.pair);
                       // It is up again, if it was away: what waits for it need
                       // not wait for the links' backoff.
                       for (auto& [pair, link] : internal_links_)
                           link->retry_now();
                   },
                   [&](ng::route_stanza& r) {
                       // The session's pair is the internal leg's (local: the remote
                       // domain); the router's paths speak of (local, remote).
                       std::swap(r.pair.local, r.pair.remote);
                       from_internal(std::move(r), &source);
                   },
                   [&](ng::bounce_stanza& b) { to_internal({b.pair.remote, b.pair.local}, std::move(b.reply), &source); },
                   [&](ng::ask_dialback& ask) {
                       auto in = internal_inbound_.find(&source);
                       if (in == internal_inbound_.end())
                           return;
                       spdlog::info("{} verifying the internal server's dialback key for {} -> {} with it", source.id(),
                                    ask.pair.remote, ask.pair.local);
                       verify_with_authority(in->second.c, ask, true);
                   },
                   [&](ng::discarded& d) { spdlog::info("{} ignored: {}", source.id(), d.what); },
                   [&](auto&) {},
               },
               a);
}

void router::on_internal_closed(connection& source, ng::close_stream const& why)
{
    metrics_.count(metric::stream_closes, {{"direction", "internal"}, {"reason", std::string{ng::metric_name(why.reason)}}});
    auto it = internal_inbound_.find(&source);
    if (it == internal_inbound_.end())
        return;
    // Released later: the connection is still running its last lines.
    asio::post(executor_, [keep = it->second.c, generation = it->second.generation] {});
    internal_inbound_.erase(it);
    check_stopped();
}

outbound_link& router::internal_link_for(ng::domain_pair const& pair)
{
    auto& link = internal_links_[pair];
    if (!link || (link->stopped() && !stopping_)) {
        if (link)
            retired_links_.push_back(std::move(link));
        // The link's own pair is its stream's: from the partner's domain to the local one.
        link = std::make_unique<outbound_link>(*this, ng::domain_pair{pair.remote, pair.local},
                                               ng::outbound_purpose::route, link_leg::internal);
    }
    return *link;
}

void router::stop_internal_leg()
{
    for (auto* map : {&internal_links_, &internal_verifiers_})
        for (auto& [pair, link] : *map)
            link->stop();
    for (auto& [raw, in] : internal_inbound_)
        in.c->close(protocol::stream_error::system_shutdown, ng::close_reason::done, "fedgate is shutting down");
}

bool router::internal_leg_closed() const
{
    if (!internal_inbound_.empty())
        return false;
    for (auto const* map : {&internal_links_, &internal_verifiers_})
        for (auto const& [pair, link] : *map)
            if (link->connected())
                return false;
    return true;
}

}  // namespace fedgate::routing
