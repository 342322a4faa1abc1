#pragma once
/// @file
/// A wake-up across threads (`worker_threads`): coroutines on any executor
/// wait, any thread notifies. Used where one stream waits for another that may
/// live on another event loop (read_gate.hpp). Unlike async_event, a notify is
/// not lost in the gap between a waiter's check and its wait: the waiter reads
/// the epoch first, and a wait for an epoch already passed returns at once.
///
///     for (;;) {
///         auto const seen = e.epoch();
///         if (!still_waiting()) break;
///         co_await e.wait(seen);
///     }

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace fedgate::network {

class shared_event {
public:
    shared_event() = default;
    shared_event(shared_event const&) = delete;
    shared_event& operator=(shared_event const&) = delete;
    /// Waiters still parked resume (on their own executors).
    ~shared_event() { notify(); }

    /// How many notifies there have been; read before checking the condition.
    [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }

    /// Returns after the first notify since `seen` was read (at once if there
    /// was one already), on the waiter's own executor.
    boost::asio::awaitable<void> wait(std::uint64_t seen)
    {
        co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
            [this, seen](auto handler) { park(std::move(handler), seen); }, boost::asio::use_awaitable);
    }

    /// Wakes every waiter. Cheap when nobody waits (a writer notifies after
    /// each write): the epoch moves, and a waiter parking at the same moment
    /// sees it (both sides are sequentially consistent).
    void notify()
    {
        epoch_.fetch_add(1);
        if (parked_.load() == 0)
            return;
        std::vector<std::unique_ptr<waiter>> woken;
        {
            std::lock_guard const lock{mutex_};
            woken.swap(waiters_);
            parked_.store(0);
        }
        for (auto& w : woken)
            w->wake();
    }

private:
    struct waiter {
        virtual ~waiter() = default;
        virtual void wake() = 0;
    };
    template <typename Handler>
    struct waiter_for final : waiter {
        explicit waiter_for(Handler h) : handler{std::move(h)} {}
        void wake() override
        {
            auto const executor = boost::asio::get_associated_executor(handler);
            boost::asio::post(executor, std::move(handler));
        }
        Handler handler;
    };

    template <typename Handler>
    void park(Handler handler, std::uint64_t seen)
    {
        auto w = std::make_unique<waiter_for<Handler>>(std::move(handler));
        {
            std::lock_guard const lock{mutex_};
            parked_.store(waiters_.size() + 1);
            if (epoch_.load() == seen) {
                waiters_.push_back(std::move(w));
                return;
            }
            parked_.store(waiters_.size());
        }
        w->wake();  // notified since `seen`: no wait
    }

    std::mutex mutex_;
    std::atomic<std::uint64_t> epoch_{0};
    std::atomic<std::size_t> parked_{0};  ///< waiters_.size(), read without the lock
    std::vector<std::unique_ptr<waiter>> waiters_;
};

}  // namespace fedgate::network
