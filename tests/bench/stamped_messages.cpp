#include "tests/bench/stamped_messages.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace fedgate::bench {

namespace {

/// In a stanza's id: the marker, then 20 digits of steady_clock nanoseconds
/// (zeros until stamped: a stanza that was never stamped carries no latency).
constexpr std::string_view stamp_marker = "bench-t";
constexpr std::size_t stamp_digits = 20;

std::int64_t nanoseconds_now()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void latency_log::add(std::vector<std::int64_t> const& nanoseconds)
{
    std::lock_guard lock{mutex_};
    nanoseconds_.insert(nanoseconds_.end(), nanoseconds.begin(), nanoseconds.end());
}

latency_log::summary latency_log::summarise() const
{
    std::vector<std::int64_t> samples;
    {
        std::lock_guard lock{mutex_};
        samples = nanoseconds_;
    }
    auto const us = [&](double q) { return static_cast<double>(quantile(samples, q)) / 1000.0; };
    return {samples.size(), us(0.50), us(0.99), us(1.0)};
}

std::string message(unsigned stream, unsigned n, std::string const& to_domain)
{
    return message("user" + std::to_string(stream) + "@b.test/bench", "alice@" + to_domain,
                   std::to_string(stream) + "-" + std::to_string(n));
}

std::string message(std::string const& from, std::string const& to, std::string const& tag)
{
    std::string head = "<message from='" + from + "' to='" + to + "' type='chat' id='" + std::string{stamp_marker} +
                       std::string(stamp_digits, '0') + "-" + tag + "'><body>";
    std::string tail = "</body></message>";
    return head + std::string(300 - head.size() - tail.size(), 'x') + tail;
}

void stamp(std::string& stanzas, std::chrono::steady_clock::time_point now)
{
    char digits[stamp_digits + 1];
    std::snprintf(digits, sizeof digits, "%020lld",
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count()));
    for (auto at = stanzas.find(stamp_marker); at != std::string::npos; at = stanzas.find(stamp_marker, at)) {
        at += stamp_marker.size();
        stanzas.replace(at, stamp_digits, digits, stamp_digits);
        at += stamp_digits;
    }
}

std::uint64_t count_messages(std::string& pending, std::string_view arrived, latency_log& log)
{
    static constexpr std::string_view end = "</message>";
    auto const now = nanoseconds_now();
    pending.append(arrived);
    std::uint64_t found = 0;
    std::vector<std::int64_t> delays;
    std::size_t from = 0;
    for (auto at = pending.find(end); at != std::string::npos; at = pending.find(end, from)) {
        // Only within this stanza: a server that dropped the id must not make us
        // search the whole buffer for each stanza.
        auto const stanza = std::string_view{pending}.substr(from, at - from);
        if (auto marker = stanza.find(stamp_marker);
            marker != std::string_view::npos && stanza.size() >= marker + stamp_marker.size() + stamp_digits) {
            auto const digits = stanza.substr(marker + stamp_marker.size(), stamp_digits);
            std::int64_t sent = 0;
            std::from_chars(digits.data(), digits.data() + digits.size(), sent);
            if (sent > 0)
                delays.push_back(now - sent);
        }
        ++found;
        from = at + end.size();
    }
    pending.erase(0, from);
    if (!delays.empty())
        log.add(delays);
    return found;
}

}  // namespace fedgate::bench
