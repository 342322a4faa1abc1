#pragma once
/// @file
/// Repeated log lines of one kind at most once per interval. Under a flood (a
/// full queue refusing 75,000 stanzas in a second) one line per stanza is 25 MB
/// of log that hides everything else; one line per cause and partner per second,
/// with counts, says the same. The first occurrence of a key in its interval is
/// logged in full by the caller; the others are only counted here (the caller
/// logs them at debug level) and come back from due() as one summary when the
/// interval ends. A steady flood so gives two lines per key and interval: one
/// sample in full and the count of the rest. Sans-I/O: time comes in as arguments.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::operations {

class log_summary {
public:
    using clock = std::chrono::steady_clock;

    explicit log_summary(std::chrono::milliseconds interval = std::chrono::seconds{1}) : interval_{interval} {}

    /// One occurrence of `key` concerning `stanzas` stanzas at `now`. True: the
    /// caller logs this one in full. False: it is counted for the summary.
    [[nodiscard]] bool note(std::string_view key, std::size_t stanzas, clock::time_point now);

    struct summary {
        std::string key;
        std::size_t occurrences = 0;  ///< not logged in full
        std::size_t stanzas = 0;      ///< that they concerned
        friend bool operator==(summary const&, summary const&) = default;
    };
    /// The keys whose interval has ended by `now` with occurrences not logged in
    /// full, one summary each, and forgets them: the next occurrence of a key is
    /// logged in full again.
    [[nodiscard]] std::vector<summary> due(clock::time_point now);

    [[nodiscard]] std::chrono::milliseconds interval() const noexcept { return interval_; }

private:
    struct window {
        clock::time_point start;
        std::size_t occurrences = 0;
        std::size_t stanzas = 0;
    };
    std::chrono::milliseconds interval_;
    std::map<std::string, window, std::less<>> windows_;
    std::vector<summary> ready_;  ///< windows closed by a note() before due() saw them
};

}  // namespace fedgate::operations
