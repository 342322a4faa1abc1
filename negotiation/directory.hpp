#pragma once
/// @file
/// What a negotiation session needs to know about the deployment: our local
/// domains and the partners with their negotiation policy (and type, for the
/// router's contact policy: the one index of partners by domain). Built by the daemon
/// from the configuration (one per configuration generation, so a reload swaps
/// it whole) and shared read-only by every session.

#include "negotiation/policy_terms.hpp"
#include "policy/rate_limit.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fedgate::negotiation {

/// The stream extensions a partner's streams use when the peer offers them too.
struct stream_extensions {
    bool stream_management = true;  ///< XEP-0198 acknowledgements
    bool bidi = true;               ///< XEP-0288: one connection carries the stanzas of both directions
};

/// One partner as the negotiation sees it.
struct partner_rules {
    std::string domain;  ///< the primary domain (canonical), naming the partner in logs and metrics
    negotiation_settings settings;
    method_set methods;  ///< evaluate(settings).applied(): what may authenticate its streams
    policy::partner_type type = policy::partner_type::federated;  ///< what its users may do to ours (contacts/)
    stream_extensions extensions{};
    policy::rate_limit rate_limit{};  ///< what its servers may send a second (routing/); none by default
};

class directory {
public:
    /// Adds a local domain (canonical form).
    void add_local_domain(std::string domain);
    /// Adds a partner reachable by its primary domain and each additional domain
    /// (canonical forms). Its methods come from evaluate(settings).applied(): a
    /// combination the commit rule refuses authenticates nothing.
    void add_partner(std::string domain, std::vector<std::string> const& additional_domains,
                     negotiation_settings settings, policy::partner_type type = policy::partner_type::federated,
                     stream_extensions extensions = {}, policy::rate_limit rate_limit = {});

    [[nodiscard]] bool is_local(std::string_view domain) const;
    /// The partner owning `domain` (primary or additional), or nullptr.
    [[nodiscard]] partner_rules const* find_partner(std::string_view domain) const;

private:
    std::vector<std::string> locals_;
    std::map<std::string, partner_rules, std::less<>> partners_;  // by every domain of each partner
};

}  // namespace fedgate::negotiation
