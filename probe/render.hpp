#pragma once
/// @file
/// The two forms of a probe report: text for a person, JSON (version 1,
/// probe/README.md) for a script.

#include "probe/report.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace fedgate::probe {

/// The report as text: a heading, one block per step (facts and advice
/// indented), what was not checked, and the result.
[[nodiscard]] std::string render_text(report const& r);

/// The report as a JSON object; `"version": 1`.
[[nodiscard]] boost::json::object to_json(report const& r);

/// to_json() serialised, one line, with a final newline.
[[nodiscard]] std::string render_json(report const& r);

}  // namespace fedgate::probe
