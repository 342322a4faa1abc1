#include "conf/table_reader.hpp"

#include <algorithm>
#include <stdexcept>

namespace fedgate::conf {

std::uint32_t line_of(toml::node const& node) noexcept
{
    return node.source().begin.line;
}

std::string_view type_phrase(toml::node_type t) noexcept
{
    switch (t) {
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a floating-point number";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::table:
        return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
        return "a date or time";
    case toml::node_type::none:
        break;
    }
    return "nothing";
}

namespace {

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// transpositions of neighbours ("tsl" is one edit from "tls").
std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t const cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, std::vector<std::string> const& candidates)
{
    // Two edits catch transpositions and most typos without proposing unrelated keys.
    std::size_t const limit = std::min<std::size_t>(2, std::max<std::size_t>(1, word.size() / 3));
    std::string best;
    std::size_t best_distance = limit + 1;
    for (auto const& c : candidates) {
        auto d = edit_distance(word, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

std::string quoted_alternatives(std::initializer_list<std::string_view> words)
{
    std::string out;
    std::size_t i = 0;
    for (auto w : words) {
        if (i > 0)
            out += (i + 1 == words.size()) ? " or " : ", ";
        out += "\"" + std::string{w} + "\"";
        ++i;
    }
    return out;
}

table_reader::table_reader(toml::table const& table, section_schema const& section, diagnostics& out)
    : table_{table}, schema_{section}, section_{written(section)}, out_{out}
{
}

std::uint32_t table_reader::line() const noexcept
{
    return conf::line_of(table_);
}

std::uint32_t table_reader::line_of(std::string_view key) const noexcept
{
    auto const* node = table_.get(key);
    return node ? conf::line_of(*node) : line();
}

toml::node const* table_reader::find(std::string_view key)
{
    // A key the schema does not list would be refused as unknown while the
    // loader reads it: a bug every test that loads a configuration shows.
    if (!knows(schema_, key))
        throw std::logic_error{"conf: the loader reads '" + std::string{key} + "' in " + section_ +
                               ", which conf/schema.cpp does not list"};
    return table_.get(key);
}

void table_reader::wrong_type(std::string_view key, toml::node const& node, std::string_view expected)
{
    out_.error(conf::line_of(node), "'" + std::string{key} + "' in " + section_ + " must be " + std::string{expected} +
                                        ", not " + std::string{type_phrase(node.type())});
}

std::optional<located_string> table_reader::string(std::string_view key)
{
    auto const* node = find(key);
    if (!node)
        return std::nullopt;
    if (auto const* s = node->as_string())
        return located_string{s->get(), conf::line_of(*node)};
    wrong_type(key, *node, "a string in quotes");
    return std::nullopt;
}

std::optional<bool> table_reader::boolean(std::string_view key)
{
    auto const* node = find(key);
    if (!node)
        return std::nullopt;
    if (auto const* b = node->as_boolean())
        return b->get();
    wrong_type(key, *node, "true or false (without quotes)");
    return std::nullopt;
}

std::optional<std::int64_t> table_reader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                  std::string_view why_range)
{
    auto const* node = find(key);
    if (!node)
        return std::nullopt;
    auto const* i = node->as_integer();
    if (!i) {
        wrong_type(key, *node, "a whole number (without quotes)");
        return std::nullopt;
    }
    if (i->get() < min || i->get() > max) {
        std::string message = "'" + std::string{key} + "' in " + section_ + " is " + std::to_string(i->get()) +
                              "; it must be between " + std::to_string(min) + " and " + std::to_string(max);
        if (!why_range.empty())
            message += " (" + std::string{why_range} + ")";
        out_.error(conf::line_of(*node), std::move(message));
        return std::nullopt;
    }
    return i->get();
}

std::optional<std::vector<located_string>> table_reader::strings(std::string_view key)
{
    auto const* node = find(key);
    if (!node)
        return std::nullopt;
    auto const* array = node->as_array();
    if (!array) {
        wrong_type(key, *node, "a list of strings, e.g. [\"a\", \"b\"]");
        return std::nullopt;
    }
    std::vector<located_string> values;
    for (auto const& element : *array) {
        auto const* s = element.as_string();
        if (!s) {
            wrong_type(key, element, "a list of strings, e.g. [\"a\", \"b\"], and has an element that is");
            return std::nullopt;
        }
        values.push_back({s->get(), conf::line_of(element)});
    }
    return values;
}

std::optional<std::size_t> table_reader::choice(std::string_view key, std::initializer_list<std::string_view> words)
{
    auto value = string(key);
    if (!value)
        return std::nullopt;
    auto it = std::find(words.begin(), words.end(), value->value);
    if (it != words.end())
        return static_cast<std::size_t>(it - words.begin());
    out_.error(value->line, "'" + std::string{key} + "' in " + section_ + " is \"" + value->value +
                                "\", which is not a valid value; use " + quoted_alternatives(words));
    return std::nullopt;
}

bool table_reader::require(std::string_view key, std::string_view example)
{
    if (table_.contains(key))
        return true;
    out_.error(line(), section_ + " is missing '" + std::string{key} + "', which is required; add " +
                           std::string{example});
    return false;
}

void table_reader::finish()
{
    // toml::table is ordered by key; report in file order so the messages read top-down.
    std::vector<toml::key const*> unknown;
    for (auto const& entry : table_)
        if (!knows(schema_, entry.first.str()))
            unknown.push_back(&entry.first);
    std::vector<std::string> const known{schema_.keys.begin(), schema_.keys.end()};
    std::sort(unknown.begin(), unknown.end(),
              [](auto const* a, auto const* b) { return a->source().begin.line < b->source().begin.line; });
    for (auto const* key_ptr : unknown) {
        auto const& key = *key_ptr;
        std::string message = "unknown key '" + std::string{key.str()} + "' in " + section_;
        if (auto suggestion = closest_match(key.str(), known); !suggestion.empty())
            message += "; did you mean '" + suggestion + "'?";
        else
            message += "; remove it (fedgate.toml(5) lists every setting)";
        out_.error(key.source().begin.line, std::move(message));
    }
}

}  // namespace fedgate::conf
