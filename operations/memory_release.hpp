#pragma once
/// @file
/// When to hand freed memory back to the system. glibc keeps what a burst of
/// streams freed (about 43 KiB each, 430 MiB for 10,000) in its heap after they
/// close; an operator watching the gateway's RSS would see the high-water mark
/// for good. After many streams have closed, malloc_trim(0) returns it.

#include <cstddef>

namespace fedgate::operations {

class memory_release {
public:
    /// Streams that must close, and the share of the most seen since the last
    /// release that must have gone, before a release is worth its cost (a pass
    /// over the heap: milliseconds for hundreds of MiB).
    static constexpr std::size_t minimum_closed = 1024;

    /// The number of open streams after one opened.
    void opened(std::size_t open) noexcept;
    /// The number of open streams after one closed; true when now is the time
    /// to release (the caller runs release_free_memory()).
    [[nodiscard]] bool closed(std::size_t open) noexcept;

private:
    std::size_t peak_ = 0;
};

/// malloc_trim(0): gives the heap's free pages back to the system.
void release_free_memory() noexcept;

}  // namespace fedgate::operations
