#pragma once
/// @file
/// A bounded cache of DNS answers, positive and negative, that honours their TTLs.
/// Time is injected so tests can move it.

#include "dns/records.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace fedgate::dns {

/// The parsed answer to one query: records of one type, or why there are none.
struct answer {
    std::vector<srv_record> srv;
    std::vector<address> addresses;
    std::error_code error;
    friend bool operator==(answer const&, answer const&) = default;
};

class cache {
public:
    using clock = std::chrono::steady_clock;

    /// At most `max_entries` answers; the one expiring first makes room.
    explicit cache(std::size_t max_entries = 4096, std::function<clock::time_point()> now = clock::now)
        : max_entries_{max_entries}, now_{std::move(now)}
    {
    }

    /// The answer for (name, type) if one is stored and its TTL has not run out.
    [[nodiscard]] std::optional<answer> find(std::string const& name, std::uint16_t type);
    /// Stores an answer for `ttl`; a zero TTL is not stored (RFC 1035 §3.2.1).
    void store(std::string const& name, std::uint16_t type, answer a, std::chrono::seconds ttl);
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct entry {
        answer value;
        clock::time_point expires;
    };
    std::size_t max_entries_;
    std::function<clock::time_point()> now_;
    std::map<std::pair<std::string, std::uint16_t>, entry> entries_;
};

}  // namespace fedgate::dns
