#pragma once
/// @file
/// The hub of the running gateway (shared/DESIGN.md "How a stanza travels"):
/// owns the inbound S2S connections, the outbound links per (local, remote)
/// pair, the dialback verifiers and the component links to the internal
/// server, and moves stanzas, dialback questions and answers, and bounces
/// between them. Nothing here parses or negotiates: connections and their
/// sessions did that; the router decides where things go.

#include "contacts/contact_policy.hpp"
#include "network/connection.hpp"
#include "routing/delivery_queue.hpp"
#include "routing/inbound_limits.hpp"
#include "routing/link_owner.hpp"
#include "routing/partner_watch.hpp"
#include "routing/unlisted_domains.hpp"
#include "operations/log_summary.hpp"
#include "operations/memory_release.hpp"
#include "operations/metrics.hpp"
#include "operations/status_report.hpp"
#include "routing/runtime.hpp"
#include "negotiation/inbound_session.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/common.h>

#include <map>
#include <memory>
#include <set>
#include <string>

namespace fedgate::routing {

class outbound_link;
class component_link;

/// Why an error stanza could not be delivered, as metric labels
/// (fedgate_bounces_undeliverable_total{reason}); `every` for the series shown at start.
namespace undeliverable_reason {
inline constexpr std::string_view shutdown = "shutdown";  ///< no stream to its domain up, and stopping
inline constexpr std::string_view refused = "refused";    ///< its stream is refused by policy
inline constexpr std::string_view no_route = "no_route";
inline constexpr std::string_view every[] = {shutdown, refused, no_route};
}  // namespace undeliverable_reason

/// Every domain of every partner.
[[nodiscard]] std::set<std::string> partner_domains(conf::config const& cfg);
/// The component links there must be: every partner domain in component mode, none in s2s mode.
[[nodiscard]] std::set<std::string> component_domains(conf::config const& cfg);

class router final : public network::connection_observer, public link_owner, private contacts::contact_owner {
public:
    /// `stream_loops` gives the event loop of each new stream (network/event_loops.hpp);
    /// without it every stream lives on `executor`.
    router(boost::asio::any_io_executor executor, std::shared_ptr<runtime> rt,
           std::function<boost::asio::any_io_executor()> stream_loops = {});
    ~router() override;
    router(router const&) = delete;
    router& operator=(router const&) = delete;

    /// Connects the component links and starts the housekeeping clock.
    void start();
    /// Closes every stream with <system-shutdown/>, bounces what waits, stops
    /// reconnecting. `done` runs when every connection is gone.
    void stop(std::function<void()> done);

    /// A connection accepted by a listener; refused (closed) over the limits.
    void accept(boost::asio::ip::tcp::socket socket, bool direct_tls);
    /// [internal] mode = "s2s": a connection on the internal listener, refused
    /// (closed) unless it comes from [internal] allowed_addresses.
    void accept_internal(boost::asio::ip::tcp::socket socket);

    // ---- link_owner: what the links ask ---------------------------------------
    /// A stanza from the internal server (a component link) for a remote domain.
    void from_internal(negotiation::route_stanza&& routed, network::connection* source) override;
    /// A stanza for a user of pair.local from pair.remote: to the component link
    /// of pair.remote, or (s2s mode) the S2S link to the internal server that
    /// speaks for it. Bounces of outbound stanzas come this way too.
    void to_internal(negotiation::domain_pair const& pair, protocol::element stanza, network::connection* source);
    /// An error reply for a remote sender (pair.local ours, pair.remote theirs);
    /// `source`, the stream that caused it, pauses if the reply's stream is full.
    void to_remote(negotiation::domain_pair const& pair, protocol::element reply, network::connection* source) override;
    /// A partner's stanza on our own stream (XEP-0288): as if on its stream.
    void from_partner(negotiation::route_stanza&& routed, network::connection& source) override
    {
        from_remote(std::move(routed), source);
    }
    /// The authoritative server answered (or could not answer) a db:verify.
    void dialback_answered(negotiation::verify_request const& request, negotiation::dialback_outcome outcome) override;
    /// Stanzas that left a queue other than by delivery.
    void deliver_bounces(bounced b, std::string_view why) override;
    void bounced_by_link(protocol::element const& reply, std::string const& why) override;
    /// A link or verifier has nothing left to do.
    void retire(outbound_link* link) override;
    /// A stream closed during shutdown: if it was the last, shutdown is done.
    void check_stopped() override;

