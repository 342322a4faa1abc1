#include "tests/bench/client_worker.hpp"

namespace fedgate::bench {

namespace {

using steady = std::chrono::steady_clock;

}  // namespace

void client_worker::run()
{
    std::vector<epoll_event> events(256);
    auto last_expiry_scan = steady::now();
    while (authenticated_ + failed_ < count_) {
        launch_more();
        int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 200);
        for (int i = 0; i < n; ++i)
            handle(events[static_cast<std::size_t>(i)].data.u32);
        if (steady::now() - last_expiry_scan > std::chrono::seconds{1}) {
            expire_stalled();
            last_expiry_scan = steady::now();
        }
    }
}

void client_worker::launch_more()
{
    while (open_ < in_flight_ && next_ < count_) {
        auto const index = next_++;
        auto& s = streams_[index] = std::make_unique<negotiating_stream>(ctx_, to_);
        ++open_;
        if (!s->begin(port_)) {
            finish(index, progress::failed);
            continue;
        }
        // Edge-triggered: advance() always runs until the socket would block.
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        e.data.u32 = index;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, s->fd(), &e);
        handle(index);
    }
}

void client_worker::handle(unsigned index)
{
    if (finished_[index])
        return;
    if (auto p = streams_[index]->advance(); p != progress::blocked)
        finish(index, p);
}

void client_worker::finish(unsigned index, progress outcome)
{
    auto& s = streams_[index];
    finished_[index] = true;
    --open_;
    if (s->fd() >= 0)
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, s->fd(), nullptr);  // idle from now on; checked later
    if (outcome == progress::authenticated) {
        ++authenticated_;
        seconds_each_.push_back(std::chrono::duration<double>(steady::now() - s->started()).count());
    } else {
        ++failed_;
        if (first_failure_.empty())
            first_failure_ = "stream " + std::to_string(index) + ": " + s->failure();
        s.reset();
    }
    while (oldest_open_ < next_ && finished_[oldest_open_])
        ++oldest_open_;
}

void client_worker::expire_stalled()
{
    auto const now = steady::now();
    for (unsigned i = oldest_open_; i < next_; ++i)
        if (!finished_[i] && now - streams_[i]->started() > give_up_after)
            finish(i, streams_[i]->fail("no reply for " + std::to_string(give_up_after.count()) + " s"));
}

}  // namespace fedgate::bench
