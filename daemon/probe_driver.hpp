#pragma once
/// @file
/// `fedgate probe DOMAIN`: fedgate's own resolver and outbound negotiation run
/// against the live DOMAIN, with the configuration's certificates, trust store
/// and DNS settings, and explained (probe/). No stanza is sent: once a method
/// is negotiated the stream is closed.

#include <string>

namespace fedgate::daemon {

struct probe_request {
    std::string config_file;
    std::string domain;  ///< as typed
    std::string from;    ///< our local domain; empty: the first one
    bool json = false;
};

/// Runs the probe and prints its report on stdout. Returns the exit status:
/// 0 a method would be negotiated, 1 none would (or DOMAIN is not a partner),
/// 2 usage or configuration error.
[[nodiscard]] int probe_command(probe_request const& request);

}  // namespace fedgate::daemon
