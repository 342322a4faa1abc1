#include "operations/memory_release.hpp"

#include <malloc.h>

#include <algorithm>

namespace fedgate::operations {

void memory_release::opened(std::size_t open) noexcept
{
    peak_ = std::max(peak_, open);
}

bool memory_release::closed(std::size_t open) noexcept
{
    // At least half of the peak and a thousand streams gone: a large burst
    // ended, not the churn of a steady state.
    if (peak_ < open + minimum_closed || open > peak_ / 2)
        return false;
    peak_ = open;
    return true;
}

void release_free_memory() noexcept
{
    ::malloc_trim(0);
}

}  // namespace fedgate::operations
