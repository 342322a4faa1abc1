// A connection's writing side: the outbox that elements, stanzas and bytes
// go into without a string each, and the one coroutine that writes it.
#include "network/connection.hpp"

#include <spdlog/spdlog.h>

namespace fedgate::network {

namespace asio = boost::asio;
using std::chrono::steady_clock;

void connection::send_element_now(protocol::element const& e)
{
    // Straight into the outbox, as send_stanza does: no string per element
    // (Prosody asks for an <a/> after every stanza).
    if (writer_done_)
        return;
    protocol::serialize(e, outbox_, write_context_);
    publish_backlog();
    if (!writing_)
        writer_wake_.notify();
}

asio::awaitable<void> connection::flush()
{
    while ((writing_ || !outbox_.empty()) && !writer_done_)
        co_await flushed_.wait();
}

void connection::enqueue(std::string_view bytes)
{
    if (writer_done_)
        return;
    outbox_.append(bytes);
    publish_backlog();
    if (!writing_)
        writer_wake_.notify();
}

asio::awaitable<void> connection::write_loop()
{
    auto self = shared_from_this();
    for (;;) {
        if (outbox_.empty() || tls_pending_) {
            if (closing_ && outbox_.empty() && !tls_pending_)
                break;  // everything is written
            flushed_.notify();
            co_await writer_wake_.wait();
            continue;
        }
        inflight_.swap(outbox_);
        outbox_.clear();
        writing_ = true;
        boost::system::error_code ec;
        co_await io_.write(asio::buffer(inflight_), ec);
        writing_ = false;
        inflight_.clear();
        publish_backlog();
        last_write_ = steady_clock::now();
        if (backlog() <= options_.backlog_high / 2)
            drained_.notify();
        if (ec) {
            spdlog::debug("{} write failed: {}", id_, ec.message());
            if (!closing_)
                fail_transport("write failed: " + ec.message());
            io_.cancel_read();
            break;
        }
    }
    writer_done_ = true;
    outbox_.clear();
    publish_backlog();
    flushed_.notify();
    drained_.notify();
}

std::size_t connection::write_stanza(protocol::element const& stanza)
{
    if (closing_) {
        // Callers check closing() first; this is the last line of defence.
        spdlog::warn("{} stanza from {} to {} dropped: the stream is closing", id_, stanza.from(), stanza.to());
        return 0;
    }
    last_stanza_ = steady_clock::now();
    if (writer_done_)
        return 0;
    // Straight into the outbox: no string per stanza.
    auto const before = outbox_.size();
    protocol::serialize(stanza, outbox_, write_context_);
    publish_backlog();
    if (!writing_)
        writer_wake_.notify();
    return outbox_.size() - before;
}

std::string connection::describe() const
{
    return id_ + " has " + std::to_string(published_backlog()) + " bytes to write";
}

}  // namespace fedgate::network
