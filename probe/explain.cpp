// explain() (explain.hpp): the authentication step, the advice when nothing
// is negotiated, and what a probe cannot see from one side.
#include "probe/explain.hpp"

#include "probe/predict.hpp"

#include <algorithm>

namespace fedgate::probe {

namespace {

using policy::auth_method;

int distance(policy::negotiation_settings const& a, policy::negotiation_settings const& b)
{
    return (a.tls != b.tls) + (a.sasl != b.sasl) + (a.dialback != b.dialback);
}

/// The settings of `to` that differ from `from`, as configuration lines.
std::string changes(policy::negotiation_settings const& from, policy::negotiation_settings const& to)
{
    std::string out;
    auto add = [&out](std::string text) { out += (out.empty() ? "" : ", ") + text; };
    if (from.tls != to.tls)
        add("tls = \"" + std::string{policy::config_name(to.tls)} + "\"");
    if (from.sasl != to.sasl)
        add("sasl = \"" + std::string{policy::config_name(to.sasl)} + "\"");
    if (from.dialback != to.dialback)
        add(std::string{"dialback = "} + (to.dialback ? "true" : "false"));
    return out;
}

/// What the peer's side could fix, for a failure `reason`.
std::string peer_fix(observation const& seen, std::string const& reason)
{
    auto const& d = seen.remote;
    if (reason == "certificate-invalid")
        return d + " fixes its certificate (see the certificate step)";
    if (reason == "tls-not-offered")
        return d + " enables TLS";
    if (reason == "sasl-failed")
        return d + " accepts our certificate for " + seen.local + " (its CA must be in " + d + "'s trust store)";
    if (reason == "dialback-invalid" || reason == "dialback-error" || reason == "timeout")
        return d + " can call back " + seen.local + "'s authoritative server (fedgate run, reachable through " +
               seen.local + "'s SRV records)";
    return {};
}

}  // namespace

std::string advice_for_failure(observation const& seen, std::string const& reason)
{
    std::string out;
    if (auto fix = peer_fix(seen, reason); !fix.empty())
        out = "It works once " + fix + ".";
    if (!seen.partner)
        return out;
    auto const current = seen.partner->settings;
    auto const peer = capabilities_of(seen.negotiation);
    std::optional<prediction> nearest;
    for (auto const& s : valid_settings()) {
        auto p = predict(s, peer);
        if (!p.method || s == current)
            continue;
        if (!nearest || distance(current, s) < distance(current, nearest->settings))
            nearest = std::move(p);
    }
    if (nearest) {
        out += std::string{out.empty() ? "" : " Or: "} + "with " + changes(current, nearest->settings) +
               " for partner " + seen.partner->domain + ", fedgate would negotiate " +
               std::string{policy::display_name(*nearest->method)} + ".";
    } else if (out.empty()) {
        out = "No setting of this partner's policy would help: the peer must change first (see the steps above).";
    }
    return out;
}

namespace {

step authentication_step(observation const& seen, report& out)
{
    step s{.stage = stage::authentication, .result = outcome::ok, .reason = {}, .summary = {}, .facts = {}, .advice = {}};
    auto const& n = seen.negotiation;
    if (seen.partner)
        s.facts.emplace_back("policy", boost::json::value(describe(seen.partner->settings)));
    if (n && n->sasl)
        s.facts.emplace_back("sasl_external", boost::json::value(*n->sasl));
    if (n && (n->dialback || n->dialback_sent))
        s.facts.emplace_back("dialback", boost::json::value(n->dialback.value_or("no answer")));
    if (!seen.partner) {
        s.result = outcome::failed;
        s.reason = "not-a-partner";
        s.summary = seen.remote + " is not a partner: fedgate run refuses its streams and never connects to it" +
                    (n && n->method ? " (probed as tls and sasl optional, dialback on: " +
                                          std::string{policy::display_name(*n->method)} + ")"
                                    : "");
        s.advice = "To federate, add a [[partner]] with domain = \"" + seen.remote +
                   "\"; the alternatives below say what each policy would give.";
        return s;
    }
    if (n && n->method) {
        out.method = n->method;
        s.reason = std::string{policy::metric_name(*n->method)};
        s.summary = "would negotiate " + std::string{policy::display_name(*n->method)};
        auto const best = predict({seen.partner->settings.tls, seen.partner->settings.sasl, false},
                                  capabilities_of(n));
        if (*n->method != auth_method::sasl_over_tls &&
            policy::evaluate(seen.partner->settings).applied().contains(auth_method::sasl_over_tls)) {
            s.result = outcome::note;
            s.advice = "SASL over TLS is allowed but not possible (" + best.why + "); dialback trusts DNS only.";
        }
        return s;
    }
    s.result = outcome::failed;
    if (!n) {
        s.reason = "unreachable";
        s.summary = "no address of " + seen.remote + " could be reached; nothing was negotiated";
        s.advice = "See the dns and tcp steps.";
        return s;
    }
    s.reason = n->close_reason.empty() ? "no-common-method" : n->close_reason;
    s.summary = "nothing would be negotiated: " + n->close_detail;
    s.advice = advice_for_failure(seen, s.reason);
    return s;
}

void not_checked(observation const& seen, report& out)
{
    auto const& n = seen.negotiation;
    auto const& d = seen.remote;
    auto const& l = seen.local;
    if (!(n && n->sasl == "success"))
        out.not_checked.push_back("How " + d + " judges our certificate for " + l +
                                  " (SASL EXTERNAL did not run to success, so it was not shown).");
    if (!(n && n->dialback == "valid"))
        out.not_checked.push_back("Whether " + d + " can call back " + l + "'s authoritative server for dialback (it "
                                  "resolves " + l + "'s SRV records and connects to fedgate run, which the probe "
                                  "is not).");
    out.not_checked.push_back("Streams " + d + " opens to us: its DNS view of " + l + ", its firewall, and its policy "
                              "toward " + l + ".");
}

void alternatives(observation const& seen, report& out)
{
    auto const peer = capabilities_of(seen.negotiation);
    for (auto const& s : valid_settings())
        out.alternatives.push_back(predict(s, peer));
    out.partner_types = {
        {"federated", "a trusted deployment: every stanza passes both ways"},
        {"public_verified", "a provider that verifies its users: subscriptions, invitations and everything else pass "
                            "both ways"},
        {"public_unverified", "no verifiable trust: a remote contact reaches a local user only after that user "
                              "invited it (sent a subscribe) or a subscription exists"}};
}

}  // namespace

report explain(observation const& seen)
{
    report out;
    out.domain = seen.remote;
    out.local = seen.local;
    if (seen.partner) {
        out.partner = true;
        out.partner_domain = seen.partner->domain;
        out.partner_type = std::string{policy::config_name(seen.partner->type)};
        out.settings = seen.partner->settings;
    }
    explain_network(seen, out);
    explain_session(seen, out);
    out.steps.push_back(authentication_step(seen, out));
    not_checked(seen, out);
    if (!seen.partner)
        alternatives(seen, out);
    return out;
}

}  // namespace fedgate::probe
