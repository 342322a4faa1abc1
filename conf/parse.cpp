#include "conf/loader.hpp"
#include "conf/socket_address.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fedgate::conf {
namespace detail {
namespace {

std::string written_as(std::string_view key, toml::node const& node)
{
    if (node.is_table())
        return "[" + std::string{key} + "]";
    if (node.is_array_of_tables())
        return "[[" + std::string{key} + "]]";
    return "'" + std::string{key} + "'";
}

void report_unknown_sections(toml::table const& root, diagnostics& out)
{
    // Every top-level section (conf/schema.cpp); [[local_domain]] and [[partner]] repeat.
    std::vector<std::string> known;
    for (auto const& s : schema())
        known.emplace_back(s.name);
    for (auto const& [key, node] : root) {
        if (std::find(known.begin(), known.end(), key.str()) != known.end())
            continue;
        std::string message = "unknown section " + written_as(key.str(), node);
        if (auto suggestion = closest_match(key.str(), known); !suggestion.empty()) {
            message += "; did you mean " + written(schema_of(suggestion)) + "?";
        } else {
            message += "; remove it (fedgate.toml(5) lists every setting)";
        }
        out.error(key.source().begin.line, std::move(message));
    }
}

}  // namespace

toml::table const* section_table(toml::table const& root, std::string_view key, diagnostics& out)
{
    auto const* node = root.get(key);
    if (!node)
        return nullptr;
    if (auto const* t = node->as_table())
        return t;
    out.error(line_of(*node), "'" + std::string{key} + "' must be a section written [" + std::string{key} +
                                  "] on a line of its own, not " + std::string{type_phrase(node->type())});
    return nullptr;
}

void loader::read(toml::table const& root)
{
    report_unknown_sections(root, out_);
    static toml::table const empty;
    auto or_empty = [&](std::string_view key) -> toml::table const& {
        auto const* t = section_table(root, key, out_);
        return t ? *t : empty;
    };
    // Local domains first, so that a partner naming one of them is reported against it.
    read_local_domains(root.get("local_domain"));
    open_federation_ = root.contains("default_partner");
    read_partners(root.get("partner"));
    read_gateway(or_empty("gateway"));
    read_internal(section_table(root, "internal", out_));
    read_default_partner(section_table(root, "default_partner", out_));  // after [internal]: it needs s2s mode
    read_tls(or_empty("tls"));
    read_dns(or_empty("dns"));
    read_limits(or_empty("limits"));
    // A bytes limit below two seconds' worth of the largest stanza holds the
    // partner's streams far longer than two seconds for one such stanza.
    std::vector<partner const*> limited;
    for (auto const& p : cfg_.partners)
        limited.push_back(&p);
    if (cfg_.default_partner)
        limited.push_back(&cfg_.default_partner->terms);
    for (auto const* p : limited)
        if (p->rate_limit.bytes_per_second > 0 &&
            2 * p->rate_limit.bytes_per_second < static_cast<double>(cfg_.limits.max_stanza_bytes))
            out_.warning(p->rate_limit_line,
                         (p->domain.empty() ? std::string{"[default_partner]"} : "partner \"" + p->domain + "\"") + ": rate_limit_bytes is below half of [limits] max_stanza_bytes (" +
                             std::to_string(cfg_.limits.max_stanza_bytes) + "); one stanza that large holds its streams " +
                             std::to_string(static_cast<long>(static_cast<double>(cfg_.limits.max_stanza_bytes) /
                                                              p->rate_limit.bytes_per_second)) +
                             " s; raise rate_limit_bytes or lower max_stanza_bytes");
    read_store(or_empty("store"));
    read_blocklist(or_empty("blocklist"));
    read_log(or_empty("log"));
    read_metrics(or_empty("metrics"));
    read_control(or_empty("control"));
}

}  // namespace detail

load_result parse(std::string_view text, std::string const& file_name, std::filesystem::path const& base_dir)
{
    diagnostics out{file_name};
    toml::table root;
    try {
        root = toml::parse(text, file_name);
    } catch (toml::parse_error const& e) {
        std::string message = "this is not valid TOML: " + std::string{e.description()};
        // The commonest slip: a word without quotes (type = federated).
        if (e.description().find("could not determine value type") != std::string_view::npos ||
            e.description().find("while parsing boolean") != std::string_view::npos)
            message += "; write text in double quotes, e.g. type = \"federated\"";
        out.error(e.source().begin.line, std::move(message));
        return {std::nullopt, out.take()};
    }

    detail::loader l{out, base_dir};
    l.read(root);
    load_result result;
    if (!out.has_errors()) {
        result.cfg = l.take();
        result.cfg->file = file_name;
    }
    result.findings = out.take();
    return result;
}

load_result load_file(std::filesystem::path const& file)
{
    std::ifstream in{file, std::ios::binary};
    if (!in) {
        diagnostics out{file.string()};
        out.error(0, "cannot open the configuration file: " + std::string{std::strerror(errno)} +
                         "; pass the right one with -c FILE");
        return {std::nullopt, out.take()};
    }
    std::ostringstream text;
    text << in.rdbuf();

    auto result = parse(text.str(), file.string(), std::filesystem::absolute(file).parent_path());
    if (!result.ok())
        return result;
    diagnostics out{file.string()};
    check_files(*result.cfg, out);
    auto files = out.take();
    result.findings.insert(result.findings.end(), files.begin(), files.end());
    bool const file_errors = std::any_of(files.begin(), files.end(),
                                         [](auto const& d) { return d.level == diagnostic::severity::error; });
    if (file_errors)
        result.cfg.reset();
    return result;
}

}  // namespace fedgate::conf
