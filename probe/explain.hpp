#pragma once
/// @file
/// Turns what a probe saw (observation.hpp) into a report (report.hpp): one step
/// per stage with its reason code and advice, what would be negotiated under
/// the partner's policy and, when nothing would, which setting or which property
/// of the peer blocks it. Pure: the same observation always gives the same
/// report.

#include "probe/observation.hpp"
#include "probe/report.hpp"

namespace fedgate::probe {

/// The whole report.
[[nodiscard]] report explain(observation const& seen);

/// The dns and tcp steps (explain_network.cpp).
void explain_network(observation const& seen, report& out);
/// The tls, certificate, features and authentication steps (explain_session.cpp).
void explain_session(observation const& seen, report& out);
/// The authentication step's advice when nothing is negotiated (explain_advice.cpp):
/// the settings that would work, nearest first, and what the peer could fix.
[[nodiscard]] std::string advice_for_failure(observation const& seen, std::string const& reason);

}  // namespace fedgate::probe
