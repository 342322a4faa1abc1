#include "conf/report.hpp"

#include "conf/socket_address.hpp"

#include <cstdio>
#include <sstream>

namespace fedgate::conf {
namespace {

using policy::requirement;

std::string join(std::vector<std::string> const& items, std::string_view separator)
{
    std::string out;
    for (auto const& item : items) {
        if (!out.empty())
            out += separator;
        out += item;
    }
    return out;
}

std::string settings_line(policy::negotiation_settings const& s)
{
    return "tls = " + std::string{config_name(s.tls)} + ", sasl = " + std::string{config_name(s.sasl)} +
           ", dialback = " + (s.dialback ? "true" : "false");
}

std::string addresses(std::vector<socket_address> const& list)
{
    std::vector<std::string> words;
    for (auto const& a : list)
        words.push_back(to_string(a));
    return words.empty() ? "(none)" : join(words, ", ");
}

void write_partner(std::ostringstream& out, partner const& p)
{
    out << "  " << (p.domain.empty() ? std::string{"every domain not listed"} : p.domain) << "  ("
        << config_name(p.type) << ")\n";
    if (!p.description.empty())
        out << "    description:        " << p.description << "\n";
    if (!p.additional_domains.empty())
        out << "    additional domains: " << join(p.additional_domains, ", ") << "\n";
    out << "    negotiation:        " << settings_line(p.negotiation) << "\n";
    out << "    verdict:            " << (p.policy.outcome == policy::verdict::valid ? "valid" : "error") << "\n";
    out << "    methods:            " << policy::describe(p.policy.applied()) << "\n";
    if (p.policy.note)
        out << "    note:               " << *p.policy.note << "\n";
    if (!p.stream_management)
        out << "    stream management:  off\n";
    if (!p.bidi)
        out << "    bidi:               off (a connection each way)\n";
    if (p.rate_limit.any()) {
        out << "    rate limit:         ";
        if (p.rate_limit.stanzas_per_second > 0)
            out << static_cast<std::uint64_t>(p.rate_limit.stanzas_per_second) << " stanzas" << (p.rate_limit.bytes_per_second > 0 ? ", " : "");
        if (p.rate_limit.bytes_per_second > 0)
            out << static_cast<std::uint64_t>(p.rate_limit.bytes_per_second) << " bytes";
        out << " a second (then slowed; refused beyond two seconds' worth of debt)\n";
    }
    for (auto const& w : p.policy.warnings)
        out << "    warning:            " << w << "\n";
}

std::string address_ranges(std::vector<address_range> const& list)
{
    std::vector<std::string> words;
    for (auto const& r : list)
        words.push_back(to_string(r));
    return join(words, ", ");
}

void write_internal(std::ostringstream& out, internal_settings const& in)
{
    std::string const server = in.host + ":" + std::to_string(in.port);
    if (in.mode == internal_settings::link_mode::component) {
        out << "  internal server:    " << server << " (mode component: a XEP-0114 component per partner domain)\n";
        return;
    }
    out << "  internal server:    " << server << " (mode s2s: it federates with fedgate as with every remote domain)\n";
    out << "  internal listen:    " << addresses(in.listen) << ", from " << address_ranges(in.allowed_addresses)
        << "\n";
    out << "  internal leg:       " << settings_line(in.negotiation) << "; methods "
        << policy::describe(in.policy.applied()) << "\n";
}

}  // namespace

std::string check_config_report(config const& cfg, std::size_t warning_count)
{
    std::ostringstream out;
    out << cfg.file.string() << ": valid configuration";
    if (warning_count > 0)
        out << " (" << warning_count << (warning_count == 1 ? " warning" : " warnings") << ")";
    out << "\n\nGateway\n";
    out << "  s2s listen:         " << addresses(cfg.gateway.s2s_listen) << "\n";
    out << "  direct TLS listen:  " << addresses(cfg.gateway.direct_tls_listen) << "\n";
    out << "  connections:        at most " << cfg.limits.max_inbound_connections << " inbound, "
        << cfg.limits.connections_per_ip << " from one address";
    if (cfg.limits.connection_rate_per_ip > 0)
        out << ", " << cfg.limits.connection_rate_per_ip << " new a second from one address (refused beyond)";
    out << "\n";
    write_internal(out, cfg.internal);
    if (cfg.store.backend == store_settings::kind::sqlite)
        out << "  relationship store: SQLite, " << sqlite_store_file(cfg.gateway).string() << "\n";
    else
        out << "  relationship store: PostgreSQL, shared by every instance (connection string "
            << (cfg.store.conninfo_file.empty() ? std::string{"in [store] conninfo"}
                                                 : "in " + cfg.store.conninfo_file.path.string())
            << ")\n";
    if (!cfg.blocklist.file.empty()) {
        out << "  blocklist:          " << cfg.blocklist.file.path.string();
        if (cfg.blocklist.refresh.count() == 0)
            out << ", read at start and reload\n";
        else
            out << ", read again within " << cfg.blocklist.refresh.count() << " s of a change\n";
    }
    out << "\nLocal domains\n";
    for (auto const& d : cfg.local_domains)
        out << "  " << d.name << "  certificate " << d.certificate.path.string() << "\n";
    out << "\nPartners (" << cfg.partners.size() << ")\n";
    for (auto const& p : cfg.partners)
        write_partner(out, p);
    out << "\nDefault partner\n";
    if (!cfg.default_partner) {
        out << "  none: every domain not listed above is refused (closed federation)\n";
        return out.str();
    }
    write_partner(out, cfg.default_partner->terms);
    out << "    open streams:       to at most " << cfg.default_partner->max_domains
        << " unlisted domains at once; the least recently used closes first\n";
    return out.str();
}

std::string policy_matrix_table()
{
    std::ostringstream out;
    char line[256];
    auto row = [&](char const* tls, char const* sasl, char const* dialback, char const* verdict,
                   std::string const& methods, std::string const& message) {
        std::snprintf(line, sizeof line, "%-13s  %-13s  %-8s  %-7s  %-41s  ", tls, sasl, dialback, verdict,
                      methods.c_str());
        out << line << message << "\n";
    };
    row("TLS", "SASL", "Dialback", "Verdict", "Authentication methods", "Notes");
    for (auto sasl : {requirement::required, requirement::optional, requirement::not_supported}) {
        for (auto tls : {requirement::required, requirement::optional, requirement::not_supported}) {
            for (bool dialback : {true, false}) {
                auto e = policy::evaluate({tls, sasl, dialback});
                bool const valid = e.outcome == policy::verdict::valid;
                std::string methods = policy::describe(e.expected);
                // A refused combination shows what it would have done, in parentheses,
                // as shared/DESIGN.md tabulates it; fedgate applies none of it.
                if (!valid && !e.expected.empty())
                    methods = "(" + methods + ")";
                std::vector<std::string> notes = e.warnings;
                if (e.error)
                    notes.insert(notes.begin(), *e.error);
                if (e.note && valid)
                    notes.push_back(*e.note);
                row(std::string{config_name(tls)}.c_str(), std::string{config_name(sasl)}.c_str(),
                    dialback ? "true" : "false", valid ? "valid" : "error", methods, join(notes, " "));
            }
        }
    }
    return out.str();
}

std::string configured_combinations(config const& cfg)
{
    std::ostringstream out;
    out << "\nIn " << cfg.file.string() << "\n";
    auto row = [&](std::string const& who, partner const& p) {
        char line[256];
        std::snprintf(line, sizeof line, "  %-28s  %-13s  %-13s  %-8s  ", who.c_str(),
                      std::string{config_name(p.negotiation.tls)}.c_str(),
                      std::string{config_name(p.negotiation.sasl)}.c_str(), p.negotiation.dialback ? "true" : "false");
        out << line << policy::describe(p.policy.applied()) << "\n";
    };
    for (auto const& p : cfg.partners)
        row(p.domain, p);
    if (cfg.default_partner)
        row("[default_partner] (unlisted)", cfg.default_partner->terms);
    else
        out << "  [default_partner]: none; domains not listed are refused\n";
    return out.str();
}

}  // namespace fedgate::conf
