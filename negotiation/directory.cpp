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

bool directory::is_local(std::string_view domain) const
{
    return std::find(locals_.begin(), locals_.end(), domain) != locals_.end();
}

partner_rules const* directory::find_partner(std::string_view domain) const
{
    auto it = partners_.find(domain);
    return it == partners_.end() ? nullptr : &it->second;
}

}  // namespace fedgate::negotiation
