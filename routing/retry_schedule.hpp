#pragma once
/// @file
/// When to try a partner again after a failed connection: a random first delay,
/// then truncated binary exponential backoff with jitter (RFC 6120 §3.3), so that
/// many gateways whose partner came back do not all reconnect in the same second.

#include <chrono>
#include <random>

namespace fedgate::routing {

struct retry_limits {
    std::chrono::milliseconds first_max{15'000};  ///< the first delay is uniform in [0, first_max]
    std::chrono::milliseconds cap{600'000};       ///< no delay grows beyond this
};

/// The internal server is next door: its links come back quickly, but do not spin.
inline constexpr retry_limits internal_server_retry{.first_max = std::chrono::milliseconds{1000},
                                                    .cap = std::chrono::milliseconds{30'000}};

class retry_schedule {
public:
    /// `seed` for tests; production seeds from std::random_device.
    explicit retry_schedule(retry_limits limits = {}, std::uint_fast32_t seed = std::random_device{}());

    /// The delay before the next attempt; each call is one more failure.
    [[nodiscard]] std::chrono::milliseconds next();
    /// A success: the next failure starts over.
    void reset() noexcept { failures_ = 0; }
    [[nodiscard]] unsigned failures() const noexcept { return failures_; }

private:
    retry_limits limits_;
    std::mt19937 random_;
    unsigned failures_ = 0;
};

}  // namespace fedgate::routing
