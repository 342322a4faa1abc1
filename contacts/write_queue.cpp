#include "contacts/write_queue.hpp"

namespace fedgate::contacts {

void write_queue::start(writer w)
{
    thread_ = std::thread{[this, w = std::move(w)] { work(w); }};
}

void write_queue::push(job j)
{
    {
        std::lock_guard lock{mutex_};
        jobs_.push_back(std::move(j));
    }
    wake_.notify_one();
}

void write_queue::flush()
{
    std::unique_lock lock{mutex_};
    idle_.wait(lock, [&] { return jobs_.empty() && !busy_; });
}

bool write_queue::pause(std::chrono::milliseconds delay)
{
    std::unique_lock lock{mutex_};
    return !wake_.wait_for(lock, delay, [&] { return stopping_; });
}

bool write_queue::stopping()
{
    std::lock_guard lock{mutex_};
    return stopping_;
}

void write_queue::stop()
{
    {
        std::lock_guard lock{mutex_};
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void write_queue::work(writer const& w)
{
    for (;;) {
        job next;
        {
            std::unique_lock lock{mutex_};
            wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty())
                return;  // stopping, and everything is written
            next = std::move(jobs_.front());
            jobs_.pop_front();
            busy_ = true;
        }
        w(next);
        {
            std::lock_guard lock{mutex_};
            busy_ = false;
        }
        idle_.notify_all();
    }
}

}  // namespace fedgate::contacts
