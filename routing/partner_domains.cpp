// Which domains the configuration federates (router.hpp): for the reload's
// summary, the metrics shown at start and the component links to keep.
#include "routing/router.hpp"

namespace fedgate::routing {

std::set<std::string> partner_domains(conf::config const& cfg)
{
    std::set<std::string> domains;
    for (auto const& p : cfg.partners) {
        domains.insert(p.domain);
        domains.insert(p.additional_domains.begin(), p.additional_domains.end());
    }
    return domains;
}

std::set<std::string> component_domains(conf::config const& cfg)
{
    if (cfg.internal.mode == conf::internal_settings::link_mode::s2s)
        return {};
    return partner_domains(cfg);
}

}  // namespace fedgate::routing
