#include "daemon/cli.hpp"

#include "conf/config.hpp"
#include "conf/report.hpp"
#include "daemon/contacts_cli.hpp"
#include "daemon/gateway.hpp"
#include "daemon/status_cli.hpp"
#include "daemon/probe_driver.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace fedgate::daemon {
namespace {

constexpr char const* default_config = "/etc/fedgate/fedgate.toml";

enum exit_status : int { success = 0, failure = 1, usage = 2 };

/// `fedgate check-config`: errors and warnings on stderr as FILE:LINE messages; on
/// success the effective policy per partner on stdout. Nothing else happens.
int check_config(std::string const& file)
{
    auto result = conf::load_file(file);
    std::size_t warnings = 0;
    for (auto const& d : result.findings) {
        std::cerr << d.format() << "\n";
        warnings += d.level == conf::diagnostic::severity::warning;
    }
    if (!result.ok()) {
        auto errors = result.findings.size() - warnings;
        std::cerr << file << ": invalid configuration (" << errors << (errors == 1 ? " error" : " errors")
                  << "); nothing was started\n";
        return failure;
    }
    std::cout << conf::check_config_report(*result.cfg, warnings);
    return success;
}

/// `fedgate run`: the same checks as check-config, then the gateway.
int run(std::string const& file)
{
    auto result = conf::load_file(file);
    for (auto const& d : result.findings)
        std::cerr << d.format() << "\n";
    if (!result.ok()) {
        std::cerr << file << ": invalid configuration; nothing was started (see `fedgate check-config`)\n";
        return failure;
    }
    return run_gateway(std::move(*result.cfg));
}

}  // namespace

int run_cli(int argc, char** argv)
{
    CLI::App app{"fedgate: XMPP server-to-server federation edge gateway", "fedgate"};
    app.set_version_flag("--version", std::string{"fedgate "} + FEDGATE_VERSION);
    // A word that is no command is named (CLI11 alone says "A subcommand is
    // required"): extras are kept, and checked after parsing.
    app.require_subcommand(0, 1);
    app.allow_extras();

    std::string config_file = default_config;
    auto* check = app.add_subcommand("check-config", "Load and validate the configuration, then print the "
                                                     "effective negotiation policy of every partner");
    check->add_option("-c,--config", config_file, "Configuration file")->capture_default_str();

    auto* run_command = app.add_subcommand("run", "Run the gateway in the foreground until SIGINT or SIGTERM");
    run_command->add_option("-c,--config", config_file, "Configuration file")->capture_default_str();
    auto* contacts = app.add_subcommand("contacts", "The relationship store: who may reach whom (public_unverified "
                                                     "partners need a relationship)");
    contacts->add_option("-c,--config", config_file, "Configuration file")->capture_default_str();
    contacts->require_subcommand(0, 1);
    std::string contacts_argument;
    contacts->add_subcommand("list", "Every relationship: local JID, remote JID, subscription");
    contacts->add_subcommand("show", "One local user's relationships")
        ->add_option("LOCAL_JID", contacts_argument, "The local user")
        ->required();
    contacts->add_subcommand("import", "Add relationships from a CSV (local,remote[,subscription]) or JSON "
                                       "(the export format) file, e.g. from the internal server's rosters")
        ->add_option("FILE", contacts_argument, "The file")
        ->required();
    contacts->add_subcommand("export", "Every relationship as JSON on stdout (import reads it back)");
    contacts->add_subcommand("migrate", "Copy state_dir's SQLite store into the PostgreSQL store that [store] names "
                                        "(backend = \"postgresql\", and empty), in one transaction");
    // `fedgate contacts list -c FILE` as well as `fedgate contacts -c FILE list`.
    for (auto* action : contacts->get_subcommands([](CLI::App const*) { return true; }))
        action->fallthrough();
    auto* status = app.add_subcommand("status", "Ask the running daemon (its [control] socket) for every partner's "
                                                "state; exit 1 when a partner is failing, 2 when it cannot be asked");
    status->add_option("-c,--config", config_file, "Configuration file")->capture_default_str();
    bool status_json = false;
    status->add_flag("--json", status_json, "The status document (JSON, versioned) instead of the table");
    // ---- fedgate probe (issue 20 §3) ----
    probe_request probe_args;
    auto* probe = app.add_subcommand("probe", "Resolve and negotiate with DOMAIN as `fedgate run` would (no stanza "
                                              "is sent) and explain each step; exit 0 if a method would be "
                                              "negotiated, 1 if not");
    probe->add_option("DOMAIN", probe_args.domain, "The remote domain")->required();
    probe->add_option("-c,--config", config_file, "Configuration file")->capture_default_str();
    probe->add_option("--from", probe_args.from, "The local domain the stream is from (default: the first)");
    probe->add_flag("--json", probe_args.json, "The report as JSON (version 1)");
    // ---- end of fedgate probe ----
    std::string matrix_config;
    auto* matrix = app.add_subcommand("matrix", "Print the 18 combinations of the partner negotiation settings "
                                                "(tls, sasl, dialback) and what each allows");
    matrix->add_option("-c,--config", matrix_config,
                       "Also show the combination each partner of this configuration uses, and [default_partner]'s");

    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        int rc = app.exit(e);
        return rc == 0 ? success : usage;
    }

    // What a command's name is in messages, and the commands it has.
    auto const name_of = [&app](CLI::App const* c) { return c == &app ? std::string{"fedgate"} : "fedgate " + c->get_name(); };
    auto const commands = [](CLI::App const* of) {
        std::string names;
        for (auto const* c : of->get_subcommands([](CLI::App const*) { return true; }))
            names += (names.empty() ? "" : ", ") + c->get_name();
        return names;
    };
    CLI::App const* const chosen = app.get_subcommands().empty() ? &app : app.get_subcommands().front();
    bool const command_missing = !commands(chosen).empty() && chosen->get_subcommands().empty();
    if (auto const extras = app.remaining(true); !extras.empty()) {
        std::cerr << name_of(chosen) << ": "
                  << (command_missing ? "unknown command '" + extras.front() + "'; the commands are " + commands(chosen)
                                      : "unexpected argument '" + extras.front() + "'")
                  << " (see " << name_of(chosen) << " --help)\n";
        return usage;
    }
    if (command_missing) {
        std::cerr << name_of(chosen) << ": a command is required: " << commands(chosen) << " (see " << name_of(chosen)
                  << " --help)\n";
        return usage;
    }

    if (check->parsed())
        return check_config(config_file);
    if (run_command->parsed())
        return run(config_file);
    if (status->parsed())
        return status_command(config_file, status_json);
    if (contacts->parsed())
        return contacts_command(config_file, contacts->get_subcommands().front()->get_name(), contacts_argument);
    if (probe->parsed()) {
        probe_args.config_file = config_file;
        return probe_command(probe_args);
    }
    std::cout << conf::policy_matrix_table();
    if (matrix_config.empty())
        return success;
    auto result = conf::load_file(matrix_config);
    if (!result.ok()) {
        for (auto const& d : result.findings)
            std::cerr << d.format() << "\n";
        std::cerr << matrix_config << ": invalid configuration (see `fedgate check-config`)\n";
        return failure;
    }
    std::cout << conf::configured_combinations(*result.cfg);
    return success;
}

}  // namespace fedgate::daemon
