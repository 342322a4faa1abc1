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
    /// Once a second, with the number of open streams: true when a burst has
    /// ended, that is, at least `minimum_quiet_closed` streams closed since the
    /// last release and none opened or closed since the last call. The rule
    /// above misses the tail of a burst (the last half, when it is below
    /// `minimum_closed`); this one catches it once things are quiet.
    [[nodiscard]] bool quiet(std::size_t open) noexcept;

    static constexpr std::size_t minimum_quiet_closed = 256;

private:
    void released(std::size_t open) noexcept;

    std::size_t peak_ = 0;
    std::size_t closed_since_release_ = 0;
    bool changed_ = false;  ///< a stream opened or closed since the last quiet() call
};

/// malloc_trim(0): gives the heap's free pages back to the system.
void release_free_memory() noexcept;

}  // namespace fedgate::operations