    /// The current configuration generation.
    [[nodiscard]] runtime& rt() noexcept { return *rt_; }
    /// The same, shared: a connection keeps the generation it was made with.
    [[nodiscard]] std::shared_ptr<runtime> const& generation() const noexcept override { return rt_; }
    /// Switches to a new configuration generation (SIGHUP): new streams use it at
    /// once; streams of partners that are gone are closed with <policy-violation/>,
    /// the others stay up. Returns a summary for the log.
    std::string reload(std::shared_ptr<runtime> next);
    /// Runs `f` once every component link is up or has failed a first time.
    void on_settled(std::function<void()> f);
    /// A component link is up, or its first attempt failed (once per link).
    void link_settled() override;
    [[nodiscard]] boost::asio::any_io_executor executor() const override { return executor_; }
    [[nodiscard]] boost::asio::any_io_executor stream_loop() override
    {
        return stream_loops_ ? stream_loops_() : executor_;
    }
    [[nodiscard]] bool stopping() const noexcept override { return stopping_; }
    /// The counters, and the gauges read from the streams at scrape time.
    [[nodiscard]] operations::metrics& stats() noexcept override { return metrics_; }
    [[nodiscard]] partner_watch& partners() noexcept override { return partners_; }
    /// The state of federation with each partner, per direction, and the
    /// certificates they presented (operations/partner_state.hpp): for
    /// `fedgate status`. Read on the event loop's thread.
    [[nodiscard]] operations::partner_state const& partner_states() const noexcept { return partners_.state(); }
    /// fedgate_stanzas_total{direction, partner}, looked up once per partner.
    [[nodiscard]] std::uint64_t& stanza_counter(bool inbound, std::string_view partner);
    /// fedgate_stanza_bytes_total{direction, partner} for a partner's `domain`
    /// (primary or additional); links keep the reference.
    [[nodiscard]] std::uint64_t& byte_counter(bool inbound, std::string const& domain) override;
    [[nodiscard]] std::string metric_partner(std::string const& domain) const override;
    /// What this run took in and what became of it, for the last log line: the
    /// stanzas taken from the internal server and from partners (refused and
    /// bounced ones too), the bounces made, and the stanzas possibly lost.
    [[nodiscard]] std::string traffic_summary() const;
    /// The stanzas waiting in fedgate, per partner (its primary domain): `fedgate status`.
    [[nodiscard]] std::map<std::string, operations::partner_queues, std::less<>> partner_queues() const;

private:
    // network::connection_observer, for inbound S2S connections
    void on_action(network::connection& source, negotiation::action& a) override;
    void on_closed(network::connection& source, negotiation::close_stream const& why) override;

    void ask_dialback(network::connection& source, negotiation::ask_dialback const& ask);
    /// The db:verify of `ask` on our established link of its pair when there
    /// is one, else on a verifier (XEP-0220 §2.1.2), on the leg it came from.
    void verify_with_authority(std::shared_ptr<network::connection> const& source, negotiation::ask_dialback const& ask,
                               bool internal);

    // ---- [internal] mode = "s2s" (router_internal.cpp) ---------------------------
    [[nodiscard]] bool s2s_internal() const noexcept;
    /// Our S2S link to the internal server for `pair` (local: a local domain;
    /// remote: the partner's domain fedgate speaks for), made on demand; its
    /// stream goes the other way, from pair.remote to pair.local.
    outbound_link& internal_link_for(negotiation::domain_pair const& pair);
    void on_internal_action(network::connection& source, negotiation::action& a);
    void on_internal_closed(network::connection& source, negotiation::close_stream const& why);
    /// At shutdown, once the S2S side has closed: the internal leg closes last.
    void stop_internal_leg();
    [[nodiscard]] bool internal_leg_closed() const;
    /// What the internal server's streams report goes here, not to the
    /// router's own on_action, which is the partners' streams'.
    struct internal_observer final : network::connection_observer {
        explicit internal_observer(router& r) : owner{r} {}
        void on_action(network::connection& source, negotiation::action& a) override
        {
            owner.on_internal_action(source, a);
        }
        void on_closed(network::connection& source, negotiation::close_stream const& why) override
        {
            owner.on_internal_closed(source, why);
        }
        router& owner;
    };
    // XEP-0288 (router_bidi.cpp): an inbound stream that may carry ours is lent
    // to the link of its pair; its acknowledgements and its end go there too.
    void lend(network::connection& source, negotiation::bidi_ready const& ready);
    void may_write_on(network::connection& source, bool counted);
    /// The link `source` is lent to, if any (also one a reload retired).
    outbound_link* borrower_of(network::connection& source);
    void acknowledged_on(network::connection& source, std::uint32_t handled);
    void release_lent(network::connection& source);
    /// Inbound streams still waiting for the peer's XEP-0198 decision after a
    /// whole tick are told their deadline passed (they carry ours uncounted).
    void end_bidi_waits();
    /// An authenticated inbound stanza: contact rules, then the internal server.
    void from_remote(negotiation::route_stanza&& routed, network::connection& source);
    /// Its way out once the contact policy lets it go (an invitation is
    /// committed before it leaves).
    void learn_and_send(negotiation::route_stanza&& routed, network::connection* source);

