#pragma once
/// @file
/// A token bucket for rate limits (issue 23: stanzas and bytes per second from
/// a remote domain). It may run into debt: what was read already is let
/// through and paid for by not reading until the debt is paid (back-pressure);
/// only a peer that overruns by more than a whole burst while held is refused.
/// Time is passed in, so the tests need no clock.

#include <chrono>

namespace fedgate::policy {

class token_bucket {
public:
    using clock = std::chrono::steady_clock;
    enum class verdict : unsigned char {
        pass,    ///< taken from what the bucket held
        slow,    ///< taken into debt: stop reading until paid_at()
        refuse,  ///< not taken: the debt would pass one burst
    };

    /// `rate` tokens a second, at most `burst` held (and at most `burst` owed);
    /// full at `now`.
    token_bucket(double rate, double burst, clock::time_point now) noexcept;

    /// What take() would say, taking nothing.
    [[nodiscard]] verdict judge(double amount, clock::time_point now) const noexcept;
    [[nodiscard]] verdict take(double amount, clock::time_point now) noexcept;
    /// When the level is back to zero (now, when it is not below).
    [[nodiscard]] clock::time_point paid_at(clock::time_point now) const noexcept;
    [[nodiscard]] double level(clock::time_point now) const noexcept;
    [[nodiscard]] double rate() const noexcept { return rate_; }
    [[nodiscard]] double burst() const noexcept { return burst_; }

private:
    double rate_;
    double burst_;
    double level_;
    clock::time_point last_;
};

}  // namespace fedgate::policy
