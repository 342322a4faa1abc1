#include "dns/resolver.hpp"

#include "dns/cares_channel.hpp"
#include "dns/reply_ttl.hpp"
#include "dns/srv_order.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fedgate::dns {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

constexpr std::uint16_t type_a = 1;
constexpr std::uint16_t type_aaaa = 28;
constexpr std::uint16_t type_srv = 33;
constexpr std::uint16_t default_s2s_port = 5269;  // RFC 6120 §3.2.2

answer cancelled()
{
    return {{}, {}, make_error_code(error::cancelled)};
}

}  // namespace

resolver::resolver(asio::any_io_executor executor, settings config, std::uint64_t seed,
                   std::function<cache::clock::time_point()> now)
    : config_{std::move(config)},
      channel_{std::make_unique<cares_channel>(executor, config_)},
      cache_{config_.cache_entries, std::move(now)},
      rng_{seed}
{
}

resolver::~resolver()
{
    *alive_ = false;
}

asio::awaitable<answer> resolver::query(std::string name, std::uint16_t type)
{
    if (auto hit = cache_.find(name, type))
        co_return *hit;
    auto alive = alive_;  // the coroutine may outlive *this; check before touching it
    ++queries_sent_;
    auto [status, reply] =
        co_await asio::async_initiate<decltype(asio::use_awaitable), void(int, std::vector<unsigned char>)>(
            [this, &name, type](auto handler) {
                using handler_type = decltype(handler);
                struct post_back final : completion {
                    explicit post_back(handler_type h) : handler{std::move(h)} {}
                    void complete(int code, std::vector<unsigned char> bytes) override
                    {
                        // Resume the coroutine from the executor, never from inside c-ares.
                        auto ex = asio::get_associated_executor(handler);
                        asio::post(ex, [h = std::move(handler), code, b = std::move(bytes)]() mutable {
                            std::move(h)(code, std::move(b));
                        });
                    }
                    handler_type handler;
                };
                channel_->start(name, type, std::make_unique<post_back>(std::move(handler)));
            },
            asio::use_awaitable);
    if (!*alive)
        co_return cancelled();

    answer a;
    a.error = to_error(status);
    std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
    if (!a.error) {
        if (type == type_srv) {
            a.srv = parse_srv(reply, a.error);
            ttl = answer_ttl(reply, type_srv).value_or(0);
        } else {
            a.addresses = parse_addresses(reply, type == type_a ? address::family::ipv4 : address::family::ipv6,
                                          a.error, ttl);
        }
    }
    if (is_negative_answer(a.error))
        ttl = negative_ttl(reply).value_or(static_cast<std::uint32_t>(config_.negative_ttl.count()));
    else if (a.error)
        ttl = 0;  // failures to find out are not remembered
    auto const keep = std::min<std::int64_t>(ttl, config_.max_ttl.count());
    cache_.store(name, type, a, std::chrono::seconds{keep});
    co_return a;
}

asio::awaitable<answer> resolver::query_srv(std::string name)
{
    return query(std::move(name), type_srv);
}

asio::awaitable<answer> resolver::query_addresses(std::string name, address::family family)
{
    return query(std::move(name), family == address::family::ipv4 ? type_a : type_aaaa);
}

asio::awaitable<std::vector<candidate>> resolver::candidates_for(std::string host, std::uint16_t port,
                                                                 bool direct_tls, std::error_code& last_error)
{
    auto [v6, v4] = co_await (query_addresses(host, address::family::ipv6) &&
                              query_addresses(host, address::family::ipv4));
    std::vector<candidate> out;
    for (auto const* a : {&v6, &v4}) {
        for (auto const& addr : a->addresses)
            out.push_back({host, port, addr, direct_tls});
        // A name with addresses of one family only answers NODATA for the other;
        // that is no failure worth reporting.
        if (a->error && a->addresses.empty() && !(a->error == error::no_data && (!v4.addresses.empty() ||
                                                                                  !v6.addresses.empty())))
            last_error = a->error;
    }
    co_return out;
}

asio::awaitable<resolution> resolver::resolve(std::string domain)
{
    auto alive = alive_;
    auto [direct, starttls] = co_await (query_srv("_xmpps-server._tcp." + domain) &&
                                        query_srv("_xmpp-server._tcp." + domain));
    resolution out;
    if (!*alive) {
        out.error = make_error_code(error::cancelled);
        co_return out;
    }
    auto plan = plan_targets({direct.srv, direct.error}, {starttls.srv, starttls.error}, rng_);
    if (plan.fallback) {
        plan.targets.push_back({{domain, default_s2s_port, 0, 0}, false});
        out.used_fallback = true;
    }
    if (plan.targets.empty()) {
        out.error = plan.error;
        co_return out;
    }
    std::error_code last_error;
    for (auto const& t : plan.targets) {
        auto found = co_await candidates_for(t.record.target, t.record.port, t.direct_tls, last_error);
        if (!*alive) {
            out.error = make_error_code(error::cancelled);
            co_return out;
        }
        out.candidates.insert(out.candidates.end(), found.begin(), found.end());
    }
    if (out.candidates.empty())
        out.error = last_error ? last_error : make_error_code(error::no_data);
    co_return out;
}

}  // namespace fedgate::dns