    // contacts::contact_owner, for what the contact policy held
    void release(negotiation::domain_pair const& pair, std::vector<protocol::element> stanzas) override;
    void bounce(protocol::element reply, std::string_view why) override;
    void log(contacts::contact_owner::severity l, std::string_view summary_key, std::string const& line) override;
    [[nodiscard]] std::uint64_t& refusal_counter(std::string_view partner, std::string_view reason) override;
    // The operator's blocklist (router_blocklist.cpp).
    /// The entry blocking `remote` (a listed partner only by its exact name), or nullptr.
    [[nodiscard]] policy::block_entry const* blocked(std::string const& remote) const;
    /// The same when the caller knows already whether `remote` is a listed
    /// partner's (the stanza paths: no second partner lookup per stanza).
    [[nodiscard]] policy::block_entry const* blocked(std::string const& remote, bool listed) const;
    /// "X is blocked here (blocklist line N: PATTERN)" when blocked(remote, listed).
    [[nodiscard]] std::optional<std::string> why_blocked(std::string const& remote, bool listed) const;
    [[nodiscard]] std::optional<std::string> why_blocked(std::string const& remote) const;
    /// An inbound stream that authenticated for a domain blocked since it was
    /// accepted ends with <policy-violation/> (true).
    bool close_if_blocked(network::connection& source, std::string const& remote);
    /// A stanza from a blocked domain on a stream that is closing (or was
    /// accepted before the list changed): refused, logged and counted (true).
    bool refused_as_blocked(negotiation::route_stanza const& routed, bool listed, network::connection& source);
    /// Takes `next`, read from the file as `stamp` says (at start, reload, or
    /// when the file changed), and ends the streams of the domains it blocks.
    void use_blocklist(std::shared_ptr<policy::blocklist const> next, file_stamp stamp);
    /// Every [blocklist] refresh_seconds: reads the file again if it changed.
    void refresh_blocklist(clock::time_point now);
    // Open federation (router_unlisted.cpp).
    /// `domain` (of `partner`) is used now; when it is unlisted and one too
    /// many, the least recently used unlisted domain's streams close. A
    /// stanza from `source`, a stream closed for the bound, is no use.
    void use_unlisted(negotiation::partner_rules const& partner, std::string const& domain,
                      network::connection* source = nullptr);
    /// At reload: the new max_domains (or none, without [default_partner]).
    void resize_unlisted();
    /// Ends every stream of unlisted `domain`, both legs and both directions;
    /// what they held bounces with <resource-constraint/>.
    void close_unlisted(std::string const& domain, std::string const& why);
    /// fedgate_unlisted_domains: those with a stream up, at scrape time.
    [[nodiscard]] std::size_t unlisted_with_streams() const;
    /// Whether a partner's stanza is within its rate limit (router_limits.cpp);
    /// slows `source` when it is over, and refuses it (with an error to its
    /// sender, false) beyond a burst of debt.
    bool within_rate(negotiation::route_stanza const& routed, negotiation::partner_rules const& partner,
                     network::connection& source);
    /// Bounces `stanza` (true) when it cannot go out: not a partner (`partner`,
    /// the caller's lookup of pair.remote, is null), blocked, or shutdown.
    bool refuse_out(negotiation::domain_pair const& pair, negotiation::partner_rules const* partner,
                    protocol::element const& stanza);
    outbound_link& link_for(negotiation::domain_pair const& pair);
    void tick();
    /// An error stanza (a bounce of ours, mostly) that cannot go anywhere and
    /// may not be bounced: counted, and logged (summarised).
    void undeliverable(protocol::element const& reply, std::string_view reason, std::string_view why);
    void log_summaries(clock::time_point now);
    /// fedgate_bounces_total{condition} for one error reply.
    void count_bounce(protocol::element const& reply);
    /// `line` at `level` once per `key` and second, else at debug (log_summary.hpp).
    void log_quietly(spdlog::level::level_enum level, std::string_view key, std::size_t stanzas,
                     std::string const& line);

