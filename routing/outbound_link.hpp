#pragma once
/// @file
/// Our side of federation with one (local, remote) pair: the one outbound
/// stream that carries its stanzas, connected on demand (DNS, Happy Eyeballs,
/// negotiation per the partner's policy), the stanzas held while it is not up,
/// and the retries after a failure (RFC 6120 §3.3). A link made for dialback
/// verification only (XEP-0220 §2.1.2) carries db:verify requests and ends
/// when they are answered. With XEP-0198 on the stream, what the peer has not
/// acknowledged stays in `unacked_stanzas` and goes back to the queue when the
/// stream ends (routing/README.md "Stream management"). With XEP-0288 one
/// connection carries both directions: our stream carries the partner's
/// stanzas too (they go to the router), or the partner's inbound stream,
/// lent by the router, carries ours instead of a stream of our own
/// (routing/README.md "Bidirectional streams").

#include "network/connection.hpp"
#include "routing/link_owner.hpp"
#include "routing/link_traffic.hpp"
#include "routing/retry_schedule.hpp"
#include "routing/unacked_stanzas.hpp"
#include "negotiation/outbound_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace fedgate::routing {

/// Which side of fedgate a link's streams go to.
enum class link_leg : std::uint8_t {
    partner,   ///< a partner's server, found by DNS SRV; pair.local is ours, pair.remote the partner's
    internal,  ///< [internal] mode = "s2s": the internal server at [internal] host and port;
               ///< pair.local is the remote domain fedgate speaks for, pair.remote a local domain
};

class outbound_link final : public network::connection_observer {
public:
    outbound_link(link_owner& owner, negotiation::domain_pair pair, negotiation::outbound_purpose purpose,
                  link_leg leg = link_leg::partner);
    ~outbound_link() override;

    /// Sends `stanza` now, or holds it until the stream is up (connecting if
    /// needed). A full queue bounces it with <resource-constraint/>.
    void deliver(protocol::element stanza, network::connection* source);
    /// Sends a db:verify on this link's stream; the answer goes to the owner.
    void verify(negotiation::verify_request request);
    /// Bounces held stanzas whose delivery deadline passed.
    void tick(clock::time_point now);
    /// Closes the stream with `condition` and bounces everything held with
    /// `bounce` (<service-unavailable/>; <not-allowed/> for a blocked domain) and `why`.
    void stop(protocol::stream_error condition = protocol::stream_error::system_shutdown,
              std::string const& why = "fedgate is shutting down",
              protocol::stanza_condition bounce = protocol::stanza_condition::service_unavailable);
    [[nodiscard]] bool stopped() const noexcept { return stopped_; }
    /// A reload: the partner may have fixed what failed, so the next stanza
    /// makes an attempt at once and the schedule starts over.
    void forgive();
    /// The peer is known to be back (the internal server's own stream just
    /// authenticated): the schedule starts over, and what waits for the next
    /// attempt makes it now.
    void retry_now();
    /// Whether a stream of our own exists (up or negotiating).
    [[nodiscard]] bool connected() const noexcept { return connection_ != nullptr; }
    /// Whether our stanzas have a stream to go on now.
    [[nodiscard]] bool up() const noexcept { return carrier() != nullptr; }
    /// Whether our own stream is up, the one db:verify may go on (never the
    /// partner's stream the request came on, XEP-0288 §2.2).
    [[nodiscard]] bool own_stream_up() const noexcept
    {
        return connection_ && !connection_->closing() && authenticated_;
    }
    /// Nothing held, nothing to verify, no stream: the router may drop the link.
    [[nodiscard]] bool idle() const noexcept;

