// The event loops of `worker_threads` and the wake-up that crosses them
// (network/event_loops.hpp, network/shared_event.hpp): a notify on one thread
// resumes a waiter on another loop's thread, none is lost between a waiter's
// check and its wait, and connections are handed out over every loop in turn.
#include "network/event_loops.hpp"
#include "network/shared_event.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using fedgate::network::event_loops;
using fedgate::network::shared_event;

TEST(SharedEvent, AWaitForAnEpochAlreadyPassedReturnsAtOnce)
{
    asio::io_context io;
    shared_event e;
    auto const seen = e.epoch();
    e.notify();  // nobody waits yet: remembered as a new epoch
    bool resumed = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await e.wait(seen);
            resumed = true;
        },
        asio::detached);
    io.run_for(std::chrono::seconds{5});
    EXPECT_TRUE(resumed);
}

TEST(SharedEvent, AWaiterParksUntilTheNextNotify)
{
    asio::io_context io;
    shared_event e;
    bool resumed = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await e.wait(e.epoch());
            resumed = true;
        },
        asio::detached);
    io.poll();
    EXPECT_FALSE(resumed);
    e.notify();
    io.poll();
    EXPECT_TRUE(resumed);
}

TEST(SharedEvent, ANotifyFromAnotherThreadResumesTheWaiterOnItsOwnThread)
{
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::thread::id loop_thread;
    std::thread::id resumed_on;
    shared_event e;
    std::atomic<bool> parked{false};
    std::thread loop{[&] {
        loop_thread = std::this_thread::get_id();
        io.run();
    }};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto const seen = e.epoch();
            parked = true;
            co_await e.wait(seen);
            resumed_on = std::this_thread::get_id();
            guard.reset();
        },
        asio::detached);
    while (!parked)
        std::this_thread::yield();
    e.notify();
    loop.join();
    EXPECT_EQ(resumed_on, loop_thread);
}

// A producer on one thread raises a level and notifies; a consumer on another
// loop checks the level and waits. With a lost wake-up the consumer would
// still wait when the producer is done, and run_for would end with it parked.
TEST(SharedEvent, NoWakeUpIsLostBetweenTheCheckAndTheWait)
{
    constexpr int rounds = 20000;
    asio::io_context consumer_loop;
    shared_event e;
    std::atomic<int> level{0};
    int seen_level = 0;
    asio::co_spawn(
        consumer_loop,
        [&]() -> asio::awaitable<void> {
            while (seen_level < rounds) {
                auto const epoch = e.epoch();
                if (level.load() > seen_level) {
                    seen_level = level.load();
                    continue;
                }
                co_await e.wait(epoch);
            }
        },
        asio::detached);
    std::thread producer{[&] {
        for (int i = 1; i <= rounds; ++i) {
            level.store(i);
            e.notify();
        }
    }};
    consumer_loop.run_for(std::chrono::seconds{30});
    producer.join();
    EXPECT_EQ(seen_level, rounds);
}

TEST(EventLoops, AConnectedSocketMovedToAnotherLoopKeepsItsConnection)
{
    asio::io_context here;
    asio::io_context there;
    asio::ip::tcp::acceptor acceptor{here, {asio::ip::address_v4::loopback(), 0}};
    asio::ip::tcp::socket peer{here};
    peer.connect(acceptor.local_endpoint());
    auto moved = fedgate::network::move_to(acceptor.accept(), there.get_executor());
    EXPECT_EQ(moved.get_executor(), asio::any_io_executor{there.get_executor()});
    asio::write(peer, asio::buffer(std::string{"still connected"}));
    std::string got(15, '\0');
    asio::read(moved, asio::buffer(got));
    EXPECT_EQ(got, "still connected");
    // Already there: the same socket comes back.
    auto const descriptor = moved.native_handle();
    EXPECT_EQ(fedgate::network::move_to(std::move(moved), there.get_executor()).native_handle(), descriptor);
}

TEST(EventLoops, ZeroMeansOnePerCore)
{
    event_loops loops{0};
    EXPECT_EQ(loops.size(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(EventLoops, HandsOutTheOtherLoopsInTurnTwiceThenTheMainOne)
{
    // The main loop runs the router besides its streams: it takes half as many.
    event_loops loops{3};
    auto const main = loops.main().get_executor();
    std::vector<boost::asio::any_io_executor> order;
    for (int i = 0; i < 10; ++i)
        order.push_back(loops.next());
    EXPECT_NE(order[0], main);
    EXPECT_NE(order[1], main);
    EXPECT_NE(order[0], order[1]);
    EXPECT_EQ(order[2], order[0]);
    EXPECT_EQ(order[3], order[1]);
    EXPECT_EQ(order[4], main);
    EXPECT_EQ(order[5], order[0]);
    EXPECT_EQ(std::count(order.begin(), order.end(), main), 2);  // slots 4 and 9
}

TEST(EventLoops, OneLoopIsTheMainOneAlone)
{
    event_loops loops{1};
    EXPECT_EQ(loops.next(), loops.main().get_executor());
    EXPECT_EQ(loops.next(), loops.main().get_executor());
}

TEST(EventLoops, RunsTheOtherLoopsOnNamedThreadsOfTheirOwnUntilTheMainOneStops)
{
    event_loops loops{2};
    auto const worker = loops.next();
    std::thread::id ran_on;
    std::string name;
    std::atomic<bool> ran{false};
    auto main_busy = asio::make_work_guard(loops.main());  // as a listener keeps it
    asio::post(worker, [&] {
        ran_on = std::this_thread::get_id();
        char buffer[16] = {};
        ::pthread_getname_np(::pthread_self(), buffer, sizeof buffer);
        name = buffer;
        ran = true;
        // Back to the main loop, which stops: run_main then joins the worker.
        asio::post(loops.main(), [&] { main_busy.reset(); });
    });
    loops.run_main();
    EXPECT_TRUE(ran);
    EXPECT_NE(ran_on, std::this_thread::get_id());
    EXPECT_EQ(name, "fedgate-loop1");
}

}  // namespace
