#pragma once
/// @file
/// The benchmark's messages: 300-byte chat stanzas whose id carries their send
/// time, counted where they arrive, their added latency logged there.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::bench {

/// Send times carried by stanzas (steady_clock nanoseconds in the id, written
/// just before the write), read back where they arrive: the added latency.
/// Senders and receivers share the process, so they share the clock.
/// The value at quantile `q` (0..1) of `values`, nearest rank below; 0 when
/// there are none. The benchmarks' one definition of p50 and p99.
template <typename T>
T quantile(std::vector<T> values, double q)
{
    if (values.empty())
        return T{};
    auto const at = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at), values.end());
    return values[at];
}

class latency_log {
public:
    struct summary {
        std::size_t samples = 0;
        double p50_us = 0, p99_us = 0, max_us = 0;
    };
    void add(std::vector<std::int64_t> const& nanoseconds);
    [[nodiscard]] summary summarise() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::int64_t> nanoseconds_;
};

/// A 300-byte chat message from user<stream>@b.test to alice@<to_domain>,
/// with a send-time placeholder in its id (see stamp()).
std::string message(unsigned stream, unsigned n, std::string const& to_domain);
/// The same, between any two addresses.
std::string message(std::string const& from, std::string const& to, std::string const& tag);

/// Overwrites the send-time placeholder of every stanza in `stanzas` with `now`.
void stamp(std::string& stanzas, std::chrono::steady_clock::time_point now);

/// Counts the complete <message> stanzas in `pending` + `arrived` and keeps the
/// incomplete rest in `pending`; a stanza's send time, if stamped, goes to `log`.
std::uint64_t count_messages(std::string& pending, std::string_view arrived, latency_log& log);

}  // namespace fedgate::bench