    struct pending_check {
        std::weak_ptr<network::connection> inbound;
        std::chrono::steady_clock::time_point deadline;
    };

    boost::asio::any_io_executor executor_;
    std::function<boost::asio::any_io_executor()> stream_loops_;
    std::shared_ptr<runtime> rt_;
    /// What the router knows of an inbound stream. Its connection and session
    /// may run on another event loop (`worker_threads`): what the router needs
    /// of the session's state, it learns from the session's actions.
    struct inbound_stream {
        std::shared_ptr<network::connection> c;
        std::shared_ptr<runtime const> generation;    ///< the configuration c's session points into
        negotiation::inbound_session const* session;  ///< owned by c; read only once c has closed
        std::vector<negotiation::domain_pair> authenticated{};  ///< the pairs, as the session announced them
        std::optional<negotiation::domain_pair> lent_to{};  ///< the link whose stanzas it carries (XEP-0288)
        bool awaiting_bidi_decision = false;  ///< between bidi_ready and bidi_counting
        unsigned bidi_wait_ticks = 0;  ///< ticks seen waiting for the XEP-0198 decision
        std::string partner_up{};      ///< the domain it authenticated for first (partner state); "" before
        bool closed_for_bound = false;  ///< closed by [default_partner] max_domains: what it still brings is no use
    };
    std::map<network::connection*, inbound_stream> inbound_;
    std::shared_ptr<policy::blocklist const> blocklist_;  ///< shared with the inbound sessions made meanwhile
    file_stamp blocklist_stamp_;  ///< of the file blocklist_ was read from
    clock::time_point next_blocklist_check_{};
    std::map<std::string, unsigned> inbound_per_ip_;
    inbound_limits limits_{executor_};  ///< rate limits per partner and per source address
    unlisted_domains unlisted_;  ///< the unlisted domains in use, most recent first ([default_partner])
    /// While close_unlisted stops a domain's links: the bounces they give up,
    /// delivered once all are stopped (not into one that stops next).
    std::vector<std::pair<bounced, std::string>>* bounces_held_back_ = nullptr;
    operations::memory_release memory_;
    std::map<negotiation::domain_pair, std::unique_ptr<outbound_link>> links_;
    std::map<negotiation::domain_pair, std::unique_ptr<outbound_link>> verifiers_;
    std::map<std::string, std::unique_ptr<component_link>, std::less<>> components_;  // by partner domain
    internal_observer internal_observer_{*this};
    std::map<network::connection*, inbound_stream> internal_inbound_;  ///< the internal server's streams (s2s mode)
    /// Our S2S links to the internal server (s2s mode), and the verifiers of its
    /// dialback keys, by (local domain, remote domain) as the other maps: a
    /// stanza's pair finds its link without a copy.
    std::map<negotiation::domain_pair, std::unique_ptr<outbound_link>> internal_links_;
    std::map<negotiation::domain_pair, std::unique_ptr<outbound_link>> internal_verifiers_;
    std::vector<std::unique_ptr<component_link>> retired_components_;               // closing after a reload
    std::vector<std::unique_ptr<outbound_link>> retired_links_;                     // stopped, closing
    std::function<void()> on_settled_;
    std::map<std::pair<std::string, negotiation::domain_pair>, pending_check> checks_;  // by (stream id, pair)
    operations::metrics metrics_;
    partner_watch partners_{metrics_};  ///< per partner and direction: up, the last attempt, certificates
    contacts::contact_policy contacts_;  ///< the partner types' rules, and what waits for the store
    operations::log_summary quiet_;  ///< bounces and refusals: one line per cause per second
    std::map<std::string, std::uint64_t*, std::less<>> stanza_counters_[2];  // [out, in] by partner
    std::uint64_t taken_from_internal_ = 0;  // every stanza the component links read
    std::uint64_t taken_from_partners_ = 0;  // every stanza an authenticated inbound stream read
    void gauges(std::vector<operations::metrics::sample>& out) const;
    /// Every counter whose label values are known before anything happened
    /// (each partner, direction, reason, condition, result), at zero: an alert
    /// on a series that does not exist yet never fires. At start.
    void show_known_series();
    /// The per-partner ones; again after a reload, for the new partners.
    void show_partner_series();
    boost::asio::steady_timer clock_;
    bool stopping_ = false;
    bool components_stopping_ = false;
    std::function<void()> on_stopped_;
};

}  // namespace fedgate::routing
