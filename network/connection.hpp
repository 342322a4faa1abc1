#pragma once
/// @file
/// One XMPP stream on the wire: performs the actions of its sans-I/O session
/// (STYLE §2.2) with Asio. It reads, feeds the stream_driver, writes what the
/// session says, runs the TLS handshake when asked, keeps the negotiation,
/// idle and keepalive clocks, and hands everything that concerns other streams
/// (routing, dialback, authentication) to its observer.

#include "network/async_event.hpp"
#include "network/read_gate.hpp"
#include "network/shared_event.hpp"
#include "network/transport.hpp"
#include "negotiation/certificate_facts.hpp"
#include "negotiation/session_types.hpp"
#include "negotiation/stream_driver.hpp"
#include "protocol/serializer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/common.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fedgate::network {

class connection;
class tls_contexts;

/// What a connection's TLS handshake established, kept for the partner state
/// (operations/partner_state.hpp) to read when the stream authenticates or ends.
struct tls_details {
    std::string version;      ///< "TLSv1.3"
    std::string cipher;       ///< "TLS_AES_256_GCM_SHA384"
    std::string alpn;         ///< the protocol agreed, "" when none
    bool direct_tls = false;  ///< XEP-0368 rather than STARTTLS
    /// What the session was given to judge; null when the peer sent none.
    std::shared_ptr<negotiation::peer_certificate const> certificate;
    std::optional<negotiation::certificate_facts> certificate_facts;  ///< the leaf's; unset when none
};

/// The part of the gateway a connection reports to. With `worker_threads` the
/// observer may run on another event loop (connection_options::observer_executor):
/// its calls are then posted there, in the order the connection made them, and
/// on_closed comes last.
class connection_observer {
public:
    virtual ~connection_observer() = default;
    /// An action that concerns more than this stream: ask_dialback,
    /// dialback_verified, authenticated, link_ready, route_stanza, bounce_stanza,
    /// discarded. May be moved from.
    virtual void on_action(connection& source, negotiation::action& a) = 0;
    /// The connection is gone (called once); `why` is how it ended.
    virtual void on_closed(connection& source, negotiation::close_stream const& why) = 0;
};

struct connection_options {
    std::string label = "in";  ///< "in", "out", "link": the log id's prefix
    protocol::reader_limits limits;
    std::string_view content_ns = protocol::ns::server;
    std::chrono::seconds negotiation_timeout{30};
    std::chrono::seconds idle_timeout{0};  ///< established and no stanza for this long: close; 0 never
    std::chrono::seconds keepalive{0};     ///< established and nothing written for this long: " "; 0 never
    bool tls_first = false;                ///< accepted on the direct-TLS listener (XEP-0368)
    bool alpn = false;                     ///< client handshakes offer xmpp-server (direct TLS)
    /// The local domain whose certificate a client handshake presents, when not
    /// the stream's own 'from' (the internal leg speaks for remote domains, which
    /// fedgate has no certificate of: it presents its first local domain's).
    std::string tls_identity{};
    std::size_t backlog_high = 1024 * 1024;  ///< unwritten bytes above which feeders pause
    /// The level of the stream's opened / header / closed lines: a component
    /// link standing by retries every second and says so once, not each time.
    spdlog::level::level_enum lifecycle_level = spdlog::level::info;
    /// The observer's event loop, when it is not the socket's (`worker_threads`):
    /// what the connection reports is posted there, and what the observer asks
    /// (send_stanza, feed, close, hold_reading_for) is posted to the socket's.
    std::optional<boost::asio::any_io_executor> observer_executor{};
};

/// Every public member may be called from the observer's event loop; the
/// state they read (closing, congested, tls) is published for it.
class connection final : public std::enable_shared_from_this<connection>, public read_gate {
public:
    connection(boost::asio::ip::tcp::socket socket, std::unique_ptr<negotiation::session> session,
               connection_options options, tls_contexts& tls, connection_observer& observer);

