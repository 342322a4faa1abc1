#include "policy/token_bucket.hpp"

#include <algorithm>

namespace fedgate::policy {

token_bucket::token_bucket(double rate, double burst, clock::time_point now) noexcept
    : rate_{rate}, burst_{burst}, level_{burst}, last_{now}
{
}

double token_bucket::level(clock::time_point now) const noexcept
{
    auto const elapsed = std::chrono::duration<double>(std::max(now - last_, clock::duration::zero())).count();
    return std::min(burst_, level_ + elapsed * rate_);
}

token_bucket::verdict token_bucket::judge(double amount, clock::time_point now) const noexcept
{
    auto const after = level(now) - amount;
    if (after < -burst_)
        return verdict::refuse;
    return after >= 0 ? verdict::pass : verdict::slow;
}

token_bucket::verdict token_bucket::take(double amount, clock::time_point now) noexcept
{
    auto const outcome = judge(amount, now);
    level_ = level(now);
    last_ = std::max(last_, now);
    if (outcome != verdict::refuse)
        level_ -= amount;
    return outcome;
}

token_bucket::clock::time_point token_bucket::paid_at(clock::time_point now) const noexcept
{
    auto const owed = -level(now);
    if (owed <= 0)
        return now;
    return now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(owed / rate_));
}

}  // namespace fedgate::policy
