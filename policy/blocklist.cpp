#include "policy/blocklist.hpp"

namespace fedgate::policy {

std::string blocked_text(std::string_view domain, block_entry const& entry)
{
    return std::string{domain} + " is blocked here (blocklist line " + std::to_string(entry.line) + ": " +
           entry.pattern + ")";
}

block_entry const* blocklist::add_exact(std::string domain, std::uint32_t line)
{
    auto pattern = domain;
    auto [it, fresh] = exact_.try_emplace(std::move(domain), block_entry{std::move(pattern), line});
    return fresh ? nullptr : &it->second;
}

block_entry const* blocklist::add_suffix(std::string suffix, std::uint32_t line)
{
    auto pattern = "*." + suffix;
    auto [it, fresh] = suffixes_.try_emplace(std::move(suffix), block_entry{std::move(pattern), line});
    return fresh ? nullptr : &it->second;
}

block_entry const* blocklist::match(std::string_view domain, bool listed) const
{
    if (auto it = exact_.find(domain); it != exact_.end())
        return &it->second;
    if (listed || suffixes_.empty())
        return nullptr;
    // Every proper suffix after a dot: a.b.example -> b.example, example.
    for (auto dot = domain.find('.'); dot != std::string_view::npos; dot = domain.find('.', dot + 1))
        if (auto it = suffixes_.find(domain.substr(dot + 1)); it != suffixes_.end())
            return &it->second;
    return nullptr;
}

}  // namespace fedgate::policy
