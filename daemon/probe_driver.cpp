#include "daemon/probe_driver.hpp"

#include "daemon/probe_session.hpp"
#include "dns/error.hpp"
#include "negotiation/x509_certificate_details.hpp"
#include "network/connector.hpp"
#include "probe/explain.hpp"
#include "probe/render.hpp"
#include "protocol/domain_name.hpp"
#include "routing/runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace fedgate::daemon {

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;

namespace {

enum exit_status : int { negotiable = 0, not_negotiable = 1, usage = 2 };

probe::srv_answer srv_of(std::string name, dns::answer const& a)
{
    probe::srv_answer out{std::move(name), {}, {}};
    for (auto const& r : a.srv)
        out.records.push_back({r.target, r.port, r.priority, r.weight});
    if (out.records.empty())
        out.error = a.error ? std::string{dns::code_of(a.error)} : "no_data";
    return out;
}

probe::certificate_seen seen_of(ng::certificate_details d)
{
    return {.subject = std::move(d.subject),
            .issuer = std::move(d.issuer),
            .dns_ids = std::move(d.dns_ids),
            .srv_ids = std::move(d.srv_ids),
            .xmpp_addrs = std::move(d.xmpp_addrs),
            .not_before = std::move(d.not_before),
            .not_after = std::move(d.not_after),
            .expired = d.expired,
            .not_yet_valid = d.not_yet_valid,
            .extended_key_usage = std::move(d.extended_key_usage),
            .untrusted = std::move(d.untrusted),
            .matched = std::move(d.matched)};
}

/// The connection's observer: closes the stream once authenticated (nothing is
/// sent), and wakes the probe when it is gone.
class probe_observer final : public network::connection_observer {
public:
    explicit probe_observer(asio::any_io_executor executor) : done_{executor}, executor_{std::move(executor)} {}

    void on_action(network::connection& source, ng::action& a) override
    {
        if (std::holds_alternative<ng::authenticated>(a))
            asio::post(executor_, [c = source.shared_from_this()] {
                c->close(std::nullopt, ng::close_reason::done, "fedgate probe: negotiated, nothing to send");
            });
    }
    void on_closed(network::connection&, ng::close_stream const&) override
    {
        closed_ = true;
        done_.notify();
    }
    asio::awaitable<void> wait()
    {
        while (!closed_)
            co_await done_.wait();
    }

private:
    bool closed_ = false;
    network::async_event done_;
    asio::any_io_executor executor_;
};

/// The rules the negotiation runs under: the partner's, without the stream
/// extensions (no <enable/>, no bidi: nothing is to be carried); for a domain
/// that is not a partner, the most permissive valid policy.
ng::partner_rules rules_for(routing::runtime const& rt, std::string const& remote)
{
    ng::partner_rules rules;
    if (auto const* partner = rt.domains.find_partner(remote)) {
        rules = *partner;
    } else {
        rules.domain = remote;
        rules.settings = {policy::requirement::optional, policy::requirement::optional, true};
        rules.methods = policy::evaluate(rules.settings).applied();
    }
    rules.extensions = {.stream_management = false, .bidi = false};
    return rules;
}

// Coroutines here return through a reference: GCC 12 warns (mismatched-new-delete)
// on an awaitable<T> frame whose T is a large aggregate.
asio::awaitable<void> negotiate(routing::runtime& rt, ng::domain_pair pair, asio::ip::tcp::socket socket,
                                dns::candidate const& used, probe::negotiation_seen& seen)
{
    auto executor = co_await asio::this_coro::executor;
    seen.address = used.addr.ip + " port " + std::to_string(used.port);
    seen.direct_tls = used.direct_tls;
    auto session = std::make_unique<ng::outbound_session>(ng::outbound_context{.pair = pair,
                                                                               .partner = rules_for(rt, pair.remote),
                                                                               .secret = &rt.dialback,
                                                                               .sasl = rt.sasl_client.get(),
                                                                               .direct_tls = used.direct_tls,
                                                                               .purpose = ng::outbound_purpose::route});
    auto recorder = std::make_unique<probe_session>(std::move(session), seen);
    auto* window = recorder.get();
    probe_observer observer{executor};
    auto options = routing::s2s_options(rt.cfg.limits, "probe");
    options.alpn = used.direct_tls;
    auto stream = std::make_shared<network::connection>(std::move(socket), std::move(recorder), std::move(options),
                                                         *rt.tls, observer);
    window->on_tls = [&rt, stream = stream.get(), domain = protocol::to_ascii_domain(pair.remote)](
                         probe::negotiation_seen& s) {
        s.tls_summary = stream->io().tls_summary();
        SSL* ssl = stream->io().ssl();
        if (X509* leaf = SSL_get0_peer_certificate(ssl))
            s.certificate = seen_of(ng::describe_certificate(leaf, SSL_get_peer_cert_chain(ssl), rt.tls->trust(), domain));
    };
    stream->start();
    co_await observer.wait();
    window->on_tls = nullptr;
}

asio::awaitable<void> observe(routing::runtime& rt, ng::domain_pair pair, probe::observation& seen)
{
    auto executor = co_await asio::this_coro::executor;
    seen.local = pair.local;
    seen.remote = pair.remote;
    if (auto const* partner = rt.domains.find_partner(pair.remote))
        seen.partner = probe::partner_seen{partner->domain, partner->type, partner->settings};
    auto const ascii = protocol::to_ascii_domain(pair.remote);
    auto const direct_name = "_xmpps-server._tcp." + ascii;
    auto const starttls_name = "_xmpp-server._tcp." + ascii;
    // The same queries resolve() makes: they come from its cache, so the two agree.
    seen.direct_tls_srv = srv_of(direct_name, co_await rt.resolver->query_srv(direct_name));
    seen.starttls_srv = srv_of(starttls_name, co_await rt.resolver->query_srv(starttls_name));
    auto resolved = co_await rt.resolver->resolve(ascii);
    seen.used_fallback = resolved.used_fallback;
    if (resolved.candidates.empty())
        seen.resolve_error = std::string{dns::code_of(resolved.error)};
    // Each address in fedgate's order, one at a time so that each has its
    // result; the first that connects carries the negotiation, as in `fedgate run`.
    for (auto const& c : resolved.candidates) {
        std::vector<dns::candidate> one{c};  // named: GCC 12 cannot keep a braced list across co_await
        auto attempt = co_await network::connect_first(executor, std::move(one));
        seen.addresses.push_back({.host = c.host,
                                  .port = c.port,
                                  .ip = c.addr.ip,
                                  .ipv6 = c.addr.kind == dns::address::family::ipv6,
                                  .direct_tls = c.direct_tls,
                                  .connected = attempt.socket.has_value(),
                                  .timed_out = attempt.timed_out,
                                  .error = attempt.error});
        if (attempt.socket && !seen.negotiation) {
            seen.negotiation.emplace();
            co_await negotiate(rt, pair, std::move(*attempt.socket), c, *seen.negotiation);
        }
    }
}

}  // namespace

