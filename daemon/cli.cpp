#include "daemon/cli.hpp"

#include <CLI/CLI.hpp>

namespace fedgate::daemon {

int run_cli(int argc, char** argv)
{
    CLI::App app{"fedgate: XMPP server-to-server federation edge gateway", "fedgate"};
    app.set_version_flag("--version", std::string{"fedgate "} + FEDGATE_VERSION);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    return 0;
}

}  // namespace fedgate::daemon
