#include "dns/cache.hpp"
#include "dns/cares_channel.hpp"
#include "dns/error.hpp"
#include "dns/reply_ttl.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace fedgate::dns;
using bytes = std::vector<unsigned char>;

void put16(bytes& b, unsigned v)
{
    b.push_back(static_cast<unsigned char>(v >> 8));
    b.push_back(static_cast<unsigned char>(v));
}
void put32(bytes& b, std::uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}
void put_name(bytes& b, std::vector<std::string> const& labels)
{
    for (auto const& l : labels) {
        b.push_back(static_cast<unsigned char>(l.size()));
        b.insert(b.end(), l.begin(), l.end());
    }
    b.push_back(0);
}

/// A reply to "_xmpp-server._tcp.a.test SRV" with two SRV answers (TTL 300 and
/// 120, the second using a compression pointer to the question name).
bytes srv_reply()
{
    bytes b;
    put16(b, 0x1234);
    put16(b, 0x8180);
    put16(b, 1), put16(b, 2), put16(b, 0), put16(b, 0);
    put_name(b, {"_xmpp-server", "_tcp", "a", "test"});
    put16(b, 33), put16(b, 1);
    put_name(b, {"_xmpp-server", "_tcp", "a", "test"});
    put16(b, 33), put16(b, 1), put32(b, 300), put16(b, 6 + 8);
    put16(b, 10), put16(b, 5), put16(b, 5269), put_name(b, {"a", "test"});
    b.push_back(0xc0), b.push_back(12);  // pointer to the question name
    put16(b, 33), put16(b, 1), put32(b, 120), put16(b, 6 + 8);
    put16(b, 20), put16(b, 0), put16(b, 5269), put_name(b, {"b", "test"});
    return b;
}

/// A reply to "_xmpp-server._tcp.a.test SRV" with one record per target, each
/// target given as its labels as they are on the wire.
bytes srv_reply_to(std::vector<std::vector<std::string>> const& targets)
{
    bytes b;
    put16(b, 0x1234);
    put16(b, 0x8180);
    put16(b, 1), put16(b, static_cast<unsigned>(targets.size())), put16(b, 0), put16(b, 0);
    put_name(b, {"_xmpp-server", "_tcp", "a", "test"});
    put16(b, 33), put16(b, 1);
    for (auto const& target : targets) {
        bytes name;
        put_name(name, target);
        b.push_back(0xc0), b.push_back(12);
        put16(b, 33), put16(b, 1), put32(b, 300), put16(b, static_cast<unsigned>(6 + name.size()));
        put16(b, 10), put16(b, 5), put16(b, 5269);
        b.insert(b.end(), name.begin(), name.end());
    }
    return b;
}

TEST(parse_srv, targets_are_lowercase_host_names_without_the_final_dot)
{
    std::error_code ec;
    auto records = parse_srv(srv_reply_to({{"XMPP", "A", "test"}, {}}), ec);
    EXPECT_FALSE(ec);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].target, "xmpp.a.test");
    EXPECT_EQ(records[1].target, ".");
}

TEST(parse_srv, a_target_that_is_no_host_name_is_no_target)
{
    // Found by tests/fuzz/dns_reply_fuzz: a label with a dot or a control byte
    // reached us as c-ares's escaped text ("a\\.b").
    std::error_code ec;
    auto records = parse_srv(srv_reply_to({{"a.b", "test"}, {"good", "test"}, {std::string{"\x03"}, "test"}}), ec);
    EXPECT_FALSE(ec);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].target, "good.test");
    records = parse_srv(srv_reply_to({{"a.b", "test"}}), ec);
    EXPECT_TRUE(records.empty());
    EXPECT_EQ(ec, make_error_code(error::bad_reply)) << "SRV records there are: no fallback to the domain's address";
}

TEST(parse_srv, a_reply_without_srv_records_is_no_data_even_when_c_ares_calls_it_a_success)
{
    std::error_code ec;
    auto records = parse_srv(srv_reply_to({}), ec);
    EXPECT_TRUE(records.empty());
    EXPECT_EQ(ec, make_error_code(error::no_data));
}

TEST(reply_ttl, smallest_answer_ttl_of_the_type)
{
    auto b = srv_reply();
    EXPECT_EQ(answer_ttl(b, 33), 120u);
    EXPECT_EQ(answer_ttl(b, 1), std::nullopt);
}

TEST(reply_ttl, truncated_replies_give_nothing)
{
    auto b = srv_reply();
    for (std::size_t cut = 0; cut < b.size(); ++cut)
        EXPECT_EQ(answer_ttl(std::span{b.data(), cut}, 33), std::nullopt) << cut;
}

TEST(reply_ttl, negative_ttl_from_the_soa)
{
    bytes b;
    put16(b, 1), put16(b, 0x8183);  // NXDOMAIN
    put16(b, 1), put16(b, 0), put16(b, 1), put16(b, 0);
    put_name(b, {"nope", "test"});
    put16(b, 1), put16(b, 1);
    put_name(b, {"test"});
    bytes rdata;
    put_name(rdata, {"ns", "test"});
    put_name(rdata, {"admin", "test"});
    put32(rdata, 1), put32(rdata, 2), put32(rdata, 3), put32(rdata, 4), put32(rdata, 90);
    put16(b, 6), put16(b, 1), put32(b, 600), put16(b, static_cast<unsigned>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
    EXPECT_EQ(negative_ttl(b), 90u);  // min(SOA TTL 600, MINIMUM 90), RFC 2308 §5
    EXPECT_EQ(negative_ttl(srv_reply()), std::nullopt);
}

TEST(cache, honours_ttls_and_its_bound)
{
    auto now = cache::clock::time_point{};
    cache c{2, [&] { return now; }};
    answer a{{}, {{"192.0.2.1", address::family::ipv4}}, {}};
    c.store("a.test", 1, a, std::chrono::seconds{10});
    EXPECT_EQ(c.find("a.test", 1), a);
    EXPECT_EQ(c.find("a.test", 28), std::nullopt);
    now += std::chrono::seconds{10};
    EXPECT_EQ(c.find("a.test", 1), std::nullopt) << "expired at its TTL";

    c.store("zero.test", 1, a, std::chrono::seconds{0});
    EXPECT_EQ(c.size(), 0u) << "TTL 0 is not cached";

    answer negative{{}, {}, make_error_code(error::nxdomain)};
    c.store("x.test", 1, negative, std::chrono::seconds{100});
    c.store("y.test", 1, a, std::chrono::seconds{50});
    c.store("z.test", 1, a, std::chrono::seconds{200});
    EXPECT_EQ(c.size(), 2u);
    EXPECT_EQ(c.find("y.test", 1), std::nullopt) << "the entry closest to expiry made room";
    EXPECT_EQ(c.find("x.test", 1), negative);
}

}  // namespace
