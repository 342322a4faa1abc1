#pragma once
/// @file
/// The configuration model of fedgate: what `fedgate.toml` says, validated and
/// normalised. A `config` is immutable once loaded and passed down explicitly.

#include "conf/diagnostic.hpp"
#include "policy/blocklist.hpp"
#include "policy/partner.hpp"
#include "policy/partner_policy.hpp"
#include "policy/rate_limit.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fedgate::conf {

/// An IP address and port to listen on or to reach ("[::1]:5269", "127.0.0.1:53").
struct socket_address {
    std::string host;  ///< an IPv4 or IPv6 literal, without brackets
    std::uint16_t port = 0;
    friend bool operator==(socket_address const&, socket_address const&) = default;
};

/// A file named by the configuration, resolved against the configuration's folder,
/// with the line that named it so later checks can point at it.
struct file_setting {
    std::filesystem::path path;
    std::uint32_t line = 0;
    [[nodiscard]] bool empty() const noexcept { return path.empty(); }
};

using policy::partner_type;  // policy/partner.hpp

struct gateway_settings {
    std::vector<socket_address> s2s_listen;         ///< STARTTLS S2S (RFC 6120)
    std::vector<socket_address> direct_tls_listen;  ///< direct TLS S2S (XEP-0368)
    file_setting dialback_secret_file;              ///< XEP-0185 key secret; empty: random per start
    /// Secrets whose keys are also accepted when verifying (a rotation: the
    /// next secret before it becomes current, the last one after).
    std::vector<file_setting> dialback_accepted_secret_files;
    file_setting state_dir;  ///< line 0: the default
    unsigned worker_threads = 0;  ///< 0: one per core
};

struct local_domain {
    std::string name;  ///< canonical (protocol::check_domain_name)
    file_setting certificate;
    file_setting key;
    std::uint32_t line = 0;
};

/// The addresses an internal listener accepts connections from: one address
/// ("10.0.0.5") or a network ("10.0.0.0/24", "fd00::/8").
struct address_range {
    std::string network;  ///< an IPv4 or IPv6 literal, without brackets
    unsigned prefix = 0;  ///< leading bits that must match (32 or 128: the address alone)
    friend bool operator==(address_range const&, address_range const&) = default;
};

struct internal_settings {
    /// component: one XEP-0114 component per partner domain on the internal server.
    /// s2s: the internal server federates with fedgate, as if fedgate were every
    /// remote domain (shared/DESIGN.md "Internal modes").
    enum class link_mode : std::uint8_t { component, s2s };
    link_mode mode = link_mode::component;
    std::string host = "127.0.0.1";
    std::uint16_t port = 5347;  ///< XEP-0114's customary port; 5269 in s2s mode
    /// component: the components' shared secret. s2s: the secret of the internal
    /// leg's dialback keys (XEP-0185), with which fedgate answers the internal
    /// server's db:verify for the remote domains; instances of one deployment share it.
    file_setting secret_file;
    // ---- s2s mode only -------------------------------------------------------
    std::vector<socket_address> listen;  ///< where the internal server's S2S streams come to
    std::vector<address_range> allowed_addresses;  ///< who may connect there
    /// How the internal leg negotiates, both ways (as a partner's settings).
    policy::negotiation_settings negotiation{policy::requirement::required, policy::requirement::optional, true};
    policy::policy_evaluation policy;  ///< evaluate(negotiation), kept for reports
    std::uint32_t mode_line = 0;       ///< the line of `mode` (the section's when it is absent; 0 when it was refused)
};

struct partner {
    std::string domain;  ///< primary domain, canonical
    std::string description;
    std::vector<std::string> additional_domains;  ///< canonical
    partner_type type = partner_type::federated;
    policy::negotiation_settings negotiation;
    policy::policy_evaluation policy;  ///< evaluate(negotiation), kept for reports
    bool stream_management = true;     ///< XEP-0198 acknowledgements when the peer offers them
    bool bidi = true;                  ///< XEP-0288: one connection carries both directions when the peer offers it
    policy::rate_limit rate_limit;     ///< what its servers may send us a second; none by default
    std::uint32_t rate_limit_line = 0;  ///< of rate_limit_bytes, for the check against max_stanza_bytes
    std::uint32_t line = 0;
};

/// [default_partner]: the terms of every remote domain that no [[partner]]
/// lists (open federation, issue 23). Absent, fedgate federates only with the
/// listed partners. It needs [internal] mode = "s2s".
struct default_partner_settings {
    /// type, negotiation, extensions and rate limit as a partner's (domain
    /// empty); public_unverified and rate-limited unless set otherwise.
    partner terms;
    /// Unlisted remote domains with streams at once; the least recently used
    /// one's streams close to make room for another.
    std::size_t max_domains = 1000;
    std::uint32_t line = 0;  ///< of the section
};

struct tls_settings {
    file_setting ca_file;
    file_setting ca_path;  ///< both empty: the system trust store
    enum class version : std::uint8_t { tls1_2, tls1_3 };
    version min_version = version::tls1_2;
    /// Warn this long before a partner's or a local domain's certificate expires.
    std::chrono::days expiry_warning{14};
};

struct dns_settings {
    std::vector<socket_address> servers;  ///< empty: the system resolver configuration
    std::chrono::milliseconds timeout{5000};
    unsigned attempts = 2;
};

