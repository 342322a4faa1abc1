#pragma once
/// @file
/// Reads one TOML table against its section's schema (conf/schema.hpp): type and
/// range errors become diagnostics with the key's line, and finish() reports every
/// key the schema does not list, with a suggestion when one is close.

#include "conf/diagnostic.hpp"
#include "conf/schema.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::conf {

/// A string with the line it came from.
struct located_string {
    std::string value;
    std::uint32_t line = 0;
};

class table_reader {
public:
    /// `section` is the table's schema; messages name it "[gateway]" or "[[partner]]".
    table_reader(toml::table const& table, section_schema const& section, diagnostics& out);

    /// Line of the table itself (its header), or of `key` when present.
    [[nodiscard]] std::uint32_t line() const noexcept;
    [[nodiscard]] std::uint32_t line_of(std::string_view key) const noexcept;
    [[nodiscard]] std::string const& section() const noexcept { return section_; }

    /// Each getter returns nullopt when the key is absent or wrong (then reported).
    [[nodiscard]] std::optional<located_string> string(std::string_view key);
    [[nodiscard]] std::optional<bool> boolean(std::string_view key);
    [[nodiscard]] std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                      std::string_view why_range = {});
    [[nodiscard]] std::optional<std::vector<located_string>> strings(std::string_view key);
    /// A string that must be one of `words`; returns its index in `words`.
    [[nodiscard]] std::optional<std::size_t> choice(std::string_view key,
                                                    std::initializer_list<std::string_view> words);

    /// Reports `key` as missing when absent, with `example` showing how to add it.
    /// Returns whether it is present.
    bool require(std::string_view key, std::string_view example);

    /// Reports every key of the table that the schema does not list.
    void finish();

private:
    toml::node const* find(std::string_view key);
    void wrong_type(std::string_view key, toml::node const& node, std::string_view expected);

    toml::table const& table_;
    section_schema const& schema_;
    std::string section_;
    diagnostics& out_;
};

/// Line of a TOML node (1-based; 0 when unknown).
[[nodiscard]] std::uint32_t line_of(toml::node const& node) noexcept;

/// "a string", "an integer", ... for messages.
[[nodiscard]] std::string_view type_phrase(toml::node_type t) noexcept;

/// The candidate closest to `word` within a small edit distance, or empty.
[[nodiscard]] std::string closest_match(std::string_view word, std::vector<std::string> const& candidates);

/// "\"a\", \"b\" or \"c\"".
[[nodiscard]] std::string quoted_alternatives(std::initializer_list<std::string_view> words);

}  // namespace fedgate::conf
