// Listen queue overflows as Linux shows them: a TcpExt line of names, then one
// of values, in /proc/net/netstat; and the count a gateway adds to its metric.
#include "operations/listen_overflows.hpp"
#include "operations/metrics.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

using fedgate::operations::listen_overflow_watch;
using fedgate::operations::listen_overflows_in;

std::string netstat(std::uint64_t overflows)
{
    return "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops\n"
           "TcpExt: 0 0 " + std::to_string(overflows) + " 9\n"
           "IpExt: InNoRoutes ListenOverflows\n"
           "IpExt: 0 777\n";
}

TEST(ListenOverflows, AreReadFromTheTcpExtValuesUnderTheirName)
{
    EXPECT_EQ(listen_overflows_in(netstat(42)), 42u);
}

TEST(ListenOverflows, AreUnknownWithoutTheCounterOrWithAValueThatIsNoNumber)
{
    EXPECT_EQ(listen_overflows_in("IpExt: ListenOverflows\nIpExt: 5\n"), std::nullopt);
    EXPECT_EQ(listen_overflows_in("TcpExt: ListenDrops\nTcpExt: 5\n"), std::nullopt);
    EXPECT_EQ(listen_overflows_in("TcpExt: ListenOverflows\nTcpExt: 5x\n"), std::nullopt);
    EXPECT_EQ(listen_overflows_in(""), std::nullopt);
}

TEST(ListenOverflows, TheKernelsOwnFileHasTheCounter)
{
    std::ifstream in{"/proc/net/netstat"};
    if (!in)
        GTEST_SKIP() << "no /proc/net/netstat here";
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    EXPECT_TRUE(listen_overflows_in(text).has_value());
}

TEST(ListenOverflowWatch, TellsWhatTheCounterGainedSinceTheLastLook)
{
    auto const path = std::filesystem::temp_directory_path() / ("netstat-" + std::to_string(::getpid()));
    auto write = [&](std::uint64_t n) { std::ofstream{path} << netstat(n); };
    write(100);
    listen_overflow_watch watch{path};
    EXPECT_TRUE(watch.available());
    EXPECT_EQ(watch.new_overflows(), 0u);
    write(103);
    EXPECT_EQ(watch.new_overflows(), 3u);
    EXPECT_EQ(watch.new_overflows(), 0u);
    write(2);  // the counter went down: nothing is invented
    EXPECT_EQ(watch.new_overflows(), 0u);
    write(7);
    EXPECT_EQ(watch.new_overflows(), 5u);
    std::filesystem::remove(path);
    EXPECT_EQ(watch.new_overflows(), 0u);  // unreadable: 0, not an error
}

TEST(ListenOverflowWatch, IsUnavailableWithoutTheFile)
{
    listen_overflow_watch watch{"/nonexistent/netstat"};
    EXPECT_FALSE(watch.available());
    EXPECT_EQ(watch.new_overflows(), 0u);
}

TEST(Metrics, ATotalSumsACounterOverItsLabels)
{
    fedgate::operations::metrics m;
    EXPECT_EQ(m.total("fedgate_bounces_total"), 0u);
    m.count("fedgate_bounces_total", {{"condition", "a"}}, 2);
    m.count("fedgate_bounces_total", {{"condition", "b"}}, 5);
    m.count("fedgate_stanzas_total", {}, 100);
    EXPECT_EQ(m.total("fedgate_bounces_total"), 7u);
}

}  // namespace
