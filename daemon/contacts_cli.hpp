#pragma once
/// @file
/// `fedgate contacts`: the operator's view of the relationship store (issue 8).

#include <string>

namespace fedgate::daemon {

/// `action` is list, show, import, export or migrate; `argument` the local JID (show) or
/// the file (import). Returns the exit status; messages go to stdout/stderr.
[[nodiscard]] int contacts_command(std::string const& config_file, std::string const& action,
                                   std::string const& argument);

}  // namespace fedgate::daemon
