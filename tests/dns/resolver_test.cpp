// The resolver against a real DNS server (dnsmasq) and, for answers no real server
// gives, a fake one; both on loopback, started and stopped by the test.
#include "dns/error.hpp"
#include "dns/resolver.hpp"
#include "dns_servers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <map>

namespace {

namespace asio = boost::asio;
using namespace fedgate::dns;
using fedgate::test::dnsmasq;
using fedgate::test::fake_dns_server;

std::vector<std::string> const lab_records = {
    // weights.test: three targets at priority 10 with weights 60/30/10, one at 20.
    "--srv-host=_xmpp-server._tcp.weights.test,w60.weights.test,5269,10,60",
    "--srv-host=_xmpp-server._tcp.weights.test,w30.weights.test,5269,10,30",
    "--srv-host=_xmpp-server._tcp.weights.test,w10.weights.test,5269,10,10",
    "--srv-host=_xmpp-server._tcp.weights.test,backup.weights.test,5269,20,0",
    "--host-record=w60.weights.test,127.0.1.60", "--host-record=w30.weights.test,127.0.1.30",
    "--host-record=w10.weights.test,127.0.1.10", "--host-record=backup.weights.test,127.0.1.20",
    // mixed.test: direct TLS (XEP-0368) at priority 5 before STARTTLS at 10.
    "--srv-host=_xmpps-server._tcp.mixed.test,tls.mixed.test,5270,5,0",
    "--srv-host=_xmpp-server._tcp.mixed.test,plain.mixed.test,5269,10,0",
    "--host-record=tls.mixed.test,127.0.2.1,fd00::2:1", "--host-record=plain.mixed.test,127.0.2.2",
    // dot.test: "no XMPP here", although the domain has an address.
    "--srv-host=_xmpp-server._tcp.dot.test", "--host-record=dot.test,127.0.3.1",
    // xmppsdot.test: no direct TLS, STARTTLS offered.
    "--srv-host=_xmpps-server._tcp.xmppsdot.test",
    "--srv-host=_xmpp-server._tcp.xmppsdot.test,xmppsdot.test,5299,0,0", "--host-record=xmppsdot.test,127.0.4.1",
    // nosrv.test: addresses only; v4only.test: IPv4 only.
    "--host-record=nosrv.test,127.0.5.1,fd00::5:1", "--host-record=v4only.test,127.0.6.1",
    // noaddr.test: a SRV target that has no address.
    "--srv-host=_xmpp-server._tcp.noaddr.test,ghost.noaddr.test,5269,0,0",
};

class resolver_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new dnsmasq{lab_records}; }
    static void TearDownTestSuite() { delete server_; }

    // Two attempts: on a loaded machine (a CI run beside fuzzers) dnsmasq once
    // left a query unanswered for 2 s.
    settings at(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::milliseconds{3000})
    {
        settings s;
        s.servers = {{"127.0.0.1", port}};
        s.timeout = timeout;
        s.attempts = 2;
        return s;
    }

    template <class T>
    T run(asio::awaitable<T> work)
    {
        auto result = asio::co_spawn(io_, std::move(work), asio::use_future);
        io_.restart();
        io_.run();
        return result.get();
    }

    static inline dnsmasq* server_ = nullptr;
    asio::io_context io_;
};

TEST_F(resolver_test, priorities_and_weights_order_the_targets)
{
    resolver r{io_.get_executor(), at(server_->port()), 1234};
    std::map<std::string, int> first;
    constexpr int runs = 2000;
    for (int i = 0; i < runs; ++i) {
        auto res = run(r.resolve("weights.test"));
        ASSERT_FALSE(res.error) << res.error.message();
        ASSERT_EQ(res.candidates.size(), 4u);
        EXPECT_EQ(res.candidates.back().host, "backup.weights.test") << "priority 20 comes last";
        ++first[res.candidates.front().host];
    }
    EXPECT_NEAR(first["w60.weights.test"] / double{runs}, 0.6, 0.05);
    EXPECT_NEAR(first["w30.weights.test"] / double{runs}, 0.3, 0.05);
    EXPECT_NEAR(first["w10.weights.test"] / double{runs}, 0.1, 0.04);
    // Everything after the first resolution came from the cache.
    EXPECT_LE(r.queries_sent(), 2u + 2u * 4u);
}

TEST_F(resolver_test, direct_tls_and_starttls_candidates_keep_their_method_and_families)
{
    resolver r{io_.get_executor(), at(server_->port())};
    auto res = run(r.resolve("mixed.test"));
    ASSERT_FALSE(res.error) << res.error.message();
    std::vector<candidate> expected = {
        {"tls.mixed.test", 5270, {"fd00::2:1", address::family::ipv6}, true},
        {"tls.mixed.test", 5270, {"127.0.2.1", address::family::ipv4}, true},
        {"plain.mixed.test", 5269, {"127.0.2.2", address::family::ipv4}, false},
    };
    EXPECT_EQ(res.candidates, expected);
    EXPECT_FALSE(res.used_fallback);
}