    /// XEP-0288: the partner's inbound `stream` (authenticated for this pair,
    /// bidi asked for) will carry our stanzas: no stream of our own is made,
    /// and what comes waits for may_write(). Refused (false) when our own
    /// stream is up, the link is stopped or has a lent stream already.
    bool adopt(std::shared_ptr<network::connection> stream);
    /// The lent `stream` may carry ours now; with `counted` its
    /// acknowledgements count them (XEP-0198).
    void may_write(network::connection& stream, bool counted);
    /// The partner's <a/> on a stream lent to this link.
    void acknowledged(network::connection& source, std::uint32_t handled);
    /// A stream lent to this link closed: what it did not acknowledge goes
    /// back to the queue, and a stream of our own is made if anything waits.
    void released(network::connection& stream);
    /// Whether `stream` is lent to this link.
    [[nodiscard]] bool borrows(network::connection const& stream) const noexcept { return adopted_.get() == &stream; }
    /// stop() waits for the last count on this lent stream: the router leaves
    /// closing it to the link.
    [[nodiscard]] bool closes_itself(network::connection const& stream) const noexcept
    {
        return close_after_ack_ && counted_on_ == &stream;
    }
    [[nodiscard]] std::size_t queued() const noexcept { return traffic_.queue().size(); }
    /// Written on the current stream and not yet acknowledged (XEP-0198).
    [[nodiscard]] std::size_t unacknowledged() const noexcept { return unacked_ ? unacked_->size() : 0; }

private:
    /// The partner the link's traffic is counted for: the remote domain on either leg.
    [[nodiscard]] std::string const& partner_domain() const noexcept
    {
        return leg_ == link_leg::internal ? pair_.local : pair_.remote;
    }
    /// Whether its attempts are the partner state's (a verifier's, and the
    /// internal leg's, are not: they say nothing of the partner).
    [[nodiscard]] bool watched() const noexcept
    {
        return purpose_ == negotiation::outbound_purpose::route && leg_ == link_leg::partner;
    }
    void on_action(network::connection& source, negotiation::action& a) override;
    void on_closed(network::connection& source, negotiation::close_stream const& why) override;

    /// Writes one stanza on the stream that is up, keeping it until the peer
    /// acknowledges it when the stream has stream management.
    void send(queued_stanza item, network::connection* source);
    /// Writes what is held, in order, as far as the acknowledgement window allows.
    void write_held();
    /// The stream our stanzas go on: the partner's lent stream while there is
    /// one, else our own once authenticated; null when neither is.
    [[nodiscard]] network::connection* carrier() const noexcept;
    /// Acknowledgements from now on, counted on `stream`.
    void start_counting(network::connection& stream);
    /// `ended` ended: what it did not acknowledge goes back to the head of the
    /// queue (or, at shutdown, is reported as possibly lost); the caller writes
    /// it again when another stream carries ours.
    void take_back_unacknowledged(network::connection const& ended);
    /// After stop(): closes the stream that waited for the peer's last count.
    void close_stopped();
    [[nodiscard]] bool window_full() const noexcept { return unacked_ && unacked_->full(); }
    void ensure_connecting();
    boost::asio::awaitable<void> connect();
    void failed(delivery_failure failure);
    /// After a failure that retrying does not cure, until the next attempt is
    /// due: stanzas are bounced at once with that failure.
    [[nodiscard]] bool refusing() const noexcept;

    link_owner& owner_;
    negotiation::domain_pair pair_;
    negotiation::outbound_purpose purpose_;
    link_leg leg_;
    link_traffic traffic_;
    retry_schedule retry_;
    // The stream may live on another event loop (worker_threads): what the
    // link needs of its session it learns from the session's actions.
    std::shared_ptr<network::connection> connection_;
    std::shared_ptr<runtime const> stream_generation_;  ///< what connection_'s session points into
    bool connecting_ = false;
    bool authenticated_ = false;  ///< the current stream got as far as authentication
    bool stream_management_ = false;  ///< the partner enabled XEP-0198 on it (it counts ours)
    bool waiting_to_retry_ = false;
    bool retry_at_once_ = false;  ///< retry_now() cancelled the wait: attempt when it ends
    bool stopped_ = false;
    std::vector<negotiation::verify_request> verifies_;  ///< not yet handed to a stream
    std::optional<delivery_failure> last_failure_;
    std::shared_ptr<network::connection> adopted_;  ///< the partner's stream lent to carry ours (XEP-0288)
    bool adopted_writable_ = false;                 ///< may_write() came for it
    std::optional<unacked_stanzas> unacked_;  ///< while the stream up has stream management
    network::connection const* counted_on_ = nullptr;  ///< the stream unacked_ counts
    boost::asio::steady_timer retry_timer_;
    /// Holds the feeders while the window is full, or (internal leg) while the
    /// internal server is away; open once nothing they wait for is held.
    std::shared_ptr<network::manual_gate> gate_;
    /// stop() with stanzas unacknowledged: the close it asked for, made when the
    /// peer's answer to a last <r/> covers them all, or when last_ack_timer_ fires.
    std::optional<std::pair<protocol::stream_error, std::string>> close_after_ack_;
    boost::asio::steady_timer last_ack_timer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fedgate::routing
