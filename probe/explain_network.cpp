// explain() (explain.hpp): the dns and tcp steps.
#include "probe/explain.hpp"

#include <algorithm>

namespace fedgate::probe {

namespace {

constexpr std::uint16_t starttls_port = 5269;  // RFC 6120 §3.2.2

std::string text_of(srv_record const& r)
{
    return std::to_string(r.priority) + " " + std::to_string(r.weight) + " " + std::to_string(r.port) + " " + r.target;
}

boost::json::value records_of(srv_answer const& a)
{
    if (!a.error.empty())
        return boost::json::value(a.error);
    boost::json::array list;
    for (auto const& r : a.records)
        list.emplace_back(text_of(r));
    return list;
}

bool only_dot(srv_answer const& a)
{
    return a.records.size() == 1 && a.records.front().target == ".";
}

/// An _xmpps-server record that names a port where STARTTLS is spoken: 5269,
/// or a target and port an _xmpp-server record names too (XEP-0368 §3 wants a
/// port where TLS starts at once).
std::optional<srv_record> xmpps_on_starttls_port(observation const& seen)
{
    for (auto const& r : seen.direct_tls_srv.records) {
        if (r.target == ".")
            continue;
        bool const shared = std::any_of(seen.starttls_srv.records.begin(), seen.starttls_srv.records.end(),
                                        [&](srv_record const& s) { return s.target == r.target && s.port == r.port; });
        if (r.port == starttls_port || shared)
            return r;
    }
    return std::nullopt;
}

bool is_lookup_failure(std::string const& code)
{
    return !code.empty() && code != "nxdomain" && code != "no_data";
}

step srv_step(observation const& seen)
{
    step s{.stage = stage::dns, .result = outcome::ok, .reason = "srv-found", .summary = {}, .facts = {}, .advice = {}};
    s.facts.emplace_back(seen.direct_tls_srv.name, records_of(seen.direct_tls_srv));
    s.facts.emplace_back(seen.starttls_srv.name, records_of(seen.starttls_srv));
    auto const& d = seen.remote;
    bool const any_dot = only_dot(seen.direct_tls_srv) || only_dot(seen.starttls_srv);
    if (!seen.resolve_error.empty() && any_dot && !seen.used_fallback) {
        s.result = outcome::failed;
        s.reason = "srv-target-dot";
        s.summary = d + " publishes the SRV target \".\": it decidedly offers no server-to-server service (RFC 2782)";
        s.advice = "Nothing to change on our side: " + d + " says it does not federate. If it should, its "
                   "administrator must replace the \".\" record with the server's host and port.";
        return s;
    }
    if (seen.used_fallback) {
        bool const failed_lookup =
            is_lookup_failure(seen.direct_tls_srv.error) || is_lookup_failure(seen.starttls_srv.error);
        s.result = failed_lookup ? outcome::warning : outcome::note;
        s.reason = failed_lookup ? "srv-lookup-failed" : "no-srv";
        s.summary = failed_lookup ? "the SRV lookups failed (" + seen.starttls_srv.error +
                                        "): fedgate falls back to " + d + "'s own addresses on port 5269"
                                  : "no SRV records: fedgate connects to " + d + "'s own A/AAAA addresses on port 5269 "
                                    "(RFC 6120 §3.2.2)";
        s.advice = failed_lookup ? "Check the DNS servers of [dns] (or /etc/resolv.conf): they did not answer the "
                                   "SRV queries."
                                 : "Fine if " + d + "'s server runs on " + d + " itself; otherwise " + d +
                                       " must publish _xmpp-server._tcp." + d + " SRV records naming its server.";
    } else if (auto wrong = xmpps_on_starttls_port(seen)) {
        s.result = outcome::warning;
        s.reason = "srv-xmpps-on-starttls-port";
        s.summary = "_xmpps-server._tcp." + d + " points at " + wrong->target + " port " + std::to_string(wrong->port) +
                    ", a STARTTLS port: direct TLS there fails";
        s.advice = d + " must point its _xmpps-server record at a port where TLS starts at once (often 5270), "
                       "or remove it; _xmpp-server is the record for port 5269.";
    } else if (any_dot) {
        s.result = outcome::note;
        s.reason = "srv-target-dot";
        s.summary = "one service is published as \".\" (decidedly not offered); the other is used";
    } else {
        s.summary = "SRV records found";
    }
    if (!seen.resolve_error.empty()) {
        s.result = outcome::failed;
        s.reason = seen.resolve_error == "nxdomain" ? "nxdomain" : "no-address";
        s.summary = seen.resolve_error == "nxdomain"
                        ? d + " does not exist in DNS (NXDOMAIN)"
                        : "no address found for " + d + "'s server (" + seen.resolve_error + ")";
        s.advice = seen.resolve_error == "timeout"
                       ? "The DNS servers of [dns] (or /etc/resolv.conf) did not answer in time; check them."
                       : "Check the domain's spelling in the configuration; " + d +
                             " must publish _xmpp-server._tcp SRV records, or A/AAAA records for itself.";
    }
    return s;
}

/// SRV targets that resolved to no address at all.
void targets_without_address(observation const& seen, report& out)
{
    for (auto const* answer : {&seen.direct_tls_srv, &seen.starttls_srv}) {
        for (auto const& r : answer->records) {
            bool const found = r.target == "." || std::any_of(seen.addresses.begin(), seen.addresses.end(),
                                                              [&](address_attempt const& a) { return a.host == r.target; });
            if (found)
                continue;
            out.steps.push_back({.stage = stage::dns,
                                 .result = outcome::warning,
                                 .reason = "srv-target-without-address",
                                 .summary = "the SRV target " + r.target + " has no A or AAAA record",
                                 .facts = {{"target", boost::json::value(r.target)}},
                                 .advice = seen.remote + " must give " + r.target +
                                           " an address, or remove the record (an SRV target must not be a CNAME "
                                           "either, RFC 2782)."});
        }
    }
}

step address_step(address_attempt const& a, bool some_connected)
{
    std::string const where = a.ip + " port " + std::to_string(a.port);
    step s{.stage = stage::tcp, .result = outcome::ok, .reason = "connected", .summary = {}, .facts = {}, .advice = {}};
    s.facts = {{"host", boost::json::value(a.host)},
               {"address", boost::json::value(a.ip)},
               {"family", boost::json::value(a.ipv6 ? "IPv6" : "IPv4")},
               {"port", boost::json::value(a.port)},
               {"method", boost::json::value(a.direct_tls ? "direct TLS" : "STARTTLS")}};
    if (a.connected) {
        s.summary = "connected to " + a.host + " (" + where + ")";
        return s;
    }
    s.result = some_connected ? outcome::warning : outcome::failed;
    if (a.timed_out) {
        s.reason = "connection-timeout";
        s.summary = where + " did not answer";
        s.advice = "A firewall drops the connection, or the host is down: " + a.host + " must accept port " +
                   std::to_string(a.port) + " from us" + (a.ipv6 ? " (over IPv6: check our IPv6 route too)." : ".");
    } else {
        bool const refused = a.error.find("refused") != std::string::npos;
        s.reason = refused ? "connection-refused" : "connection-failed";
        // The connector's message may name the address already.
        s.summary = a.error.starts_with(where) ? a.error : where + ": " + a.error;
        s.advice = refused ? "Nothing listens on " + where + ": the SRV record names a closed port, or the server "
                                 "is down. The record's port must be the one the server listens on."
                           : "Check the route to " + a.ip + (a.ipv6 ? " (our IPv6 connectivity)." : ".");
    }
    if (some_connected)
        s.advice += " fedgate uses another address meanwhile.";
    return s;
}

}  // namespace

void explain_network(observation const& seen, report& out)
{
    out.steps.push_back(srv_step(seen));
    targets_without_address(seen, out);
    bool const some_connected =
        std::any_of(seen.addresses.begin(), seen.addresses.end(), [](address_attempt const& a) { return a.connected; });
    for (auto const& a : seen.addresses)
        out.steps.push_back(address_step(a, some_connected));
}

}  // namespace fedgate::probe