    /// Starts reading, writing and the clocks.
    void start();
    /// Writes a routed stanza; returns its size on the wire (0 when the stream
    /// is closing and it was not written). From the observer's thread the
    /// stanza is serialised there and its bytes posted: a close in between
    /// drops them, with a warning, as a close at once would.
    std::size_t send_stanza(protocol::element const& stanza);
    /// Frees `stanza`, read on this stream, on this stream's thread: glibc's
    /// allocator frees memory of another thread's arena under that arena's
    /// lock, contended by every allocation there (tests/bench/README.md,
    /// "worker_threads"). From another thread it waits for this stream's next
    /// turn that mails the observer; on its own thread it is freed at once.
    void give_back(protocol::element stanza);
    /// Feeds an event from elsewhere in the gateway (a dialback answer, a verify
    /// request) and performs what the session answers.
    void feed(negotiation::event const& e);
    /// Ends the stream from outside (shutdown, reload): `condition` is sent as a
    /// stream error when set.
    void close(std::optional<protocol::stream_error> condition, negotiation::close_reason reason, std::string detail);
    /// Keeps `generation` (the configuration the session's pointers come from)
    /// alive as long as this stream.
    void keep(std::shared_ptr<void const> generation) { generation_ = std::move(generation); }
    /// Back-pressure: stop reading (after the bytes at hand) while `gate` holds:
    /// a destination stream writing its backlog, a component link that is down.
    void hold_reading_for(std::shared_ptr<read_gate> gate);
    [[nodiscard]] bool congested() const noexcept { return published_backlog() > options_.backlog_high; }

    // read_gate: a stream that fed this one waits while it is congested.
    [[nodiscard]] bool holding() const noexcept override { return congested() && !closing(); }
    [[nodiscard]] shared_event& released() noexcept override { return drained_; }
    [[nodiscard]] std::string describe() const override;

    [[nodiscard]] std::string const& id() const noexcept { return id_; }
    [[nodiscard]] transport& io() noexcept { return io_; }
    [[nodiscard]] transport const& io() const noexcept { return io_; }
    [[nodiscard]] bool closing() const noexcept { return closing_published_.load(std::memory_order_acquire); }
    /// The TLS handshake's outcome; null before TLS (or without). Set once.
    [[nodiscard]] tls_details const* tls() const noexcept { return tls_published_.load(std::memory_order_acquire); }
    /// Whether a TLS handshake was asked for and failed.
    [[nodiscard]] bool tls_failed() const noexcept { return tls_failed_.load(std::memory_order_acquire); }

private:
    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> serve();
    void mark_closing();
    boost::asio::awaitable<void> write_loop();
    boost::asio::awaitable<void> clock_loop();
    boost::asio::awaitable<void> perform(std::vector<negotiation::action> actions);
    void perform_now(negotiation::action& a);
    void perform_all_now(std::vector<negotiation::action> actions);
    boost::asio::awaitable<void> start_tls(negotiation::begin_tls const& request);
    boost::asio::awaitable<void> flush();
    boost::asio::awaitable<void> finish();
    void enqueue(std::string_view bytes);
    void send_element_now(protocol::element const& e);
    /// XEP-0198 <a/> for `handled`, or held while a gate holds this stream.
    void answer(std::uint32_t handled);
    /// Sends the held answer once `gate` no longer holds (answers from another thread).
    boost::asio::awaitable<void> send_held_answer(std::shared_ptr<read_gate> gate);
    void fail_transport(std::string why);
    /// send_stanza on this connection's own thread.
    std::size_t write_stanza(protocol::element const& stanza);
    /// The bytes of the stanzas send_stanza serialised on the observer's thread.
    void write_posted();
    /// Runs `f` here: at once on this connection's thread, else posted.
    template <typename F>
    void on_own_thread(F&& f);
    /// What the observer hears: at once, or by mail to its thread.
    void tell_observer(negotiation::action& a);
    void tell_closed();
    /// Into the mailbox; the first letter since the last delivery posts one.
    void mail(negotiation::action a);
    /// On the observer's thread: every letter, in order (a close_stream is on_closed).
    void deliver_mail();
    /// On this connection's thread: frees what the observer gave back.
    void free_given_back();
    [[nodiscard]] std::size_t backlog() const noexcept { return outbox_.size() + inflight_.size(); }
    /// backlog(), and bytes posted to it, as other threads see them.
    [[nodiscard]] std::size_t published_backlog() const noexcept
    {
        return backlog_published_.load(std::memory_order_acquire) + posted_bytes_.load(std::memory_order_acquire);
    }
    void publish_backlog() noexcept { backlog_published_.store(backlog(), std::memory_order_release); }
    [[nodiscard]] std::chrono::steady_clock::time_point next_deadline() const;

