// libFuzzer target: arbitrary bytes as the reply to a DNS query, through what
// fedgate does with one: c-ares's SRV, A and AAAA parsers and our conversion of
// their results, our own TTL readers (RFC 1035, RFC 2308), and the RFC 2782 /
// XEP-0368 connection plan made of the records. The first byte says which
// query the reply answers; the rest is the reply. Checked beyond ASan/UBSan:
// a parse either fails with a reason or yields records in our form (host names
// in lowercase, without the final dot), and the plan is an ordering of exactly the
// records it was given, by ascending priority.
#include "dns/cares_channel.hpp"
#include "dns/error.hpp"
#include "dns/reply_ttl.hpp"
#include "dns/srv_order.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

using namespace fedgate::dns;

/// A failed check names itself, so that a finding says what it broke.
#define check(condition)                                                              \
    do {                                                                              \
        if (!(condition)) {                                                           \
            std::fprintf(stderr, "dns_reply_fuzz:%d: %s does not hold\n", __LINE__, #condition); \
            std::abort();                                                             \
        }                                                                             \
    } while (false)

void srv(std::vector<unsigned char> const& reply, bool direct_tls)
{
    std::error_code ec;
    auto records = parse_srv(reply, ec);
    check(records.empty() == static_cast<bool>(ec));
    for (auto const& r : records) {
        check(!r.target.empty());
        check(r.target == "." || (r.target.front() != '.' && r.target.back() != '.' && r.target.size() <= 253));
        check(std::all_of(r.target.begin(), r.target.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        }));
    }
    std::mt19937_64 rng{reply.size()};
    srv_answer const given{records, ec};
    srv_answer const none{{}, make_error_code(error::no_data)};
    auto const plan = direct_tls ? plan_targets(given, none, rng) : plan_targets(none, given, rng);
    // A lone "." says the service is not offered (RFC 2782); a "." among other
    // records is no target.
    bool const refused = records.size() == 1 && records.front().target == ".";
    auto expected = records;
    std::erase_if(expected, [](srv_record const& r) { return r.target == "."; });
    if (expected.empty()) {
        check(plan.targets.empty() && plan.fallback == !refused);
        return;
    }
    check(!plan.fallback && plan.targets.size() == expected.size());
    auto left = expected;
    for (std::size_t i = 0; i < plan.targets.size(); ++i) {
        auto const& t = plan.targets[i];
        check(t.direct_tls == direct_tls);
        check(i == 0 || plan.targets[i - 1].record.priority <= t.record.priority);
        auto it = std::find(left.begin(), left.end(), t.record);
        check(it != left.end());  // each record once, none invented
        left.erase(it);
    }
}

void addresses(std::vector<unsigned char> const& reply, address::family family)
{
    std::error_code ec;
    std::uint32_t ttl = UINT32_MAX;
    auto const found = parse_addresses(reply, family, ec, ttl);
    check(found.empty() == static_cast<bool>(ec));
    for (auto const& a : found)
        check(a.kind == family && !a.ip.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size < 1)
        return 0;
    std::vector<unsigned char> const reply(data + 1, data + size);
    switch (data[0] % 4) {
    case 0:
        srv(reply, false);
        break;
    case 1:
        srv(reply, true);
        break;
    case 2:
        addresses(reply, address::family::ipv4);
        break;
    default:
        addresses(reply, address::family::ipv6);
        break;
    }
    // Our own readers, on every reply.
    (void)answer_ttl(reply, 33);
    (void)answer_ttl(reply, 1);
    (void)negative_ttl(reply);
    return 0;
}
