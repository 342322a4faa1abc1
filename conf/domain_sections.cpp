// [[local_domain]] and [[partner]]: the domains fedgate serves and the domains it
// federates with. Each domain belongs to exactly one of them.
#include "conf/loader.hpp"
#include "protocol/domain_name.hpp"

namespace fedgate::conf::detail {
namespace {

constexpr std::string_view local_example =
    "[[local_domain]] with name = \"contoso.com\", certificate = \"/etc/fedgate/contoso.com.crt\" "
    "and key = \"/etc/fedgate/contoso.com.key\"";

toml::array const* repeated_section(toml::node const* node, std::string_view key, diagnostics& out)
{
    if (!node)
        return nullptr;
    if (auto const* a = node->as_array(); a && a->is_array_of_tables())
        return a;
    out.error(line_of(*node), "'" + std::string{key} + "' must be written [[" + std::string{key} +
                                  "]] (double brackets), one block per " +
                                  (key == "partner" ? "partner" : "domain"));
    return nullptr;
}

}  // namespace

std::optional<std::string> loader::read_domain(located_string const& value, std::string_view key,
                                               std::string_view section)
{
    auto checked = protocol::check_domain_name(value.value);
    if (checked)
        return checked.canonical;
    out_.error(value.line, "'" + std::string{key} + "' in " + std::string{section} + ": \"" + value.value + "\" " +
                               checked.error + "; write a domain name such as \"fabrikam.com\"");
    return std::nullopt;
}

bool loader::claim(std::string const& domain, std::uint32_t line, owner who)
{
    auto [it, fresh] = claimed_.try_emplace(domain, claim_record{line, who});
    if (fresh)
        return true;
    auto const first = it->second;
    std::string const at = " (line " + std::to_string(first.line) + ")";
    if (who == owner::local && first.who == owner::local)
        out_.error(line, "local domain \"" + domain + "\" is listed twice; the first is at line " +
                             std::to_string(first.line) + ". Remove one of them");
    else if (first.who == owner::local)
        out_.error(line, "partner domain \"" + domain + "\" is also a [[local_domain]]" + at +
                             "; a domain is either ours or a partner's");
    else
        out_.error(line, "domain \"" + domain + "\" already belongs to the partner at line " +
                             std::to_string(first.line) + "; each domain may belong to one partner only");
    return false;
}

void loader::read_local_domains(toml::node const* node)
{
    auto const* blocks = repeated_section(node, "local_domain", out_);
    if (!blocks || blocks->empty()) {
        if (!node)
            out_.error(0, "no [[local_domain]] is configured; add one block per domain that fedgate serves: " +
                              std::string{local_example});
        return;
    }
    for (auto const& block : *blocks) {
        table_reader r{*block.as_table(), schema_of("local_domain"), out_};
        local_domain d;
        d.line = r.line();
        // Every require() runs, so that each missing key is reported at once.
        bool const has_name = r.require("name", "name = \"contoso.com\"");
        bool const has_certificate = r.require("certificate", "certificate = \"/etc/fedgate/contoso.com.crt\"");
        bool const has_key = r.require("key", "key = \"/etc/fedgate/contoso.com.key\"");
        bool const complete = has_name && has_certificate && has_key;
        if (auto name = r.string("name"))
            if (auto canonical = read_domain(*name, "name", "[[local_domain]]"); canonical && claim(*canonical, name->line, owner::local))
                d.name = *canonical;
        d.certificate = read_file(r, "certificate");
        d.key = read_file(r, "key");
        r.finish();
        if (complete && !d.name.empty())
            cfg_.local_domains.push_back(std::move(d));
    }
}

void loader::read_partners(toml::node const* node)
{
    auto const* blocks = repeated_section(node, "partner", out_);
    if ((!node || (blocks && blocks->empty())) && !open_federation_)
        out_.warning(0, "no [[partner]] is configured: fedgate will refuse every remote domain");
    if (!blocks)
        return;
    for (auto const& block : *blocks)
        read_partner(*block.as_table());
}

void loader::read_partner(toml::table const& t)
{
    table_reader r{t, schema_of("partner"), out_};
    partner p;
    p.line = r.line();
    // Both require() calls run, so that each missing key is reported at once.
    bool const has_domain = r.require("domain", "domain = \"fabrikam.com\"");
    bool const has_type = r.require("type", "type = \"federated\", \"public_verified\" or \"public_unverified\"");
    bool complete = has_domain && has_type;
    if (auto domain = r.string("domain")) {
        auto canonical = read_domain(*domain, "domain", "[[partner]]");
        complete = complete && canonical && claim(*canonical, domain->line, owner::partner);
        p.domain = canonical.value_or("");
    }
    for (auto const& extra : r.strings("additional_domains").value_or(std::vector<located_string>{})) {
        auto canonical = read_domain(extra, "additional_domains", "[[partner]]");
        if (canonical && claim(*canonical, extra.line, owner::partner))
            p.additional_domains.push_back(*canonical);
        else
            complete = false;
    }
    complete = read_partner_terms(r, t, p) && complete;
    r.finish();
    if (!complete)
        return;

    p.policy = judge_negotiation(r, p.negotiation, "partner \"" + p.domain + "\": ");
    cfg_.partners.push_back(std::move(p));
}

bool loader::read_partner_terms(table_reader& r, toml::table const& t, partner& p)
{
    bool complete = true;
    if (auto description = r.string("description"))
        p.description = description->value;
    static constexpr partner_type types[] = {partner_type::federated, partner_type::public_verified,
                                             partner_type::public_unverified};
    if (auto type = r.choice("type", {"federated", "public_verified", "public_unverified"}))
        p.type = types[*type];
    else
        complete = complete && !t.contains("type");
    complete = read_negotiation(r, t, p.negotiation) && complete;
    if (auto acks = r.boolean("stream_management"))
        p.stream_management = *acks;
    else
        complete = complete && !t.contains("stream_management");
    if (auto both_ways = r.boolean("bidi"))
        p.bidi = *both_ways;
    else
        complete = complete && !t.contains("bidi");
    if (auto stanzas = r.integer("rate_limit_stanzas", 0, 1000000, "stanzas a second; 0 means no limit"))
        p.rate_limit.stanzas_per_second = static_cast<double>(*stanzas);
    if (auto bytes = r.integer("rate_limit_bytes", 0, std::int64_t{1} << 32, "bytes a second; 0 means no limit"))
        p.rate_limit.bytes_per_second = static_cast<double>(*bytes);
    p.rate_limit_line = r.line_of("rate_limit_bytes");
    return complete;
}

bool loader::read_negotiation(table_reader& r, toml::table const& t, policy::negotiation_settings& into)
{
    using policy::requirement;
    static constexpr requirement requirements[] = {requirement::required, requirement::optional,
                                                   requirement::not_supported};
    bool complete = true;
    auto read_requirement = [&](std::string_view key, requirement& value) {
        if (auto v = r.choice(key, {"required", "optional", "not_supported"}))
            value = requirements[*v];
        else
            complete = complete && !t.contains(key);
    };
    read_requirement("tls", into.tls);
    read_requirement("sasl", into.sasl);
    if (auto dialback = r.boolean("dialback"))
        into.dialback = *dialback;
    else
        complete = complete && !t.contains("dialback");
    return complete;
}

policy::policy_evaluation loader::judge_negotiation(table_reader const& r, policy::negotiation_settings const& n,
                                                    std::string const& who)
{
    using policy::requirement;
    auto judged = policy::evaluate(n);
    // Each finding at the setting to change (the defaults are at the block's line):
    // TLS that SASL needs at `tls`, no method left at `sasl`, an idle dialback at
    // `dialback`.
    if (judged.error) {
        bool const tls_missing = n.tls == requirement::not_supported && n.sasl != requirement::not_supported;
        out_.error(r.line_of(tls_missing ? "tls" : "sasl"), who + *judged.error);
    }
    for (auto const& w : judged.warnings)
        out_.warning(r.line_of(n.tls == requirement::optional && w.starts_with("SASL requires TLS") ? "tls" : "dialback"),
                     who + w);
    return judged;
}

}  // namespace fedgate::conf::detail
