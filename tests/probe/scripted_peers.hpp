#pragma once
// Observations of scripted peers for the explainer's tests: a healthy one, and
// one small change away from it for each failure a probe must explain.

#include "probe/observation.hpp"
#include "probe/report.hpp"

#include <string_view>

namespace fedgate::probe::testing {

/// b.test, a federated partner (tls required, sasl optional, dialback on) with
/// an SRV record, one address, TLS, a valid certificate and SASL EXTERNAL accepted.
[[nodiscard]] observation healthy_peer();

/// The features of a server before TLS (STARTTLS offered) and after (EXTERNAL).
[[nodiscard]] features_seen starttls_features();
[[nodiscard]] features_seen external_features();

/// The first step of `stage` in `r`; fails the test (and returns a dummy) when none.
[[nodiscard]] step const& step_of(report const& r, stage s);
/// Every step of `stage`.
[[nodiscard]] std::vector<step const*> steps_of(report const& r, stage s);

}  // namespace fedgate::probe::testing
