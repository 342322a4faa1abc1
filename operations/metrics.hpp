#pragma once
/// @file
/// fedgate's metrics in the Prometheus text format (version 0.0.4): counters
/// that the router and the links bump as things happen, and gauges read at
/// scrape time. Plain data on the event loop's thread; no locks.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedgate::operations {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

class metrics {
public:
    /// Adds `n` to the counter `name` (ending in _total) with `labels`.
    void count(std::string_view name, metric_labels const& labels, std::uint64_t n = 1);
    /// The counter itself, for a hot path to keep (the reference stays valid).
    [[nodiscard]] std::uint64_t& slot(std::string_view name, metric_labels const& labels);
    /// The sum of the counter `name` over all its labels (0 before its first count).
    [[nodiscard]] std::uint64_t total(std::string_view name) const;
    /// A value of a gauge, for gauge_source callbacks.
    struct sample {
        std::string_view name;  ///< one of metric_names.hpp
        metric_labels labels;
        double value = 0;
    };
    /// Called at each scrape to add the gauges' current values (every source
    /// added, in order).
    void gauge_source(std::function<void(std::vector<sample>&)> source) { sources_.push_back(std::move(source)); }
    /// The exposition: # HELP and # TYPE lines, then the samples, sorted.
    [[nodiscard]] std::string render() const;

private:
    std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>> counters_;  // name -> rendered labels -> value
    std::vector<std::function<void(std::vector<sample>&)>> sources_;
};

/// The help text of every metric fedgate exports.
[[nodiscard]] std::string_view metric_help(std::string_view name) noexcept;

/// `{a="x",b="y"}` with Prometheus escaping; "" for no labels.
[[nodiscard]] std::string render_labels(metric_labels const& labels);

}  // namespace fedgate::operations
