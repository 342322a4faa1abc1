#include "network/connection.hpp"

#include "negotiation/dialback_key.hpp"
#include "negotiation/stream_management.hpp"
#include "negotiation/wire.hpp"
#include "network/log_failure.hpp"
#include "network/tls_contexts.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <atomic>

namespace fedgate::network {

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;
using std::chrono::steady_clock;

namespace {

std::string next_id(std::string const& label)
{
    static std::atomic<unsigned long> counter{0};
    return label + "#" + std::to_string(++counter);
}

constexpr std::chrono::milliseconds close_notify_wait{2000};

}  // namespace

connection::connection(asio::ip::tcp::socket socket, std::unique_ptr<ng::session> session,
                       connection_options options, tls_contexts& tls, connection_observer& observer)
    : io_{std::move(socket)},
      session_{std::move(session)},
      driver_{*session_, options.limits, options.content_ns},
      options_{std::move(options)},
      tls_{tls},
      observer_{observer},
      id_{next_id(options_.label)},
      write_context_{.content = options_.content_ns, .dialback_prefix = true},
      writer_wake_{io_.executor()},
      flushed_{io_.executor()},
      observer_elsewhere_{options_.observer_executor && *options_.observer_executor != io_.executor()},
      clock_{io_.executor()}
{
}

void connection::start()
{
    opened_at_ = last_stanza_ = last_write_ = steady_clock::now();
    driver_.on_header([this](protocol::stream_header const& h) {
        spdlog::log(options_.lifecycle_level, "{} stream header received: from='{}' to='{}'{}{}", id_, h.from(), h.to(),
                    h.id().empty() ? "" : " id=", h.id());
    });
    spdlog::log(options_.lifecycle_level, "{} {} opened", id_, io_.peer());
    auto self = shared_from_this();
    auto const executor = clock_.get_executor();
    asio::co_spawn(executor, [self]() { return self->write_loop(); }, log_failure(id_ + " writer"));
    asio::co_spawn(executor, [self]() { return self->clock_loop(); }, log_failure(id_ + " clock"));
    asio::co_spawn(executor, [self]() { return self->run(); }, log_failure(id_));
}

asio::awaitable<void> connection::run()
{
    // A bug that throws ends this stream, not the process (co_spawn would
    // terminate); the handler cannot co_await, so the close comes after it.
    std::string failure;
    try {
        co_await serve();
    } catch (std::exception const& e) {
        failure = e.what();
    }
    if (!failure.empty()) {
        spdlog::error("{} internal error: {}", id_, failure);
        perform_all_now({ng::close_stream{protocol::stream_error::internal_server_error, ng::close_reason::bad_input,
                                          "internal error"}});
    }
    co_await finish();
}

asio::awaitable<void> connection::serve()
{
    // GCC 12 may destroy temporaries of a co_await full-expression twice: every
    // argument with a destructor is a named local first.
    if (options_.tls_first) {
        ng::begin_tls const server_side{ng::tls_role::server, {}, {}};
        co_await start_tls(server_side);
    } else {
        auto actions = driver_.start();
        co_await perform(std::move(actions));
    }
    // After a close of ours (idle, shutdown) the peer may still have stanzas in
    // flight: they are read and routed until its </stream:stream>, its FIN or the
    // closing grace. After a session error nothing more is read.
    while (!driver_.finished() && !transport_failed_) {
        // Each gate in turn: one may have closed (or come) while waiting for another.
        for (auto gate = holding_gate(); gate && !closing_; gate = holding_gate()) {
            spdlog::debug("{} reading paused: {}", id_, gate->describe());
            for (;;) {
                auto const seen = gate->released().epoch();
                if (!gate->holding() || closing_)
                    break;
                co_await gate->released().wait(seen);
            }
            spdlog::debug("{} reading resumed", id_);
        }
        // What the count covers has been passed on (or bounced) by now.
        if (auto handled = std::exchange(held_ack_, std::nullopt); handled && !closing_)
            write_answer(*handled);
        std::erase_if(held_by_, [](std::weak_ptr<read_gate> const& held) {
            auto gate = held.lock();
            return !gate || !gate->lasting();
        });
        boost::system::error_code ec;
        auto bytes = co_await io_.read_some(ec);
        if (ec == asio::error::operation_aborted && std::exchange(read_interrupted_, false) && !closing_)
            continue;  // a hold came from another thread while we waited for bytes: it applies now
        if (ec) {
            if (!closing_)
                fail_transport(ec == asio::error::eof ? "the peer closed the connection" : ec.message());
            break;
        }
        // `bytes` are valid until the next suspension: the session takes them now.
        // Their stanzas are counted as they are parsed: those of bytes read
        // before our last count (close()) are covered by it and passed on,
        // also when the close comes in the middle of their actions.
        uncounted_batch_ = left_to_peer_;
        auto actions = driver_.receive({bytes.data(), bytes.size()});
        co_await perform(std::move(actions));
    }
}

void connection::fail_transport(std::string why)
{
    transport_failed_ = true;
    ending_ = ng::close_stream{std::nullopt, ng::close_reason::transport_closed, why};
    // The session fails what waits on the stream (dialback answers, verifies).
    auto actions = driver_.handle(ng::transport_closed{std::move(why)});
    for (auto& a : actions)
        if (!std::holds_alternative<ng::close_stream>(a))
            perform_now(a);
    mark_closing();
}

void connection::mark_closing()
{
    if (closing_)
        return;
    closing_ = true;
    closing_published_.store(true, std::memory_order_release);
    closing_since_ = steady_clock::now();
    clock_.cancel();
    writer_wake_.notify();
    // A reader paused for a destination must see that this stream ends.
    for (auto const& held : held_by_)
        if (auto gate = held.lock())
            gate->released().notify();
}

std::shared_ptr<read_gate> connection::holding_gate()
{
    std::shared_ptr<read_gate> found;
    std::erase_if(held_by_, [&](std::weak_ptr<read_gate> const& held) {
        auto gate = held.lock();
        if (!gate || !gate->holding())
            return !gate || !gate->lasting();
        if (!found)
            found = std::move(gate);
        return false;
    });
    return found;
}

asio::awaitable<void> connection::perform(std::vector<ng::action> actions)
{
    for (auto& a : actions) {
        if (auto const* tls = std::get_if<ng::begin_tls>(&a))
            co_await start_tls(*tls);
        else
            perform_now(a);
        if (closed_)
            break;
    }
}

void connection::perform_all_now(std::vector<ng::action> actions)
{
    for (auto& a : actions) {
        if (std::holds_alternative<ng::begin_tls>(a)) {
            // Only bytes from the peer can ask for TLS; an event from the router
            // that did is a bug, and the stream is not worth keeping.
            perform_now(a = ng::close_stream{protocol::stream_error::internal_server_error,
                                             ng::close_reason::bad_input, "TLS requested outside the read path"});
            break;
        }
        perform_now(a);
    }
    if (driver_.finished())
        io_.cancel_read();  // the session ended the stream: nothing more is read
}

void connection::perform_now(ng::action& a)
{
    if (closing_ && (std::holds_alternative<ng::send_header>(a) || std::holds_alternative<ng::send_element>(a) ||
                     std::holds_alternative<ng::send_ack>(a))) {
        spdlog::debug("{} nothing more is sent after </stream:stream>", id_);
        return;
    }
    if (uncounted_batch_ && (std::holds_alternative<ng::route_stanza>(a) || std::holds_alternative<ng::bounce_stanza>(a))) {
        spdlog::debug("{} a stanza not passed on (nor answered): it came after our last count and </stream:stream>, "
                      "so the peer's stream management sends it again or bounces it",
                      id_);
        return;
    }
    std::visit(ng::wire::overloaded{
                   [&](ng::send_header& h) {
                       header_sent_ = true;
                       if (domains_.empty())
                           domains_ = h.from.empty() ? h.to : h.from + (h.id.empty() ? " -> " : " <- ") + h.to;
                       spdlog::log(options_.lifecycle_level, "{} stream header sent: from='{}' to='{}'{}{}", id_, h.from,
                                   h.to, h.id.empty() ? "" : " id=", h.id);
                       enqueue(protocol::open_stream({.content = h.content,
                                                      .from = h.from,
                                                      .to = h.to,
                                                      .id = h.id,
                                                      .dialback = h.content == protocol::ns::server}));
                   },
                   [&](ng::send_element& e) { send_element_now(e.element); },
                   [&](ng::send_ack& ack) {
                       unanswered_ = ack.handled;
                       if (observer_elsewhere_)
                           // The count covers stanzas still in the mailbox: the
                           // observer may yet hold this stream for them. The
                           // answer comes back through it (deliver_mail).
                           mail(ack);
                       else
                           answer(ack.handled);
                   },
                   [&](ng::restart_stream&) {
                       header_sent_ = false;
                       spdlog::debug("{} stream restarted", id_);
                   },
                   [&](ng::begin_tls&) {},
                   [&](ng::close_stream& c) {
                       if (closing_)
                           return;
                       if (c.drop_connection) {
                           // Not a byte more, queued or not: no close_notify, no
                           // </stream:stream> in the clear.
                           outbox_.clear();
                           transport_failed_ = true;
                           ending_ = c;
                           mark_closing();
                           io_.cancel_read();
                           return;
                       }
                       // Stanzas handed over before this close go before
                       // </stream:stream>: a close posted straight to this
                       // thread may overtake their batch's hand-over.
                       if (observer_elsewhere_)
                           write_posted();
                       // XEP-0198 §5: the last count the session gave goes out
                       // before the close even when its answer is still held
                       // or on its way back from the observer's thread (what
                       // it counts has been handed over, so it is passed on).
                       if (auto handled = std::exchange(unanswered_, std::nullopt))
                           write_answer(*handled);
                       std::string bytes;
                       // RFC 6120 §4.9.1.2: an error before our header still goes
                       // inside a stream of ours, with an id (§4.7.3): Prosody
                       // drops a response header without one ("Missing stream
                       // ID") and never reads the error that says why.
                       if (c.condition && !header_sent_)
                           bytes = protocol::open_stream({.content = options_.content_ns, .from = {}, .to = {},
                                                          .id = ng::new_stream_id(),
                                                          .dialback = options_.content_ns == protocol::ns::server});
                       if (c.condition)
                           bytes += protocol::stream_error_element(*c.condition, c.detail);
                       bytes += protocol::close_stream();
                       enqueue(bytes);
                       ending_ = c;
                       mark_closing();
                   },
                   [&](auto&) {
                       if (std::holds_alternative<ng::authenticated>(a) || std::holds_alternative<ng::link_ready>(a))
                           established_ = true;
                       if (std::holds_alternative<ng::route_stanza>(a))
                           last_stanza_ = steady_clock::now();
                       tell_observer(a);
                   },
               },
               a);
}

asio::awaitable<void> connection::finish()
{
    mark_closing();
    co_await flush();
    if (!transport_failed_)
        co_await io_.shutdown(close_notify_wait);
    io_.close();
    closed_ = true;
    clock_.cancel();
    auto const& e = ending_;
    spdlog::log(options_.lifecycle_level, "{} {} closed: {}{}{}", id_, domains_.empty() ? io_.peer() : domains_, ng::metric_name(e.reason),
                 e.detail.empty() ? "" : ": ", e.detail);
    tell_closed();
}

}  // namespace fedgate::network