TEST_F(resolver_test, a_dot_target_means_no_service_and_no_fallback)
{
    resolver r{io_.get_executor(), at(server_->port())};
    auto res = run(r.resolve("dot.test"));
    EXPECT_TRUE(res.candidates.empty());
    EXPECT_EQ(res.error, make_error_code(error::service_unavailable));

    auto starttls_only = run(r.resolve("xmppsdot.test"));
    ASSERT_EQ(starttls_only.candidates.size(), 1u);
    EXPECT_EQ(starttls_only.candidates[0], (candidate{"xmppsdot.test", 5299, {"127.0.4.1"}, false}));
}

TEST_F(resolver_test, no_srv_falls_back_to_the_domain_on_5269)
{
    resolver r{io_.get_executor(), at(server_->port())};
    auto res = run(r.resolve("nosrv.test"));
    ASSERT_FALSE(res.error) << res.error.message();
    EXPECT_TRUE(res.used_fallback);
    std::vector<candidate> expected = {{"nosrv.test", 5269, {"fd00::5:1", address::family::ipv6}, false},
                                       {"nosrv.test", 5269, {"127.0.5.1", address::family::ipv4}, false}};
    EXPECT_EQ(res.candidates, expected);

    auto v4 = run(r.resolve("v4only.test"));
    ASSERT_FALSE(v4.error) << "a missing AAAA is no failure when an A exists";
    EXPECT_EQ(v4.candidates.size(), 1u);
}

TEST_F(resolver_test, error_kinds_are_distinguishable)
{
    resolver r{io_.get_executor(), at(server_->port())};
    EXPECT_EQ(run(r.resolve("nope.test")).error, make_error_code(error::nxdomain));
    EXPECT_EQ(run(r.query_addresses("v4only.test", address::family::ipv6)).error, make_error_code(error::no_data));
    EXPECT_EQ(run(r.resolve("noaddr.test")).error, make_error_code(error::nxdomain));

    fake_dns_server servfail{fake_dns_server::behaviour::servfail};
    resolver rs{io_.get_executor(), at(servfail.port())};
    EXPECT_EQ(run(rs.query_srv("_xmpp-server._tcp.x.test")).error, make_error_code(error::server_failure));

    fake_dns_server refused{fake_dns_server::behaviour::refused};
    resolver rr{io_.get_executor(), at(refused.port())};
    EXPECT_EQ(run(rr.query_srv("_xmpp-server._tcp.x.test")).error, make_error_code(error::refused));

    fake_dns_server malformed{fake_dns_server::behaviour::malformed};
    resolver rm{io_.get_executor(), at(malformed.port())};
    EXPECT_EQ(run(rm.query_srv("_xmpp-server._tcp.x.test")).error, make_error_code(error::bad_reply));

    fake_dns_server silent{fake_dns_server::behaviour::silent};
    resolver rt{io_.get_executor(), at(silent.port(), std::chrono::milliseconds{200})};
    auto started = std::chrono::steady_clock::now();
    auto res = run(rt.resolve("x.test"));
    EXPECT_EQ(res.error, make_error_code(error::timeout));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{5});
}

TEST_F(resolver_test, answers_are_cached_for_their_ttl_positive_and_negative)
{
    dnsmasq own{lab_records};
    auto now = cache::clock::now();
    resolver r{io_.get_executor(), at(own.port(), std::chrono::milliseconds{300}), 1, [&] { return now; }};
    auto first = run(r.resolve("nosrv.test"));
    ASSERT_FALSE(first.error);
    EXPECT_EQ(run(r.resolve("nope.test")).error, make_error_code(error::nxdomain));
    auto const sent = r.queries_sent();

    own.stop();  // from here on, only the cache can answer
    auto again = run(r.resolve("nosrv.test"));
    EXPECT_EQ(again.candidates, first.candidates);
    EXPECT_EQ(run(r.resolve("nope.test")).error, make_error_code(error::nxdomain));
    EXPECT_EQ(r.queries_sent(), sent) << "no query left the cache";

    now += std::chrono::seconds{301};  // past dnsmasq's TTL of 300
    // The server is gone: its port answers ICMP unreachable, so the query is refused.
    EXPECT_EQ(run(r.resolve("nosrv.test")).error, make_error_code(error::refused));
    EXPECT_GT(r.queries_sent(), sent);
}

}  // namespace
