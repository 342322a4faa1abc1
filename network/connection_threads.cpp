// A connection and the observer on another event loop (`worker_threads`,
// network/README.md "Threads"): the mailbox to the observer, what the observer
// asks posted here, stanzas serialised on its thread, XEP-0198 answers that go
// by way of it.
#include "network/connection.hpp"

#include "negotiation/stream_management.hpp"
#include "network/log_failure.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace fedgate::network {

namespace asio = boost::asio;
namespace ng = fedgate::negotiation;
using std::chrono::steady_clock;

void connection::answer(std::uint32_t handled)
{
    if (closing_)
        return;
    auto gate = holding_gate();
    if (!gate) {
        write_answer(handled);
        return;
    }
    held_ack_ = handled;  // the latest count replaces an older one
    // From the observer's thread the answer comes while the reader may be
    // waiting for bytes, not at its pause (where it sends a held answer): the
    // peer, waiting for this answer, may send nothing more. So it is sent when
    // the gate opens.
    if (observer_elsewhere_ && !std::exchange(ack_waiter_, true))
        asio::co_spawn(io_.executor(), send_held_answer(std::move(gate)), log_failure(id_ + " held answer"));
}

asio::awaitable<void> connection::send_held_answer(std::shared_ptr<read_gate> gate)
{
    auto self = shared_from_this();
    for (;;) {
        auto const seen = gate->released().epoch();
        if (!gate->holding() || closing_)
            break;
        co_await gate->released().wait(seen);
    }
    ack_waiter_ = false;
    if (auto handled = std::exchange(held_ack_, std::nullopt); handled && !closing_)
        write_answer(*handled);
}

void connection::write_answer(std::uint32_t handled)
{
    send_element_now(ng::sm::answer(handled));
    if (unanswered_ == handled)
        unanswered_.reset();
}

std::size_t connection::send_stanza(protocol::element const& stanza)
{
    if (!observer_elsewhere_)
        return write_stanza(stanza);
    if (closing()) {
        spdlog::warn("{} stanza from {} to {} dropped: the stream is closing", id_, stanza.from(), stanza.to());
        return 0;
    }
    // Serialised here, on the observer's thread, which has the element, into
    // bytes the connection's thread takes in one batch (a burst is one write,
    // as on one thread); they count as backlog (congested()) from now on.
    std::size_t size = 0;
    bool first = false;
    {
        std::lock_guard const lock{posted_mutex_};
        auto const before = posted_.size();
        protocol::serialize(stanza, posted_, write_context_);
        size = posted_.size() - before;
        first = !std::exchange(posted_flush_pending_, true);
    }
    posted_bytes_.fetch_add(size, std::memory_order_acq_rel);
    if (first)
        // Handed over when the observer's turn ends, not now: the rest of the
        // stanzas it routes in this turn go in the same batch, for one wake-up
        // of this connection's loop instead of one per stanza (a post to its
        // own loop costs the observer no system call).
        asio::post(*options_.observer_executor, [self = shared_from_this()] {
            asio::post(self->io_.executor(), [self] { self->write_posted(); });
        });
    return size;
}

void connection::write_posted()
{
    std::string bytes;
    {
        std::lock_guard const lock{posted_mutex_};
        bytes.swap(posted_);
        posted_flush_pending_ = false;
    }
    if (bytes.empty())
        return;  // written already, ahead of a close (see perform_now)
    if (closing_) {
        spdlog::warn("{} {} bytes of stanzas dropped: the stream closed before they were written", id_, bytes.size());
    } else {
        last_stanza_ = steady_clock::now();
        enqueue(bytes);
    }
    posted_bytes_.fetch_sub(bytes.size(), std::memory_order_acq_rel);
}

template <typename F>
void connection::on_own_thread(F&& f)
{
    if (!observer_elsewhere_)
        f();
    else
        asio::post(io_.executor(), [self = shared_from_this(), f = std::forward<F>(f)]() mutable { f(); });
}

void connection::tell_observer(ng::action& a)
{
    if (observer_elsewhere_)
        mail(std::move(a));
    else
        observer_.on_action(*this, a);
}

void connection::tell_closed()
{
    if (observer_elsewhere_)
        mail(ending_);  // a close_stream is never an on_action: it stands for on_closed
    else
        observer_.on_closed(*this, ending_);
}

void connection::mail(ng::action a)
{
    bool first = false;
    {
        std::lock_guard const lock{mail_mutex_};
        mail_.push_back(std::move(a));
        first = !std::exchange(mail_posted_, true);
    }
    if (first)
        // Sent when this turn ends: the other actions of the bytes just read
        // go with it, one wake-up of the observer's loop for the lot.
        asio::post(io_.executor(), [self = shared_from_this()] {
            asio::post(*self->options_.observer_executor, [self] { self->deliver_mail(); });
            self->free_given_back();
        });
}

void connection::give_back(protocol::element stanza)
{
    if (!observer_elsewhere_)
        return;  // freed here, on the thread that read it
    std::lock_guard const lock{mail_mutex_};
    given_back_.push_back(std::move(stanza));
}

void connection::free_given_back()
{
    {
        std::lock_guard const lock{mail_mutex_};
        given_back_.swap(to_free_);
    }
    to_free_.clear();
}

void connection::deliver_mail()
{
    {
        std::lock_guard const lock{mail_mutex_};
        mail_read_.swap(mail_);
        mail_posted_ = false;
    }
    for (auto& a : mail_read_) {
        if (auto const* end = std::get_if<ng::close_stream>(&a))
            observer_.on_closed(*this, *end);
        else if (auto const* ack = std::get_if<ng::send_ack>(&a))
            // Every stanza it counts has now been passed on, and a hold the
            // observer asked for on the way was posted to this connection
            // before this answer: answer() sees it.
            asio::post(io_.executor(), [self = shared_from_this(), handled = ack->handled] { self->answer(handled); });
        else
            observer_.on_action(*this, a);
    }
    mail_read_.clear();
}

void connection::feed(ng::event const& e)
{
    on_own_thread([this, e] {
        if (!closing_)
            perform_all_now(driver_.handle(e));
    });
}

void connection::close(std::optional<protocol::stream_error> condition, ng::close_reason reason, std::string detail)
{
    on_own_thread([this, condition, reason, detail = std::move(detail)]() mutable {
        if (closing_)
            return;
        // XEP-0198: a last count, so that the peer neither sends again nor
        // bounces what arrived (it is passed on, also what still waits for the
        // observer); what it sends after our </stream:stream> is counted by
        // nobody, and so left to its stream management (perform_now).
        if (auto handled = driver_.handled_count()) {
            unanswered_ = *handled;  // written before </stream:stream> (perform_now)
            left_to_peer_ = true;
        }
        std::vector<ng::action> actions;
        actions.emplace_back(ng::close_stream{condition, reason, std::move(detail)});
        perform_all_now(std::move(actions));
    });
}

void connection::hold_reading_for(std::shared_ptr<read_gate> gate)
{
    on_own_thread([this, gate = std::move(gate)]() mutable {
        // From another thread the reader may be waiting for bytes already: the
        // next ones must wait for the gate, not be read and passed on first.
        if (observer_elsewhere_ && gate && gate->holding()) {
            read_interrupted_ = true;
            io_.interrupt_read();
        }
        // One entry per gate; those that no longer hold go first.
        std::erase_if(held_by_, [&](std::weak_ptr<read_gate> const& held) {
            auto current = held.lock();
            return !current || (!current->holding() && !current->lasting()) || current == gate;
        });
        if (gate)
            held_by_.push_back(std::move(gate));
    });
}

}  // namespace fedgate::network
