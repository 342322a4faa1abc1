// The reactor's socket records made at start: as many as asked, no descriptor
// left open, and fewer (not a failure) when descriptors run out.
#include "network/descriptor_reserve.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <sys/resource.h>

namespace {

using fedgate::network::reserve_descriptor_records;

std::size_t open_descriptors()
{
    std::size_t n = 0;
    for ([[maybe_unused]] auto const& entry : std::filesystem::directory_iterator{"/proc/self/fd"})
        ++n;
    return n;
}

TEST(DescriptorReserve, MakesTheRecordsAskedForAndLeavesNoDescriptorOpen)
{
    boost::asio::io_context io;
    reserve_descriptor_records(io.get_executor(), 1);  // the reactor's own descriptors (epoll, eventfd, timerfd)
    auto const before = open_descriptors();
    EXPECT_EQ(reserve_descriptor_records(io.get_executor(), 500), 500u);
    EXPECT_EQ(open_descriptors(), before);
}

TEST(DescriptorReserve, StopsWhereTheDescriptorsRunOut)
{
    boost::asio::io_context io;
    reserve_descriptor_records(io.get_executor(), 1);
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    auto const in_use = open_descriptors();
    rlimit tight = saved;
    tight.rlim_cur = in_use + 50;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    auto const made = reserve_descriptor_records(io.get_executor(), 1000);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    EXPECT_GT(made, 0u);
    EXPECT_LT(made, 60u);
    EXPECT_EQ(open_descriptors(), in_use);
}

}  // namespace