    transport io_;
    std::unique_ptr<negotiation::session> session_;
    negotiation::stream_driver driver_;
    connection_options options_;
    tls_contexts& tls_;
    connection_observer& observer_;
    std::string id_;
    std::string domains_;  ///< "a.test -> b.test" (ours first), for the close line
    protocol::stream_context write_context_;

    std::string outbox_;
    std::string inflight_;
    async_event writer_wake_;
    async_event flushed_;  ///< the writer went idle or ended
    shared_event drained_;  ///< the backlog fell below half the high mark (any thread waits)
    bool writing_ = false;
    bool writer_done_ = false;
    bool tls_pending_ = false;
    std::atomic<bool> tls_failed_{false};
    std::optional<tls_details> tls_details_;
    std::atomic<tls_details const*> tls_published_{nullptr};  ///< &*tls_details_ once set
    std::atomic<bool> closing_published_{false};                ///< closing_, for other threads
    std::atomic<std::size_t> backlog_published_{0};            ///< backlog(), for other threads
    std::atomic<std::size_t> posted_bytes_{0};                 ///< send_stanza bytes on their way here
    bool observer_elsewhere_ = false;  ///< the observer runs on another event loop
    bool left_to_peer_ = false;        ///< closed by us after a last XEP-0198 count: stanzas after it are not passed on
    bool uncounted_batch_ = false;     ///< the bytes being acted on were read after that count
    // What the observer has yet to hear, when it runs elsewhere: one post per
    // batch rather than per stanza, so a busy router is not woken for each.
    std::mutex mail_mutex_;
    std::vector<negotiation::action> mail_;
    bool mail_posted_ = false;
    std::vector<negotiation::action> mail_read_;  ///< the observer's side of the swap
    std::vector<protocol::element> given_back_;    ///< give_back(), freed here (mail_mutex_)
    std::vector<protocol::element> to_free_;       ///< this thread's side of that swap
    // What send_stanza serialised on the observer's thread, for this one.
    std::mutex posted_mutex_;
    std::string posted_;
    bool posted_flush_pending_ = false;

    boost::asio::steady_timer clock_;
    std::chrono::steady_clock::time_point opened_at_;
    std::chrono::steady_clock::time_point last_stanza_;
    std::chrono::steady_clock::time_point last_write_;
    std::chrono::steady_clock::time_point closing_since_;
    bool header_sent_ = false;  ///< on the current stream (since the last restart)
    bool established_ = false;
    bool closing_ = false;
    bool transport_failed_ = false;
    bool closed_ = false;
    negotiation::close_stream ending_{std::nullopt, negotiation::close_reason::transport_closed, "connection lost"};
    /// What holds reading (hold_reading_for): every gate counts, so a rate
    /// limit's hold is not lost to a destination's that came after it.
    std::vector<std::weak_ptr<read_gate>> held_by_;
    /// The first gate of held_by_ that still holds; forgets the others.
    std::shared_ptr<read_gate> holding_gate();
    bool ack_waiter_ = false;  ///< send_held_answer is waiting
    bool read_interrupted_ = false;  ///< hold_reading_for ended a wait for bytes (interrupt_read)
    std::optional<std::uint32_t> held_ack_;  ///< an <a/> waiting for held_by_ to release (ng::send_ack)
    /// The latest count to send while it is not written yet: a session's
    /// ng::send_ack held or on its way through the observer's thread, or the
    /// last one close() gives. A close of ours writes it first (perform_now),
    /// or the peer would never see it.
    std::optional<std::uint32_t> unanswered_;
    /// Writes <a h='handled'/> and forgets unanswered_ when this is it.
    void write_answer(std::uint32_t handled);
    std::shared_ptr<void const> generation_;
};

}  // namespace fedgate::network
