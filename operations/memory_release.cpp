#include "operations/memory_release.hpp"

#include <malloc.h>

#include <algorithm>
#include <utility>

namespace fedgate::operations {

void memory_release::opened(std::size_t open) noexcept
{
    peak_ = std::max(peak_, open);
    changed_ = true;
}

bool memory_release::closed(std::size_t open) noexcept
{
    ++closed_since_release_;
    changed_ = true;
    // At least half of the peak and a thousand streams gone: a large burst
    // ended, not the churn of a steady state.
    if (peak_ < open + minimum_closed || open > peak_ / 2)
        return false;
    released(open);
    return true;
}

bool memory_release::quiet(std::size_t open) noexcept
{
    bool const still = !std::exchange(changed_, false);
    if (!still || closed_since_release_ < minimum_quiet_closed)
        return false;
    released(open);
    return true;
}

void memory_release::released(std::size_t open) noexcept
{
    peak_ = open;
    closed_since_release_ = 0;
}

void release_free_memory() noexcept
{
    ::malloc_trim(0);
}

}  // namespace fedgate::operations
