// outbound_link (outbound_link.hpp): how a link gets a stream of its own:
// where to connect (a partner by DNS SRV, or the internal server at [internal]
// host in s2s mode), the connection, and the session that negotiates on it.
#include "routing/outbound_link.hpp"

#include "dns/error.hpp"
#include "network/connector.hpp"
#include "network/event_loops.hpp"
#include "network/log_failure.hpp"
#include "protocol/domain_name.hpp"
#include "operations/metric_names.hpp"
#include "routing/internal_server.hpp"
#include "routing/partner_watch.hpp"
#include "routing/runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

namespace fedgate::routing {

using network::connect_first;
using network::connection;
using network::log_failure;
namespace metric = operations::metric;

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;
using protocol::stanza_condition;

void outbound_link::ensure_connecting()
{
    if (connection_ || connecting_ || waiting_to_retry_ || stopped_ || owner_.stopping())
        return;
    if (adopted_ && verifies_.empty())
        return;  // the partner's stream carries ours
    connecting_ = true;
    asio::co_spawn(owner_.executor(), connect(), log_failure("link " + pair_.local + " -> " + pair_.remote));
}

asio::awaitable<void> outbound_link::connect()
{
    auto alive = alive_;
    auto const generation = owner_.generation();  // the configuration this attempt uses, kept alive
    auto& rt = *generation;
    // A verifier's stream only carries db:verify (XEP-0220 §2.1.2): the
    // partner state follows the links that carry stanzas.
    bool const watched = this->watched();
    if (watched)
        owner_.partners().attempt_started(pair_.remote);
    bool const internal = leg_ == link_leg::internal;
    std::vector<dns::candidate> candidates;
    if (internal) {
        // The internal server is where [internal] says, never found by SRV.
        auto found = co_await find_internal_server(owner_.executor(), rt.cfg.internal);
        if (!*alive)
            co_return;
        candidates = std::move(found.candidates);
        if (candidates.empty()) {
            connecting_ = false;
            failed({stanza_condition::remote_server_timeout, true,
                    "the internal server " + rt.cfg.internal.host + ": " + found.error.message()});
            co_return;
        }
    } else {
        auto ascii = protocol::to_ascii_domain(pair_.remote);  // named: see connection::run() on GCC 12
        auto resolved = co_await rt.resolver->resolve(std::move(ascii));
        if (!*alive)
            co_return;
        if (watched)
            owner_.partners().resolved(pair_.remote, resolved);
        owner_.stats().count(metric::dns_resolutions,
                              {{"result", std::string{resolved.candidates.empty() ? dns::code_of(resolved.error) : "ok"}}});
        if (resolved.candidates.empty()) {
            connecting_ = false;
            auto failure = classify(static_cast<dns::error>(resolved.error.value()));
            failure.text = pair_.remote + ": " + failure.text;
            failed(std::move(failure));
            co_return;
        }
        candidates = std::move(resolved.candidates);
    }
    auto executor = owner_.executor();  // named: see connection::serve() on GCC 12
    auto attempt = co_await connect_first(executor, std::move(candidates));
    if (!*alive)
        co_return;
    if (watched)
        owner_.partners().connected(pair_.remote, attempt);
    connecting_ = false;
    if (!attempt.socket) {
        auto failure = connection_failed(attempt.timed_out);
        failure.text = pair_.remote + ": " + attempt.error;
        failed(std::move(failure));
        co_return;
    }
    auto const* partner = (internal ? rt.internal_domains : rt.domains).find_partner(pair_.remote);
    if (stopped_ || partner == nullptr) {
        failed({stanza_condition::service_unavailable, false,
                (internal ? pair_.remote + " is no longer served here" : pair_.remote + " is no longer a federation partner")});
        co_return;
    }
    auto session = std::make_unique<ng::outbound_session>(ng::outbound_context{.pair = pair_,
                                                                               .partner = *partner,
                                                                               .secret = internal ? &rt.internal_dialback
                                                                                                  : &rt.dialback,
                                                                               .sasl = rt.sasl_client.get(),
                                                                               .direct_tls = attempt.used.direct_tls,
                                                                               .purpose = purpose_});
    auto options = s2s_options(rt.cfg.limits, "out");
    options.alpn = attempt.used.direct_tls;
    if (internal)
        options.tls_identity = rt.cfg.local_domains.front().name;
    options.keepalive = rt.cfg.limits.keepalive;
    // TLS and parsing on the next event loop; this link hears by mail.
    options.observer_executor = owner_.executor();
    asio::ip::tcp::socket socket{owner_.executor()};
    try {
        socket = network::move_to(std::move(*attempt.socket), owner_.stream_loop());
    } catch (boost::system::system_error const& e) {
        failed({stanza_condition::remote_server_timeout, true, pair_.remote + ": " + e.what()});
        co_return;
    }
    connection_ = std::make_shared<connection>(std::move(socket), std::move(session), std::move(options), *rt.tls,
                                               *this);
    // Kept here, not by the connection, which may be freed on its own loop:
    // a generation is freed on this one, where its resolver lives.
    stream_generation_ = generation;
    spdlog::info("{} {} -> {}{}{}: {} port {} ({})", connection_->id(), pair_.local, pair_.remote,
                 internal ? " (to the internal server)" : "",
                 purpose_ == ng::outbound_purpose::verify_only ? " (dialback verification)" : "", attempt.used.host,
                 attempt.used.port, attempt.used.direct_tls ? "direct TLS" : "STARTTLS");
    for (auto& v : std::exchange(verifies_, {}))
        connection_->feed(v);
    connection_->start();
}

}  // namespace fedgate::routing
