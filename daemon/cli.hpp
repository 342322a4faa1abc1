#pragma once

namespace fedgate::daemon {

/// Parses the command line and runs the chosen subcommand.
/// @return the process exit status: 0 success, 1 failure (e.g. an invalid
/// configuration), 2 usage error.
int run_cli(int argc, char** argv);

}  // namespace fedgate::daemon
