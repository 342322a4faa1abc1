#pragma once
/// @file
/// The domains the operator refuses to federate with (open federation's first
/// defence): exact names, and `*.suffix` wildcards for every subdomain of a
/// suffix. A plain value, read from the operator's file by conf/ and consulted
/// by the inbound sessions before any negotiation and by the router before any
/// outbound connection.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fedgate::policy {

/// Where an entry was written: its text and the line of the blocklist file.
struct block_entry {
    std::string pattern;  ///< "spam.example" or "*.spam.example", canonical
    std::uint32_t line = 0;
};

/// "spam.example is blocked here (blocklist line 3: *.example)": for the log
/// and the stream error alike.
[[nodiscard]] std::string blocked_text(std::string_view domain, block_entry const& entry);

class blocklist {
public:
    /// Blocks `domain` (canonical). Returns nullptr, or the earlier entry it repeats.
    block_entry const* add_exact(std::string domain, std::uint32_t line);
    /// Blocks every subdomain of `suffix` (canonical, without the "*."), not
    /// `suffix` itself: write both to block a domain and its subdomains.
    /// Returns nullptr, or the earlier entry it repeats.
    block_entry const* add_suffix(std::string suffix, std::uint32_t line);

    /// The entry that blocks `domain` (canonical), or nullptr. A partner the
    /// configuration lists by name (`listed`) is blocked only by its exact name:
    /// a wildcard meant for strangers never cuts a partner off by accident.
    [[nodiscard]] block_entry const* match(std::string_view domain, bool listed) const;

    [[nodiscard]] std::size_t exact_count() const noexcept { return exact_.size(); }
    [[nodiscard]] std::size_t suffix_count() const noexcept { return suffixes_.size(); }
    [[nodiscard]] bool empty() const noexcept { return exact_.empty() && suffixes_.empty(); }

private:
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    using by_name = std::unordered_map<std::string, block_entry, text_hash, std::equal_to<>>;
    by_name exact_;
    by_name suffixes_;  // by the suffix, without "*."
};

}  // namespace fedgate::policy
