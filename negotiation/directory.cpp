#include "negotiation/directory.hpp"

#include <algorithm>

namespace fedgate::negotiation {

void directory::add_local_domain(std::string domain)
{
    locals_.push_back(std::move(domain));
}

void directory::add_partner(std::string domain, std::vector<std::string> const& additional_domains,
                            negotiation_settings settings, policy::partner_type type, stream_extensions extensions,
                            policy::rate_limit rate_limit)
{
    partner_rules rules{domain, settings, evaluate(settings).applied(), type, extensions, rate_limit};
    for (auto const& extra : additional_domains)
        partners_.insert_or_assign(extra, rules);
    partners_.insert_or_assign(std::move(domain), std::move(rules));
}

void directory::set_default_partner(partner_rules rules)
{
    rules.domain = default_partner_label;
    rules.listed = false;
    rules.methods = evaluate(rules.settings).applied();
    default_ = std::move(rules);
}

bool directory::is_local(std::string_view domain) const
{
    if (std::find(locals_.begin(), locals_.end(), domain) != locals_.end())
        return true;
    return every_other_domain_is_local_ && !domain.empty() && !partners_.contains(domain);
}

partner_rules const* directory::find_listed_partner(std::string_view domain) const
{
    auto it = partners_.find(domain);
    return it == partners_.end() ? nullptr : &it->second;
}

partner_rules const* directory::find_partner(std::string_view domain) const
{
    if (auto const* listed = find_listed_partner(domain))
        return listed;
    if (!default_ || domain.empty() || is_local(domain))
        return nullptr;
    return &*default_;
}

}  // namespace fedgate::negotiation
