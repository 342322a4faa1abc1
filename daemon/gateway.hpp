#pragma once
/// @file
/// `fedgate run`: sets up logging, the runtime of the configuration, the
/// listeners, the router and its component links, then serves until SIGINT or
/// SIGTERM, when it closes every stream properly and exits.

#include "conf/config.hpp"

namespace fedgate::daemon {

/// Runs the gateway on a loaded configuration; returns the process exit status
/// (0 after a clean stop, 1 when it could not start).
[[nodiscard]] int run_gateway(conf::config cfg);

}  // namespace fedgate::daemon
