#include "conf/schema.hpp"

#include <algorithm>
#include <stdexcept>

namespace fedgate::conf {
namespace {

// The keys of each section in the order the loader reads them
// (general_sections.cpp, domain_sections.cpp).
constexpr std::string_view gateway_keys[] = {"s2s_listen",     "direct_tls_listen", "dialback_secret_file",
                                             "dialback_accepted_secret_files", "state_dir", "worker_threads"};
constexpr std::string_view local_domain_keys[] = {"name", "certificate", "key"};
constexpr std::string_view internal_keys[] = {"mode", "host",     "port",     "secret_file", "listen",
                                             "allowed_addresses", "tls", "sasl", "dialback"};
constexpr std::string_view partner_keys[] = {"domain", "description", "additional_domains", "type", "tls",
                                             "sasl",   "dialback",    "stream_management",  "bidi",
                                             "rate_limit_stanzas", "rate_limit_bytes"};
constexpr std::string_view default_partner_keys[] = {"description", "type", "tls", "sasl", "dialback",
                                                     "stream_management", "bidi", "rate_limit_stanzas",
                                                     "rate_limit_bytes", "max_domains"};
constexpr std::string_view tls_keys[] = {"ca_file", "ca_path", "min_version", "expiry_warning_days"};
constexpr std::string_view dns_keys[] = {"servers", "timeout_ms", "attempts"};
constexpr std::string_view limits_keys[] = {
    "max_stanza_bytes",          "max_depth",
    "max_attributes",            "connections_per_ip",
    "connection_rate_per_ip",
    "max_inbound_connections",   "queue_stanzas",
    "queue_bytes",               "delivery_deadline_seconds",
    "negotiation_timeout_seconds", "idle_timeout_seconds",
    "max_header_bytes",          "max_header_attributes",
    "write_backlog_bytes",       "auth_failures",
    "keepalive_seconds",         "hold_down_seconds",
    "internal_ping_every",       "internal_max_unacknowledged",
    "partner_ack_request_every", "partner_max_unacknowledged",
    "commit_wait_stanzas",       "commit_wait_bytes"};
constexpr std::string_view store_keys[] = {"backend", "conninfo", "conninfo_file", "write_deadline_seconds"};
constexpr std::string_view blocklist_keys[] = {"file", "refresh_seconds"};
constexpr std::string_view log_keys[] = {"level"};
constexpr std::string_view metrics_keys[] = {"listen"};
constexpr std::string_view control_keys[] = {"socket"};

constexpr section_schema sections[] = {
    {"gateway", false, gateway_keys}, {"local_domain", true, local_domain_keys},
    {"internal", false, internal_keys}, {"partner", true, partner_keys},
    {"default_partner", false, default_partner_keys},
    {"tls", false, tls_keys},         {"dns", false, dns_keys},
    {"limits", false, limits_keys},   {"store", false, store_keys},
    {"blocklist", false, blocklist_keys},
    {"log", false, log_keys},         {"metrics", false, metrics_keys},
    {"control", false, control_keys},
};

}  // namespace

std::span<section_schema const> schema() noexcept
{
    return sections;
}

section_schema const& schema_of(std::string_view name)
{
    auto const* found = std::find_if(std::begin(sections), std::end(sections),
                                     [&](section_schema const& s) { return s.name == name; });
    if (found == std::end(sections))
        throw std::logic_error{"conf: no section '" + std::string{name} + "' in conf/schema.cpp"};
    return *found;
}

std::string written(section_schema const& s)
{
    auto const name = std::string{s.name};
    return s.repeated ? "[[" + name + "]]" : "[" + name + "]";
}

bool knows(section_schema const& s, std::string_view key) noexcept
{
    return std::find(s.keys.begin(), s.keys.end(), key) != s.keys.end();
}

}  // namespace fedgate::conf
