#pragma once
/// @file
/// What a link (component_link, outbound_link) may ask of its owner, the router:
/// the links never include the router's header, so that the arrows of the
/// daemon run one way (the router owns links; links report through this).

#include "routing/delivery_queue.hpp"
#include "operations/metrics.hpp"
#include "negotiation/session_types.hpp"
#include "protocol/element.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace fedgate::network {
class connection;
}

namespace fedgate::routing {

class outbound_link;
class partner_watch;
struct runtime;

class link_owner {
public:
    [[nodiscard]] virtual boost::asio::any_io_executor executor() const = 0;
    /// The event loop a new stream of ours lives on (worker_threads); the link
    /// stays on executor() and hears from the stream by its mailbox.
    [[nodiscard]] virtual boost::asio::any_io_executor stream_loop() = 0;
    /// The current configuration generation; an attempt keeps the one it began with.
    [[nodiscard]] virtual std::shared_ptr<runtime> const& generation() const noexcept = 0;
    /// Shutdown has begun: no new connection attempts.
    [[nodiscard]] virtual bool stopping() const noexcept = 0;
    [[nodiscard]] virtual operations::metrics& stats() noexcept = 0;
    /// The partner state: what each attempt reached, and how it failed.
    [[nodiscard]] virtual partner_watch& partners() noexcept = 0;
    /// fedgate_stanza_bytes_total{direction, partner} for a partner's `domain`
    /// (primary or additional); the reference stays valid.
    [[nodiscard]] virtual std::uint64_t& byte_counter(bool inbound, std::string const& domain) = 0;
    /// How per-domain series name `domain`: itself, or, for a domain no
    /// partner lists ([default_partner]), one label for all of them.
    [[nodiscard]] virtual std::string metric_partner(std::string const& domain) const = 0;
    /// Stanzas that left a link's queue other than by delivery.
    virtual void deliver_bounces(bounced b, std::string_view why) = 0;
    /// A bounce the link sent itself (back on the stream its stanza came by):
    /// counted like every bounce, and logged at info once per `why` and
    /// second (else at debug).
    virtual void bounced_by_link(protocol::element const& reply, std::string const& why) = 0;

    // ---- component links ------------------------------------------------------
    /// A stanza from the internal server for a remote domain, as its session checked
    /// it (taken whole: the stanza and its parsed addresses move on, never copied).
    virtual void from_internal(negotiation::route_stanza&& routed, network::connection* source) = 0;
    /// A component link is up, or its first attempt failed (once per link).
    virtual void link_settled() = 0;
    /// A link closed during shutdown: if it was the last stream, shutdown is done.
    virtual void check_stopped() = 0;

    // ---- outbound links -------------------------------------------------------
    /// The authoritative server answered (or could not answer) a db:verify.
    virtual void dialback_answered(negotiation::verify_request const& request, negotiation::dialback_outcome outcome) = 0;
    /// XEP-0288: a partner's stanza on our stream, as its session checked it; it
    /// goes the way a stanza on the partner's own stream goes.
    virtual void from_partner(negotiation::route_stanza&& routed, network::connection& source) = 0;
    /// An error reply for a remote sender (pair.local ours, pair.remote theirs);
    /// `source`, the stream that caused it, pauses if the reply's stream is full.
    virtual void to_remote(negotiation::domain_pair const& pair, protocol::element reply, network::connection* source) = 0;
    /// The link has nothing left to do: it may be destroyed (later, not in this call).
    virtual void retire(outbound_link* link) = 0;

protected:
    ~link_owner() = default;
};

}  // namespace fedgate::routing
