#pragma once
/// @file
/// `fedgate status`: asks the running daemon on its control socket
/// ([control] socket) and prints one row per partner, or the JSON document.

#include <string>

namespace fedgate::daemon {

/// Exit status: 0 every partner healthy or idle, 1 some partner failing, 2 the
/// daemon could not be asked (no control socket, not running, bad configuration).
[[nodiscard]] int status_command(std::string const& config_file, bool json);

}  // namespace fedgate::daemon
