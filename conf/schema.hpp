#pragma once
/// @file
/// Every section of fedgate.toml and every key the loader reads in it. The
/// loader refuses any other key (table_reader::finish) and throws when it asks
/// for a key that is not listed here, so this table and the loader cannot
/// drift apart; the tests check that fedgate.toml(5) documents each key.

#include <span>
#include <string>
#include <string_view>

namespace fedgate::conf {

/// One section: `[name]`, or `[[name]]` when it repeats.
struct section_schema {
    std::string_view name;
    bool repeated = false;
    std::span<std::string_view const> keys;
};

/// Every section, in the order of conf/fedgate.example.toml.
[[nodiscard]] std::span<section_schema const> schema() noexcept;

/// The section called `name`; throws std::logic_error when there is none (a
/// loader that asks for a section it does not know is a bug, not bad input).
[[nodiscard]] section_schema const& schema_of(std::string_view name);

/// "[gateway]" or "[[partner]]", as messages and the manual write it.
[[nodiscard]] std::string written(section_schema const& s);

/// Whether `key` is one of `s`'s keys.
[[nodiscard]] bool knows(section_schema const& s, std::string_view key) noexcept;

}  // namespace fedgate::conf
