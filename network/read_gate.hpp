#pragma once
/// @file
/// Back-pressure (network/README.md, routing/README.md): what a stream that fed
/// a destination waits for before it reads more from its peer. A destination
/// stream is one (while its unwritten bytes are over the mark); a component
/// link whose internal server is away is another (while the outage is younger
/// than the delivery deadline). Not reading makes TCP push back on the sender, so its stanzas wait
/// in its own queue instead of being refused by ours.

#include "network/shared_event.hpp"

#include <atomic>
#include <string>

namespace fedgate::network {

/// The gate and the stream it holds may live on different event loops
/// (`worker_threads`): holding() is safe to call from any thread, and released()
/// wakes waiters on any executor.
class read_gate {
public:
    virtual ~read_gate() = default;
    /// Whether a stream held by this gate must still wait.
    [[nodiscard]] virtual bool holding() const noexcept = 0;
    /// Notified whenever holding() may have turned false.
    [[nodiscard]] virtual shared_event& released() noexcept = 0;
    /// What holds the stream, for the log line.
    [[nodiscard]] virtual std::string describe() const = 0;
    /// A gate the stream keeps and looks at before every read once it held it
    /// (a rate limit): with `worker_threads` a new hold comes a round trip
    /// late, and meanwhile the stream would read all its socket had.
    [[nodiscard]] virtual bool lasting() const noexcept { return false; }
};

/// A gate opened and closed by its owner (a component link, a rate limit).
class manual_gate final : public read_gate {
public:
    explicit manual_gate(std::string what, bool lasting = false) : what_{std::move(what)}, lasting_{lasting} {}
    [[nodiscard]] bool holding() const noexcept override { return closed_.load(std::memory_order_acquire); }
    [[nodiscard]] shared_event& released() noexcept override { return event_; }
    [[nodiscard]] std::string describe() const override { return what_; }
    [[nodiscard]] bool lasting() const noexcept override { return lasting_; }
    void close() noexcept { closed_.store(true, std::memory_order_release); }
    void open()
    {
        closed_.store(false, std::memory_order_release);
        event_.notify();
    }

private:
    shared_event event_;
    std::string what_;
    bool lasting_;
    std::atomic<bool> closed_{false};
};

}  // namespace fedgate::network
