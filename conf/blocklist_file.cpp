// The operator's blocklist file ([blocklist] file): read at start, at reload
// and whenever it changed (routing/, every [blocklist] refresh_seconds), and by
// check-config. Its findings name the blocklist file's own lines.
#include "conf/config.hpp"
#include "protocol/domain_name.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fedgate::conf {
namespace {

std::string_view trimmed(std::string_view s)
{
    auto const first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

blocklist_load parse_blocklist(std::string_view text, std::string const& file_name)
{
    diagnostics out{file_name};
    policy::blocklist list;
    std::uint32_t line = 0;
    while (!text.empty()) {
        ++line;
        auto const end = text.find('\n');
        auto entry = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        entry = trimmed(entry.substr(0, entry.find('#')));
        if (entry.empty())
            continue;
        if (entry.find_first_of(" \t") != std::string_view::npos) {
            out.error(line, "\"" + std::string{entry} + "\" holds a space; write one domain a line");
            continue;
        }
        bool const wildcard = entry.starts_with("*.");
        auto const name = wildcard ? entry.substr(2) : entry;
        if (name.find('*') != std::string_view::npos) {
            out.error(line, "\"" + std::string{entry} + "\": a wildcard is \"*.\" before a domain, such as "
                                                        "\"*.spam.example\" (every subdomain of spam.example)");
            continue;
        }
        auto checked = protocol::check_domain_name(name);
        if (!checked) {
            out.error(line, "\"" + std::string{entry} + "\" " + checked.error +
                                "; write a domain such as \"spam.example\" or \"*.spam.example\"");
            continue;
        }
        auto const* earlier =
            wildcard ? list.add_suffix(checked.canonical, line) : list.add_exact(checked.canonical, line);
        if (earlier != nullptr)
            out.warning(line, "\"" + std::string{entry} + "\" repeats line " + std::to_string(earlier->line));
    }
    blocklist_load result;
    if (!out.has_errors())
        result.list = std::move(list);
    result.findings = out.take();
    return result;
}

blocklist_load read_blocklist(std::filesystem::path const& file)
{
    std::ifstream in{file, std::ios::binary};
    if (!in) {
        blocklist_load failed;
        failed.findings.push_back({diagnostic::severity::error, file.string(), 0,
                                   std::string{"cannot read the blocklist: "} + std::strerror(errno) +
                                       "; check [blocklist] file"});
        return failed;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_blocklist(text.str(), file.string());
}

}  // namespace fedgate::conf
