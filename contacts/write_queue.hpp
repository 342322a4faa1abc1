#pragma once
/// @file
/// The writes of a relationship store, in order, on a thread of their own, so
/// that the caller (the event loop) never waits for the disk or the database;
/// what both backends (sqlite_store, postgres_store) do alike.

#include "contacts/contact_rules.hpp"
#include "contacts/relationship_store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace fedgate::contacts {

class write_queue {
public:
    struct job {
        relationship who;
        relationship_state state;
        relationship_store::completion done;
        std::chrono::steady_clock::time_point queued;
    };
    /// Performs one write on the queue's thread, and sees to its completion.
    using writer = std::function<void(job&)>;

    write_queue() = default;
    write_queue(write_queue const&) = delete;
    write_queue& operator=(write_queue const&) = delete;
    /// Stops the thread once everything queued is written.
    ~write_queue() { stop(); }

    /// Starts the thread that runs `w` for each job.
    void start(writer w);
    void push(job j);
    /// Waits until everything queued so far is written.
    void flush();
    /// Waits `delay`, or less when the queue is stopping: false then.
    [[nodiscard]] bool pause(std::chrono::milliseconds delay);
    [[nodiscard]] bool stopping();
    /// Writes what is queued, then ends the thread; again is harmless.
    void stop();

private:
    void work(writer const& w);

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<job> jobs_;
    bool busy_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace fedgate::contacts