int probe_command(probe_request const& request)
{
    auto loaded = conf::load_file(request.config_file);
    if (!loaded.ok()) {
        for (auto const& d : loaded.findings)
            std::cerr << d.format() << "\n";
        std::cerr << request.config_file << ": invalid configuration (see `fedgate check-config`)\n";
        return usage;
    }
    auto const domain = protocol::check_domain_name(request.domain);
    if (!domain) {
        std::cerr << "fedgate probe: '" << request.domain << "' is not a domain: " << domain.error << "\n";
        return usage;
    }
    auto const& cfg = *loaded.cfg;
    std::string local = cfg.local_domains.front().name;
    if (!request.from.empty()) {
        auto const from = protocol::check_domain_name(request.from);
        auto const it = std::find_if(cfg.local_domains.begin(), cfg.local_domains.end(),
                                     [&](conf::local_domain const& d) { return from && d.name == from.canonical; });
        if (it == cfg.local_domains.end()) {
            std::cerr << "fedgate probe: --from " << request.from << " is not one of the local domains\n";
            return usage;
        }
        local = it->name;
    }
    // The report says everything; the connection's own log lines would repeat it.
    spdlog::set_level(spdlog::level::off);
    asio::io_context context{1};
    std::unique_ptr<routing::runtime> rt;
    try {
        rt = routing::build_runtime(cfg, context.get_executor(), false);
    } catch (std::exception const& e) {
        std::cerr << "fedgate probe: " << e.what() << "\n";
        return usage;
    }
    probe::observation seen;
    std::exception_ptr failure;
    asio::co_spawn(context, observe(*rt, {local, domain.canonical}, seen), [&](std::exception_ptr e) {
        failure = e;
        context.stop();  // the resolver's channel may keep the loop waiting
    });
    context.run();
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (std::exception const& e) {
            std::cerr << "fedgate probe: " << e.what() << "\n";
        }
        return not_negotiable;
    }
    auto const report = probe::explain(seen);
    std::cout << (request.json ? probe::render_json(report) : probe::render_text(report));
    return report.negotiable() ? negotiable : not_negotiable;
}

}  // namespace fedgate::daemon
