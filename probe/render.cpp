#include "probe/render.hpp"

#include "probe/predict.hpp"

#include <boost/json/serialize.hpp>

namespace fedgate::probe {

namespace {

std::string text_of(boost::json::value const& v)
{
    if (v.is_string())
        return std::string{v.get_string()};
    if (v.is_bool())
        return v.get_bool() ? "yes" : "no";
    if (v.is_array()) {
        std::string out;
        for (auto const& item : v.get_array())
            out += (out.empty() ? "" : ", ") + text_of(item);
        return out.empty() ? "none" : out;
    }
    return boost::json::serialize(v);
}

boost::json::value method_or_null(std::optional<policy::auth_method> m)
{
    if (!m)
        return nullptr;
    return boost::json::value(policy::metric_name(*m));
}

void settings_into(boost::json::object& o, policy::negotiation_settings const& s)
{
    o["tls"] = policy::config_name(s.tls);
    o["sasl"] = policy::config_name(s.sasl);
    o["dialback"] = s.dialback;
}

}  // namespace

std::string render_text(report const& r)
{
    std::string out = "fedgate probe " + r.domain + " (from " + r.local + "): ";
    if (r.partner)
        out += "partner " + r.partner_domain + " (" + r.partner_type + "), " + describe(*r.settings) + "\n";
    else
        out += "not a partner\n";
    for (auto const& s : r.steps) {
        out += "\n[" + std::string{name_of(s.stage)} + "] " + std::string{name_of(s.result)} + ": " + s.summary + " (" +
               s.reason + ")\n";
        for (auto const& [name, value] : s.facts)
            out += "    " + name + ": " + text_of(value) + "\n";
        if (!s.advice.empty())
            out += "    advice: " + s.advice + "\n";
    }
    if (!r.alternatives.empty()) {
        out += "\nWhat each policy would give with " + r.domain + ":\n";
        for (auto const& a : r.alternatives)
            out += "    " + describe(a.settings) + ": " +
                   (a.method ? std::string{policy::display_name(*a.method)} : "nothing (" + a.why + ")") + "\n";
        out += "Partner types (what its users may do to ours):\n";
        for (auto const& [type, meaning] : r.partner_types)
            out += "    " + type + ": " + meaning + "\n";
    }
    out += "\nNot checked from this side:\n";
    for (auto const& n : r.not_checked)
        out += "    - " + n + "\n";
    if (r.negotiable())
        out += "\nResult: fedgate would negotiate " + std::string{policy::display_name(*r.method)} + " with " +
               r.domain + ".\n";
    else
        out += "\nResult: fedgate would negotiate nothing with " + r.domain + ".\n";
    return out;
}

boost::json::object to_json(report const& r)
{
    boost::json::object o;
    o["version"] = report::version;
    o["domain"] = r.domain;
    o["local"] = r.local;
    if (r.partner) {
        boost::json::object p;
        p["domain"] = r.partner_domain;
        p["type"] = r.partner_type;
        settings_into(p, *r.settings);
        o["partner"] = std::move(p);
    } else {
        o["partner"] = nullptr;
    }
    o["negotiable"] = r.negotiable();
    o["method"] = method_or_null(r.method);
    boost::json::array steps;
    for (auto const& s : r.steps) {
        boost::json::object j;
        j["stage"] = name_of(s.stage);
        j["outcome"] = name_of(s.result);
        j["reason"] = s.reason;
        j["summary"] = s.summary;
        boost::json::object facts;
        for (auto const& [name, value] : s.facts)
            facts[name] = value;
        j["facts"] = std::move(facts);
        j["advice"] = s.advice;
        steps.emplace_back(std::move(j));
    }
    o["steps"] = std::move(steps);
    boost::json::array not_checked;
    for (auto const& n : r.not_checked)
        not_checked.emplace_back(n);
    o["not_checked"] = std::move(not_checked);
    boost::json::array alternatives;
    for (auto const& a : r.alternatives) {
        boost::json::object j;
        settings_into(j, a.settings);
        j["method"] = method_or_null(a.method);
        j["reason"] = a.reason;
        j["why"] = a.why;
        alternatives.emplace_back(std::move(j));
    }
    o["alternatives"] = std::move(alternatives);
    boost::json::object types;
    for (auto const& [type, meaning] : r.partner_types)
        types[type] = meaning;
    o["partner_types"] = std::move(types);
    return o;
}

std::string render_json(report const& r)
{
    return boost::json::serialize(to_json(r)) + "\n";
}

}  // namespace fedgate::probe
