// The sections that appear once: [gateway], [tls], [dns], [limits],
// [store], [blocklist], [log], [metrics], [control] ([internal]: internal_section.cpp). Every setting has a
// default.
#include "conf/loader.hpp"
#include "conf/socket_address.hpp"

namespace fedgate::conf::detail {

file_setting loader::read_file(table_reader& r, std::string_view key)
{
    auto value = r.string(key);
    return value ? file_named(*value, r, key) : file_setting{};
}

file_setting loader::file_named(located_string const& value, table_reader& r, std::string_view key)
{
    if (value.value.empty()) {
        out_.error(value.line, "'" + std::string{key} + "' in " + r.section() + " is empty; name a file");
        return {};
    }
    std::filesystem::path p{value.value};
    // Relative paths are relative to the configuration file, not to the working
    // directory, so that a configuration and its files move together.
    if (p.is_relative())
        p = base_dir_ / p;
    return {p.lexically_normal(), value.line};
}

std::vector<socket_address> loader::read_addresses(table_reader& r, std::string_view key,
                                                   std::vector<std::string_view> const& defaults,
                                                   std::uint16_t default_port)
{
    std::vector<socket_address> result;
    auto values = r.strings(key);
    if (!values) {
        for (auto d : defaults)
            result.push_back(std::get<socket_address>(parse_socket_address(d)));
        return result;
    }
    for (auto const& v : *values) {
        auto parsed = parse_socket_address(v.value, default_port);
        if (auto const* why = std::get_if<std::string>(&parsed))
            out_.error(v.line, "'" + std::string{key} + "' in " + r.section() + ": \"" + v.value + "\" " + *why);
        else
            result.push_back(std::get<socket_address>(parsed));
    }
    return result;
}

void loader::read_gateway(toml::table const& t)
{
    table_reader r{t, schema_of("gateway"), out_};
    auto& g = cfg_.gateway;
    g.s2s_listen = read_addresses(r, "s2s_listen", {"0.0.0.0:5269", "[::]:5269"}, 0);
    g.direct_tls_listen = read_addresses(r, "direct_tls_listen", {"0.0.0.0:5270", "[::]:5270"}, 0);
    for (auto const& a : g.direct_tls_listen)
        if (std::find(g.s2s_listen.begin(), g.s2s_listen.end(), a) != g.s2s_listen.end())
            out_.error(r.line_of("direct_tls_listen"), "'direct_tls_listen' in [gateway] repeats " + to_string(a) +
                                                           " from 's2s_listen'; give direct TLS its own port");
    g.dialback_secret_file = read_file(r, "dialback_secret_file");
    for (auto const& name : r.strings("dialback_accepted_secret_files").value_or(std::vector<located_string>{}))
        if (auto file = file_named(name, r, "dialback_accepted_secret_files"); !file.empty())
            g.dialback_accepted_secret_files.push_back(std::move(file));
    if (!g.dialback_accepted_secret_files.empty() && g.dialback_secret_file.empty())
        out_.error(r.line_of("dialback_accepted_secret_files"),
                   "dialback_accepted_secret_files without dialback_secret_file; name the current secret too");
    g.state_dir = read_file(r, "state_dir");
    if (g.state_dir.empty())
        g.state_dir = {"/var/lib/fedgate", 0};
    g.worker_threads = static_cast<unsigned>(r.integer("worker_threads", 0, 256, "0 means one per core").value_or(0));
    r.finish();
}

void loader::read_tls(toml::table const& t)
{
    table_reader r{t, schema_of("tls"), out_};
    cfg_.tls.ca_file = read_file(r, "ca_file");
    cfg_.tls.ca_path = read_file(r, "ca_path");
    if (auto v = r.choice("min_version", {"1.2", "1.3"}))
        cfg_.tls.min_version = *v == 0 ? tls_settings::version::tls1_2 : tls_settings::version::tls1_3;
    cfg_.tls.expiry_warning = std::chrono::days{r.integer("expiry_warning_days", 0, 365, "0 turns the warnings off").value_or(14)};
    r.finish();
}

void loader::read_dns(toml::table const& t)
{
    table_reader r{t, schema_of("dns"), out_};
    cfg_.dns.servers = read_addresses(r, "servers", {}, 53);
    cfg_.dns.timeout = std::chrono::milliseconds{r.integer("timeout_ms", 100, 60000).value_or(5000)};
    cfg_.dns.attempts = static_cast<unsigned>(r.integer("attempts", 1, 10).value_or(2));
    r.finish();
}

void loader::read_limits(toml::table const& t)
{
    table_reader r{t, schema_of("limits"), out_};
    auto& l = cfg_.limits;
    auto const size = [&](char const* key, std::int64_t low, std::int64_t high, std::size_t& value,
                          std::string_view why_range = {}) {
        value = static_cast<std::size_t>(
            r.integer(key, low, high, why_range).value_or(static_cast<std::int64_t>(value)));
    };
    auto const count = [&](char const* key, std::int64_t low, std::int64_t high, unsigned& value) {
        value = static_cast<unsigned>(r.integer(key, low, high).value_or(value));
    };
    auto const seconds = [&](char const* key, std::int64_t low, std::int64_t high, std::chrono::seconds& value) {
        value = std::chrono::seconds{r.integer(key, low, high).value_or(value.count())};
    };
    size("max_stanza_bytes", 10000, 16 * 1024 * 1024, l.max_stanza_bytes, "RFC 6120 §13.12 requires at least 10000");
    count("max_depth", 8, 1024, l.max_depth);
    count("max_attributes", 8, 1024, l.max_attributes);
    count("connections_per_ip", 1, 100000, l.connections_per_ip);
    count("connection_rate_per_ip", 0, 100000, l.connection_rate_per_ip);
    count("max_inbound_connections", 1, 1000000, l.max_inbound_connections);
    size("queue_stanzas", 1, 1000000, l.queue_stanzas);
    size("queue_bytes", 64 * 1024, std::int64_t{1} << 32, l.queue_bytes);
    seconds("delivery_deadline_seconds", 1, 86400, l.delivery_deadline);
    seconds("negotiation_timeout_seconds", 1, 3600, l.negotiation_timeout);
    seconds("idle_timeout_seconds", 10, 604800, l.idle_timeout);
    size("max_header_bytes", 1024, 65536, l.max_header_bytes);
    count("max_header_attributes", 8, 256, l.max_header_attributes);
    size("write_backlog_bytes", 64 * 1024, std::int64_t{1} << 30, l.write_backlog_bytes);
    count("auth_failures", 1, 100, l.auth_failures);
    seconds("keepalive_seconds", 0, 3600, l.keepalive);
    seconds("hold_down_seconds", 1, 3600, l.hold_down);
    count("internal_ping_every", 1, 100000, l.internal_ping_every);
    count("internal_max_unacknowledged", 1, 10000000, l.internal_max_unacknowledged);
    count("partner_ack_request_every", 1, 100000, l.partner_ack_request_every);
    count("partner_max_unacknowledged", 1, 10000000, l.partner_max_unacknowledged);
    size("commit_wait_stanzas", 1, 1000000, l.commit_wait_stanzas);
    size("commit_wait_bytes", 64 * 1024, std::int64_t{1} << 32, l.commit_wait_bytes);
    r.finish();
}

void loader::read_store(toml::table const& t)
{
    table_reader r{t, schema_of("store"), out_};
    auto& s = cfg_.store;
    auto line = r.line();  // of backend, or of [store]
    if (auto v = r.choice("backend", {"sqlite", "postgresql"})) {
        s.backend = *v == 0 ? store_settings::kind::sqlite : store_settings::kind::postgresql;
        line = r.line_of("backend");
    }
    auto conninfo = r.string("conninfo");
    s.conninfo_file = read_file(r, "conninfo_file");
    if (auto seconds = r.integer("write_deadline_seconds", 1, 3600))
        s.write_deadline = std::chrono::seconds{*seconds};
    if (conninfo)
        s.conninfo = conninfo->value;
    if (s.backend == store_settings::kind::sqlite) {
        for (auto key : {"conninfo", "conninfo_file", "write_deadline_seconds"})
            if (t.contains(key))
                out_.error(r.line_of(key), "'" + std::string{key} + "' in [store] is for backend = \"postgresql\"; "
                                           "set the backend, or remove it (the SQLite store lives in state_dir)");
    } else if (!conninfo && s.conninfo_file.empty()) {
        out_.error(line, "backend = \"postgresql\" needs conninfo_file = \"/etc/fedgate/store.conninfo\" (a file "
                           "holding a libpq connection string, such as host=db.example.org dbname=fedgate "
                           "user=fedgate password=...) or conninfo = \"...\" in [store]");
    } else if (conninfo && !s.conninfo_file.empty()) {
        out_.error(conninfo->line, "[store] has both conninfo and conninfo_file; keep one");
    } else if (conninfo && conninfo->value.find("password") != std::string::npos) {
        out_.warning(conninfo->line, "the PostgreSQL password is in the configuration file; move the connection "
                                     "string to conninfo_file (readable by fedgate only), or use ~/.pgpass");
    }
    r.finish();
}

void loader::read_blocklist(toml::table const& t)
{
    table_reader r{t, schema_of("blocklist"), out_};
    cfg_.blocklist.file = read_file(r, "file");
    if (auto seconds = r.integer("refresh_seconds", 0, 86400, "0 reads the file at reload (SIGHUP) only"))
        cfg_.blocklist.refresh = std::chrono::seconds{*seconds};
    if (cfg_.blocklist.file.empty() && t.contains("refresh_seconds"))
        out_.error(r.line_of("refresh_seconds"), "[blocklist] has refresh_seconds but no file; name the file "
                                                 "(one domain or *.suffix a line)");
    r.finish();
}

void loader::read_log(toml::table const& t)
{
    table_reader r{t, schema_of("log"), out_};
    static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (auto v = r.choice("level", {levels[0], levels[1], levels[2], levels[3], levels[4], levels[5], levels[6]}))
        cfg_.log.level = std::string{levels[*v]};
    r.finish();
}

void loader::read_metrics(toml::table const& t)
{
    table_reader r{t, schema_of("metrics"), out_};
    if (auto v = r.string("listen")) {
        auto parsed = parse_socket_address(v->value);
        if (auto const* why = std::get_if<std::string>(&parsed)) {
            out_.error(v->line, "'listen' in [metrics]: \"" + v->value + "\" " + *why);
        } else {
            cfg_.metrics.listen = std::get<socket_address>(parsed);
            if (!is_loopback(*cfg_.metrics.listen))
                out_.warning(v->line, "the metrics endpoint " + to_string(*cfg_.metrics.listen) +
                                          " is not on loopback: whoever reaches it reads per-partner traffic figures");
        }
    }
    r.finish();
}

void loader::read_control(toml::table const& t)
{
    table_reader r{t, schema_of("control"), out_};
    if (auto v = r.string("socket")) {
        if (v->value.empty()) {
            cfg_.control.socket.clear();  // no control socket: `fedgate status` cannot reach this instance
        } else {
            std::filesystem::path p{v->value};
            if (p.is_relative())
                p = base_dir_ / p;
            cfg_.control.socket = p.lexically_normal();
            // sockaddr_un holds 108 bytes with the final NUL.
            if (cfg_.control.socket.native().size() > 107)
                out_.error(v->line, "'socket' in [control]: \"" + cfg_.control.socket.string() + "\" is " +
                                        std::to_string(cfg_.control.socket.native().size()) +
                                        " bytes long; a Unix socket's path holds 107 at most: choose a shorter one");
        }
    }
    r.finish();
}

}  // namespace fedgate::conf::detail
