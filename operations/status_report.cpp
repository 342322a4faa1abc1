#include "operations/status_report.hpp"

#include "policy/partner.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <ctime>
#include <sstream>

namespace fedgate::operations {

namespace json = boost::json;

std::string utc_text(wall_time t)
{
    if (t == wall_time{})
        return {};
    auto const seconds = std::chrono::system_clock::to_time_t(t);
    std::tm parts{};
    ::gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

std::string_view health_of(direction_state const& d) noexcept
{
    if (d.up)
        return "up";
    if (d.last_failure && (!d.last_success || d.last_failure->at >= d.last_success->at))
        return "failing";
    return "idle";
}

namespace {

json::value time_or_null(wall_time t)
{
    auto text = utc_text(t);
    return text.empty() ? json::value{} : json::value(json::string{text});
}

json::array strings(std::vector<std::string> const& values)
{
    json::array a;
    for (auto const& v : values)
        a.emplace_back(json::string{v});
    return a;
}

std::string_view result_name(stage_record::outcome o) noexcept
{
    switch (o) {
    case stage_record::outcome::succeeded: return "succeeded";
    case stage_record::outcome::failed: return "failed";
    case stage_record::outcome::not_reached: break;
    }
    return "not_reached";
}

json::object last_attempt(direction_state const& d)
{
    json::object stages;
    for (auto s : every_stage) {
        auto const& r = d.stage(s);
        json::object o{{"result", result_name(r.result)}, {"time", time_or_null(r.at)}};
        if (r.result == stage_record::outcome::failed) {
            o["reason"] = r.reason;
            o["advice"] = r.advice;
        }
        stages[label_of(s)] = std::move(o);
    }
    json::object a{{"started", time_or_null(d.attempt_started)}, {"stages", std::move(stages)}};
    if (d.dns)
        a["dns"] = json::object{{"srv_answers", strings(d.dns->srv_answers)},
                                {"addresses", strings(d.dns->addresses)},
                                {"target", d.dns->target},
                                {"direct_tls", d.dns->direct_tls}};
    if (d.tcp)
        a["tcp"] = json::object{{"address", d.tcp->address}, {"ipv6", d.tcp->ipv6}};
    if (d.tls)
        a["tls"] = json::object{{"version", d.tls->version},
                                {"cipher", d.tls->cipher},
                                {"alpn", d.tls->alpn},
                                {"direct_tls", d.tls->direct_tls}};
    if (d.certificate)
        a["certificate"] = json::object{{"verdict", d.certificate->verdict},
                                        {"matched_identity", d.certificate->matched_identity},
                                        {"detail", d.certificate->detail},
                                        {"fingerprint", d.certificate->fingerprint}};
    if (d.authentication)
        a["authentication"] = json::object{{"method", d.authentication->method}, {"outcome", d.authentication->outcome}};
    return a;
}

json::object direction_document(direction_state const& d)
{
    json::object o{{"health", health_of(d)},
                   {"up", d.up},
                   {"streams_up", d.streams_up},
                   {"since", time_or_null(d.since)},
                   {"method", d.method}};
    o["last_success"] = d.last_success ? json::value(json::object{{"time", utc_text(d.last_success->at)},
                                                                  {"method", d.last_success->method}})
                                       : json::value{};
    o["last_failure"] = d.last_failure ? json::value(json::object{{"time", utc_text(d.last_failure->at)},
                                                                  {"stage", label_of(d.last_failure->stage)},
                                                                  {"reason", d.last_failure->reason},
                                                                  {"advice", d.last_failure->advice}})
                                       : json::value{};
    o["last_attempt"] = last_attempt(d);
    json::array failures;
    for (auto const& [key, count] : d.failures)
        failures.push_back(json::object{{"stage", label_of(key.first)}, {"reason", key.second}, {"count", count}});
    o["failures"] = std::move(failures);
    return o;
}

json::object certificate_document(certificate_record const& c)
{
    return {{"fingerprint", c.facts.fingerprint},
            {"subject", c.facts.subject},
            {"issuer", c.facts.issuer},
            {"serial", c.facts.serial},
            {"subject_alt_names", strings(c.facts.subject_alt_names)},
            {"extended_key_usage", strings(c.facts.extended_key_usage)},
            {"not_before", utc_text(c.facts.not_before)},
            {"not_after", utc_text(c.facts.not_after)},
            {"first_seen", utc_text(c.first_seen)},
            {"last_seen", utc_text(c.last_seen)},
            {"direction", label_of(c.last_direction)}};
}

}  // namespace

json::object status_document(daemon_facts const& daemon, conf::config const& cfg,
                             std::vector<partner_state_row> const& rows,
                             std::map<std::string, partner_queues, std::less<>> const& queued, wall_time now)
{
    json::array partners;
    bool healthy = true;
    for (auto const& p : cfg.partners) {
        auto const row = std::find_if(rows.begin(), rows.end(), [&](auto const& r) { return r.partner == p.domain; });
        partner_state_row empty;
        empty.partner = p.domain;
        auto const& state = row != rows.end() ? *row : empty;
        auto const in = health_of(state.inbound), out = health_of(state.outbound);
        auto const health = in == "failing" || out == "failing" ? "failing" : in == "up" || out == "up" ? "up" : "idle";
        healthy = healthy && std::string_view{health} != "failing";
        auto const q = queued.find(p.domain);
        json::array certificates;
        for (auto const& c : state.certificates)
            certificates.push_back(certificate_document(c));
        partners.push_back(json::object{
            {"domain", p.domain},
            {"additional_domains", strings(p.additional_domains)},
            {"description", p.description},
            {"type", policy::config_name(p.type)},
            {"policy", json::object{{"tls", policy::config_name(p.negotiation.tls)},
                                    {"sasl", policy::config_name(p.negotiation.sasl)},
                                    {"dialback", p.negotiation.dialback}}},
            {"health", health},
            {"queued_stanzas", json::object{{"outbound", q == queued.end() ? 0 : q->second.outbound},
                                            {"internal", q == queued.end() ? 0 : q->second.internal}}},
            {"inbound", direction_document(state.inbound)},
            {"outbound", direction_document(state.outbound)},
            {"certificate_expires",
             state.certificates.empty() ? json::value{} : json::value(json::string{utc_text(state.certificates.front().facts.not_after)})},
            {"certificates", std::move(certificates)},
        });
    }
    return {{"version", status_version},
            {"time", utc_text(now)},
            {"daemon", json::object{{"version", daemon.version},
                                    {"pid", daemon.pid},
                                    {"started", utc_text(daemon.started)},
                                    {"config", daemon.config_file},
                                    {"store_up", daemon.store_up}}},
            {"healthy", healthy},
            {"partners", std::move(partners)}};
}

namespace {

std::string text_of(json::value const* v)
{
    if (v == nullptr || v->is_null())
        return {};
    if (v->is_string())
        return std::string{v->as_string()};
    if (v->is_bool())
        return v->as_bool() ? "yes" : "no";
    return json::serialize(*v);
}

std::string text_of(json::object const& o, std::string_view key)
{
    return text_of(o.if_contains(key));
}

json::object const& object_at(json::object const& o, std::string_view key)
{
    static json::object const none;
    auto const* v = o.if_contains(key);
    return v && v->is_object() ? v->as_object() : none;
}

/// "up sasl-over-tls", "failing: certificate", "idle".
std::string direction_cell(json::object const& d)
{
    auto const health = text_of(d, "health");
    if (health == "up")
        return "up " + text_of(d, "method");
    if (health == "failing")
        return "failing: " + text_of(object_at(d, "last_failure"), "stage");
    return health.empty() ? "?" : health;
}

}  // namespace

std::string status_text(json::object const& document)
{
    std::ostringstream out;
    auto const& daemon = object_at(document, "daemon");
    out << "fedgate " << text_of(daemon, "version") << " (pid " << text_of(daemon, "pid") << "), running since "
        << text_of(daemon, "started") << "; relationship store " << (text_of(daemon, "store_up") == "yes" ? "up" : "DOWN")
        << "\n";
    std::vector<std::array<std::string, 7>> table{
        {"PARTNER", "TYPE", "TLS/SASL/DIALBACK", "INBOUND", "OUTBOUND", "QUEUED", "CERTIFICATE EXPIRES"}};
    std::vector<std::string> failures;
    auto const* partners = document.if_contains("partners");
    if (partners && partners->is_array())
        for (auto const& v : partners->as_array()) {
            if (!v.is_object())
                continue;
            auto const& p = v.as_object();
            auto const& policy = object_at(p, "policy");
            auto const& queued = object_at(p, "queued_stanzas");
            auto const domain = text_of(p, "domain");
            table.push_back({domain, text_of(p, "type"),
                             text_of(policy, "tls") + "/" + text_of(policy, "sasl") + "/" + text_of(policy, "dialback"),
                             direction_cell(object_at(p, "inbound")), direction_cell(object_at(p, "outbound")),
                             text_of(queued, "outbound") + "+" + text_of(queued, "internal"),
                             text_of(p, "certificate_expires").substr(0, 10)});
            for (auto const* direction : {"inbound", "outbound"}) {
                auto const& d = object_at(p, direction);
                if (text_of(d, "health") != "failing")
                    continue;
                auto const& f = object_at(d, "last_failure");
                failures.push_back(domain + " " + direction + ": failed at " + text_of(f, "stage") + " (" +
                                   text_of(f, "reason") + ") " + text_of(f, "time") + ": " + text_of(f, "advice"));
            }
        }
    std::array<std::size_t, 7> width{};
    for (auto const& row : table)
        for (std::size_t i = 0; i < row.size(); ++i)
            width[i] = std::max(width[i], row[i].size());
    for (auto const& row : table) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i)
            line += row[i] + std::string(i + 1 < row.size() ? width[i] - row[i].size() + 2 : 0, ' ');
        out << line << "\n";
    }
    if (table.size() == 1)
        out << "(no partner is configured)\n";
    for (auto const& f : failures)
        out << "  " << f << "\n";
    return out.str();
}

bool any_partner_failing(json::object const& document)
{
    auto const* partners = document.if_contains("partners");
    if (!partners || !partners->is_array())
        return false;
    return std::any_of(partners->as_array().begin(), partners->as_array().end(), [](json::value const& v) {
        return v.is_object() && text_of(v.as_object(), "health") == "failing";
    });
}

}  // namespace fedgate::operations
