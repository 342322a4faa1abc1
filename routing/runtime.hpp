#pragma once
/// @file
/// Everything one configuration generation gives the running gateway, built
/// once at start (and, later, at each reload) and shared by reference: the
/// configuration, the negotiation directory, secrets, SASL, TLS, DNS.

#include "conf/config.hpp"
#include "network/connection.hpp"
#include "contacts/relationship_store.hpp"
#include "network/tls_contexts.hpp"
#include "dns/resolver.hpp"
#include "negotiation/dialback_key.hpp"
#include "negotiation/directory.hpp"
#include "negotiation/sasl_external.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace fedgate::routing {

/// What tells a changed file apart: its modification time and size (none when
/// it cannot be read).
struct file_stamp {
    std::filesystem::file_time_type written{};
    std::uintmax_t size = 0;
    bool exists = false;
    friend bool operator==(file_stamp const&, file_stamp const&) = default;
};
[[nodiscard]] file_stamp stamp_of(std::filesystem::path const& file);

struct runtime {
    conf::config cfg;
    /// Local domains, and partners by each of their domains: the one index.
    negotiation::directory domains;
    negotiation::dialback_secret dialback = negotiation::dialback_secret::random();
    std::string component_secret;  ///< [internal] mode = "component"
    /// [internal] mode = "s2s": the internal leg as its sessions see it, roles
    /// turned round: "our" domains are the partners' (fedgate speaks for them to
    /// the internal server), and the one "partner" is the internal server, by
    /// each local domain, negotiating per [internal]'s settings.
    negotiation::directory internal_domains;
    /// The internal leg's dialback keys (XEP-0185): fedgate is the remote
    /// domains' authoritative server there.
    negotiation::dialback_secret internal_dialback = negotiation::dialback_secret::random();
    /// [blocklist] file as read with this generation (none without a file); the
    /// router reads it again when it changes.
    std::shared_ptr<policy::blocklist const> blocklist;
    file_stamp blocklist_stamp;  ///< taken before the read: a change during it is seen next time
    std::unique_ptr<negotiation::sasl_server> sasl_server;
    std::unique_ptr<negotiation::sasl_client> sasl_client;
    std::unique_ptr<network::tls_contexts> tls;
    std::unique_ptr<dns::resolver> resolver;
    /// Not per generation in spirit: a reload will hand it over, not reopen it.
    std::unique_ptr<contacts::relationship_store> relationships;
    /// Whether the store reaches its database (always, for SQLite); handed
    /// over with it, written on the event loop.
    std::shared_ptr<bool> store_up = std::make_shared<bool>(true);
    /// The PostgreSQL connection string the open store was made with (empty for
    /// SQLite): conninfo_file may change under a running fedgate, and a reload
    /// must tell that apart from the file it reads now.
    std::string store_conninfo;
};

/// Builds the runtime of a loaded configuration. Throws std::runtime_error
/// naming what could not be set up (a certificate, a secret, SASL, DNS, the
/// relationship store). A reload leaves the store out (`open_store` false) and
/// hands over the one already open.
[[nodiscard]] std::unique_ptr<runtime> build_runtime(conf::config cfg, boost::asio::any_io_executor executor,
                                                     bool open_store = true);

/// Opens the relationship store `[store]` names: SQLite in state_dir, or the
/// PostgreSQL database every instance shares. `dispatch` brings write
/// completions (and, for PostgreSQL, the other instances' changes and the
/// connection's ups and downs, given to `report`) to the caller's thread; none
/// for the command-line tools. Throws contacts::store_error or
/// std::runtime_error naming what is wrong.
[[nodiscard]] std::unique_ptr<contacts::relationship_store>
open_relationship_store(conf::config const& cfg, contacts::relationship_store::dispatcher dispatch = {},
                        std::function<void(bool up, std::string const& text)> report = {});

/// [internal] mode = "s2s": the internal leg's directory (runtime::internal_domains):
/// every partner domain is "ours" (with [default_partner], every domain not
/// ours), the internal server the one "partner", by each
/// local domain, with [internal]'s negotiation settings, XEP-0198 and no XEP-0288.
[[nodiscard]] negotiation::directory internal_directory(conf::config const& cfg);
/// Options of an S2S connection from [limits]; `label` prefixes its log id.
[[nodiscard]] network::connection_options s2s_options(conf::limit_settings const& l, std::string label);

/// The [dns] section in the resolver's terms.
[[nodiscard]] dns::settings dns_settings_of(conf::dns_settings const& d);

}  // namespace fedgate::routing
