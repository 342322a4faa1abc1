#pragma once
/// @file
/// The human-readable reports of `fedgate check-config` and `fedgate matrix`.

#include "conf/config.hpp"

#include <string>

namespace fedgate::conf {

/// For each local domain and each partner: domains, type, the three negotiation
/// settings, the verdict, warnings and the methods fedgate will accept, in the seed's
/// words ("SASL over TLS", "TLS dialback", "TCP dialback").
[[nodiscard]] std::string check_config_report(config const& cfg, std::size_t warning_count);

/// The 18 combinations of (tls, sasl, dialback), computed by policy::evaluate().
[[nodiscard]] std::string policy_matrix_table();
/// Which combination each partner of `cfg` uses, and [default_partner]'s for
/// the domains nobody listed: `fedgate matrix -c FILE`.
[[nodiscard]] std::string configured_combinations(config const& cfg);

}  // namespace fedgate::conf
