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
#include <optional>
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
    /// false for [default_partner]'s terms, which every unlisted domain shares
    /// (its `domain` is then default_partner_label); each such domain is its
    /// own partner for the rate limit and the streams.
    bool listed = true;
};

/// The name of [default_partner] in metric labels and the partner state: one
/// series for every unlisted domain, however many there are.
inline constexpr std::string_view default_partner_label = "*";

/// Whether `a_domain` (of partner `a`) and `b_domain` (of `b`) are one
/// partner's: a listed partner's domains are, two unlisted domains are not.
[[nodiscard]] inline bool same_partner(partner_rules const& a, std::string_view a_domain, partner_rules const& b,
                                       std::string_view b_domain)
{
    return a.domain == b.domain && (a.listed || a_domain == b_domain);
}
/// How a message names the partner of `domain`: its primary domain, or the
/// unlisted domain itself.
[[nodiscard]] inline std::string partner_name(partner_rules const& p, std::string_view domain)
{
    return p.listed ? p.domain : std::string{domain} + " (unlisted, [default_partner])";
}

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

    /// [default_partner]: the terms of every domain that is neither local nor
    /// a listed partner's (its domain becomes default_partner_label).
    void set_default_partner(partner_rules rules);
    /// The internal leg's view in open federation: every domain that is not a
    /// partner's (there: a local domain of ours) counts as one "we" speak for.
    void speak_for_every_other_domain() { every_other_domain_is_local_ = true; }

    [[nodiscard]] bool is_local(std::string_view domain) const;
    /// The partner owning `domain` (primary or additional); else, for a domain
    /// that is not local, the default partner's terms when there are some;
    /// else nullptr.
    [[nodiscard]] partner_rules const* find_partner(std::string_view domain) const;
    /// Only a partner that lists `domain`: the blocklist spares those.
    [[nodiscard]] partner_rules const* find_listed_partner(std::string_view domain) const;
    [[nodiscard]] bool open_federation() const noexcept { return default_.has_value(); }

private:
    std::vector<std::string> locals_;
    std::optional<partner_rules> default_;
    bool every_other_domain_is_local_ = false;
    std::map<std::string, partner_rules, std::less<>> partners_;  // by every domain of each partner
};

}  // namespace fedgate::negotiation