struct limit_settings {
    std::size_t max_stanza_bytes = 256 * 1024;
    unsigned max_depth = 64;
    unsigned max_attributes = 64;
    unsigned connections_per_ip = 16;
    unsigned connection_rate_per_ip = 0;       ///< new inbound connections a second from one address; 0: no limit
    unsigned max_inbound_connections = 10000;  ///< all inbound S2S connections together
    std::size_t queue_stanzas = 10000;         ///< per outbound pair while it is not up
    std::size_t queue_bytes = 4 * 1024 * 1024;
    std::chrono::seconds delivery_deadline{60};  ///< queued stanzas are bounced after this
    std::chrono::seconds negotiation_timeout{30};
    std::chrono::seconds idle_timeout{600};
    std::size_t max_header_bytes = 4096;  ///< a stream header, XML declaration included
    unsigned max_header_attributes = 16;
    std::size_t write_backlog_bytes = 1024 * 1024;  ///< unwritten on a stream: the streams feeding it pause
    unsigned auth_failures = 3;                     ///< failed attempts before an inbound stream is closed
    std::chrono::seconds keepalive{60};             ///< whitespace on quiet outbound and component streams; 0 never
    std::chrono::seconds hold_down{60};             ///< at most this long, bounce at once after a lasting failure
    unsigned internal_ping_every = 100;             ///< stanzas to the internal server between two pings
    unsigned internal_max_unacknowledged = 1000;    ///< unanswered stanzas before writing to it pauses
    unsigned partner_ack_request_every = 10;        ///< XEP-0198: stanzas to a partner between two <r/>
    unsigned partner_max_unacknowledged = 1000;     ///< unacknowledged before writing to the partner pauses
    std::size_t commit_wait_stanzas = 1000;         ///< held per pair behind an invitation being recorded
    std::size_t commit_wait_bytes = 1024 * 1024;
};

/// Where the relationship store lives (contacts/): a file of this instance's, or
/// a PostgreSQL database that several instances share.
struct store_settings {
    enum class kind : std::uint8_t { sqlite, postgresql };
    kind backend = kind::sqlite;          ///< sqlite: state_dir/relationships.sqlite3
    std::string conninfo;                 ///< postgresql: a libpq connection string, or
    file_setting conninfo_file;           ///< ... a file holding it (a password stays out of the main file)
    std::chrono::seconds write_deadline{10};  ///< postgresql: how long a write waits for the database
};

/// [blocklist]: the domains refused before any negotiation (policy/blocklist.hpp).
struct blocklist_settings {
    file_setting file;                   ///< empty: no blocklist
    std::chrono::seconds refresh{60};    ///< how often the file is read again when it changed; 0: at reload only
};

struct log_settings {
    std::string level = "info";  ///< spdlog level name
};

struct metrics_settings {
    std::optional<socket_address> listen;  ///< unset: no metrics endpoint
};

/// Where `fedgate status` asks the running daemon (daemon/status_cli.cpp).
struct control_settings {
    /// A Unix socket, mode 0660 (the group reads the status); empty: none.
    /// systemd's RuntimeDirectory=fedgate makes its folder.
    std::filesystem::path socket = "/run/fedgate/control.sock";
};

/// A whole, valid configuration.
struct config {
    std::filesystem::path file;
    gateway_settings gateway;
    std::vector<local_domain> local_domains;
    internal_settings internal;
    std::vector<partner> partners;
    std::optional<default_partner_settings> default_partner;
    tls_settings tls;
    dns_settings dns;
    limit_settings limits;
    store_settings store;
    blocklist_settings blocklist;
    log_settings log;
    metrics_settings metrics;
    control_settings control;
};

/// The outcome of loading: a config when there is no error, and every finding.
struct load_result {
    std::optional<config> cfg;
    std::vector<diagnostic> findings;
    [[nodiscard]] bool ok() const noexcept { return cfg.has_value(); }
};

/// Parses and validates configuration text without touching the file system:
/// syntax, known keys, types, values, domains, duplicates, partner policy.
/// Relative paths are resolved against `base_dir`. `file_name` labels findings.
[[nodiscard]] load_result parse(std::string_view text, std::string const& file_name,
                                std::filesystem::path const& base_dir);

/// Checks what the configuration names on disk: certificates, keys (and that each
/// key matches its certificate), secret files, CA files. Appends to `out`.
void check_files(config const& cfg, diagnostics& out);

/// The text of a secret file without surrounding whitespace, or nullopt when it
/// cannot be read. check_files() has already explained any problem to the operator.
[[nodiscard]] std::optional<std::string> read_secret(file_setting const& f);

/// A blocklist file read: the list when it holds no error, and every finding,
/// each at its line of the blocklist file (not the configuration's).
struct blocklist_load {
    std::optional<policy::blocklist> list;
    std::vector<diagnostic> findings;
};
/// One domain or "*.suffix" a line, '#' starts a comment. Domains are checked
/// and made canonical as the configuration's are.
[[nodiscard]] blocklist_load parse_blocklist(std::string_view text, std::string const& file_name);
/// parse_blocklist() of the file, or an error naming why it cannot be read.
[[nodiscard]] blocklist_load read_blocklist(std::filesystem::path const& file);

/// The SQLite relationship store's file: in state_dir.
[[nodiscard]] inline std::filesystem::path sqlite_store_file(gateway_settings const& g)
{
    return g.state_dir.path / "relationships.sqlite3";
}

/// The PostgreSQL connection string of `[store]`: `conninfo`, or the text of
/// `conninfo_file`; nullopt when that file cannot be read.
[[nodiscard]] std::optional<std::string> store_conninfo(store_settings const& s);

/// Reads `file`, then parse() and check_files(): what `fedgate check-config` and
/// `fedgate run` use.
[[nodiscard]] load_result load_file(std::filesystem::path const& file);

using policy::config_name;

}  // namespace fedgate::conf
