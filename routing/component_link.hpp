#pragma once
/// @file
/// The XEP-0114 link to the internal server for one partner domain: fedgate
/// connects to [internal] as the component of that domain, keeps the link up
/// (reconnecting with backoff), carries stanzas from the partner's users to the
/// internal server, and hands stanzas from the internal server to the router.
/// Stanzas for a link that is down wait, bounded, until it is back, and the
/// partner streams that sent them stop being read meanwhile (up to the delivery
/// deadline), so that a restart of the internal server costs no refusals.

#include "network/connection.hpp"
#include "routing/ack_window.hpp"
#include "routing/link_owner.hpp"
#include "routing/link_traffic.hpp"
#include "network/read_gate.hpp"
#include "routing/retry_schedule.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <string>

namespace fedgate::routing {

class component_link final : public network::connection_observer {
public:
    component_link(link_owner& owner, std::string domain);
    ~component_link() override;

    /// Connects, and reconnects whenever the link drops, until stop().
    void start();
    /// Writes `stanza` to the internal server, or holds it while the link is
    /// down and pauses `source`; once the link has been down for the delivery
    /// deadline, bounces it at once.
    void deliver(protocol::element stanza, network::connection* source);
    /// Bounces held stanzas whose delivery deadline passed.
    void tick(clock::time_point now);
    /// Bounces everything held for the internal server (shutdown).
    void bounce_held(std::string const& why);
    /// Stops reconnecting and closes the link after what it has to write;
    /// `why` (shutdown, or a reload that removed the partner) is logged with
    /// the close and given with the bounces of what was held.
    void stop(std::string why = "the gateway is shutting down");
    [[nodiscard]] bool ready() const noexcept { return ready_ && connection_ && !connection_->closing(); }
    /// No stream, and none coming: a connection attempt still pending after stop()
    /// is abandoned (it closes its socket when it returns, if ever).
    [[nodiscard]] bool closed() const noexcept { return !connection_ && (!connecting_ || stopped_); }
    /// Up, or failed a first time: counts for READY.
    [[nodiscard]] bool settled() const noexcept { return settled_; }
    [[nodiscard]] std::size_t queued() const noexcept { return traffic_.queue().size(); }
    /// Written since the internal server's last answer to a ping.
    [[nodiscard]] std::uint64_t unacknowledged() const noexcept { return window_.in_flight(); }

private:
    /// A stanza written and not yet confirmed, and the stream it was read on:
    /// it is freed there (connection::give_back).
    struct written_stanza {
        queued_stanza item;
        std::weak_ptr<network::connection> read_on;
    };

    void on_action(network::connection& source, negotiation::action& a) override;
    void on_closed(network::connection& source, negotiation::close_stream const& why) override;
    boost::asio::awaitable<void> connect();
    void reconnect_later();
    void settle();
    void went_down();
    /// Writes one stanza (pausing `source` while the link is congested), and
    /// the ping that is due after it; keeps it until the server confirms it.
    void write(queued_stanza item, network::connection* source = nullptr);
    /// The server answered a ping: what was written before it is confirmed.
    void forget_confirmed();
    /// Closes the stream at shutdown (after a last answer, or without one).
    void close_stopped();
    /// The link died: what it wrote unconfirmed goes back to the head of the
    /// queue for the next link; what was not kept is counted possibly lost.
    void take_back_unconfirmed();
    /// Writes what is held, as far as the ack window allows; opens the gate
    /// when nothing is left.
    void write_held();

    link_owner& owner_;
    std::string domain_;
    link_traffic traffic_;
    retry_schedule retry_;
    std::minstd_rand standby_jitter_{std::random_device{}()};
    std::shared_ptr<network::connection> connection_;
    bool ready_ = false;
    bool connecting_ = false;
    bool stopped_ = false;
    std::string stop_reason_;  ///< stop()'s why
    bool settled_ = false;
    bool standing_by_ = false;  ///< the internal server has another connection for this component  ///< up, or failed a first time: counts for READY
    clock::time_point down_since_ = clock::now();
    bool outage_expired_ = false;  ///< down for longer than the delivery deadline
    ack_window window_;            ///< what the internal server has not confirmed
    /// The stanzas written since the server's last answer, oldest first, to be
    /// written again on the next link if this one dies (at least once). At most
    /// max_in_flight: a server that answers no probe is never held to that
    /// limit, and what it had beyond it is only counted.
    std::deque<written_stanza> unconfirmed_;
    void forget_oldest_unconfirmed();
    std::uint64_t not_taken_after_close_ = 0;  ///< stanzas read after stop() closed the link
    bool close_after_answer_ = false;          ///< stopped: closes when the server has confirmed all
    boost::asio::steady_timer last_answer_timer_;
    boost::asio::steady_timer retry_timer_;
    std::shared_ptr<network::manual_gate> gate_;  ///< closed while the link is down and young
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fedgate::routing
