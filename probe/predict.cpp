#include "probe/predict.hpp"

#include <algorithm>

namespace fedgate::probe {

using policy::auth_method;
using policy::requirement;

peer_capabilities capabilities_of(std::optional<negotiation_seen> const& seen)
{
    peer_capabilities p;
    if (!seen || (!seen->header_received && !seen->direct_tls))
        return p;
    p.reachable = true;
    p.direct_tls = seen->direct_tls;
    if (seen->before_tls) {
        p.offers_starttls = seen->before_tls->starttls;
        p.requires_tls = seen->before_tls->starttls_required;
    }
    p.requires_tls = p.requires_tls || seen->direct_tls;
    p.tls_observed = seen->tls_attempted;
    p.tls_works = seen->tls_established;
    p.certificate_valid = seen->certificate && !seen->certificate->untrusted && seen->certificate->matched;
    if (seen->after_tls) {
        auto const& m = seen->after_tls->mechanisms;
        p.offers_external = std::find(m.begin(), m.end(), "EXTERNAL") != m.end();
    }
    if (seen->sasl)
        p.external_accepted = *seen->sasl == "success";
    if (seen->dialback && *seen->dialback != "timeout")
        p.dialback_accepted = *seen->dialback == "valid";
    return p;
}

namespace {

prediction fails(prediction p, std::string reason, std::string why)
{
    p.reason = std::move(reason);
    p.why = std::move(why);
    return p;
}

}  // namespace

prediction predict(policy::negotiation_settings const& settings, peer_capabilities const& peer)
{
    prediction p{.settings = settings, .method = std::nullopt, .reason = {}, .why = {}};
    auto const evaluation = policy::evaluate(settings);
    auto const methods = evaluation.applied();
    if (methods.empty())
        return fails(p, "policy-refused", evaluation.error.value_or("this combination allows no method"));
    if (!peer.reachable)
        return fails(p, "unreachable", "the peer could not be reached");
    // The order of negotiation::outbound_session::on_features().
    bool tls = false;
    if (peer.direct_tls) {
        tls = true;  // XEP-0368: TLS first, whatever the policy
    } else if (peer.offers_starttls && settings.tls != requirement::not_supported) {
        tls = true;
    } else if (!peer.offers_starttls && settings.tls == requirement::required) {
        return fails(p, "tls-not-offered", "the peer offers no STARTTLS and tls = \"required\"");
    } else if (peer.requires_tls && settings.tls == requirement::not_supported) {
        return fails(p, "tls-refused", "the peer requires TLS and tls = \"not_supported\"");
    }
    if (tls && !peer.tls_observed)
        return fails(p, "not-observed", "this probe did not try TLS with the peer, so what follows it is unknown");
    if (tls && !peer.tls_works)
        return fails(p, "tls-handshake-failed", "the TLS handshake with the peer fails");
    if (tls && methods.contains(auth_method::sasl_over_tls) && peer.certificate_valid && peer.offers_external &&
        peer.external_accepted.value_or(true)) {
        p.method = auth_method::sasl_over_tls;
        return p;
    }
    auto const dialback = tls ? auth_method::tls_dialback : auth_method::tcp_dialback;
    if (methods.contains(dialback) && peer.dialback_accepted.value_or(true)) {
        p.method = dialback;
        return p;
    }
    if (methods.contains(dialback))
        return fails(p, "dialback-invalid", "the peer did not accept our dialback key");
    if (tls && methods.contains(auth_method::sasl_over_tls) && !peer.certificate_valid)
        return fails(p, "certificate-invalid",
                     "SASL EXTERNAL needs a valid certificate, and " + std::string{policy::display_name(dialback)} +
                         " is not allowed");
    if (tls && methods.contains(auth_method::sasl_over_tls) && peer.external_accepted == false)
        return fails(p, "sasl-failed", "the peer refused SASL EXTERNAL");
    return fails(p, "no-common-method",
                 "nothing allowed (" + policy::describe(methods) + ") is possible with this peer");
}

std::vector<policy::negotiation_settings> valid_settings()
{
    std::vector<policy::negotiation_settings> out;
    for (auto tls : {requirement::required, requirement::optional, requirement::not_supported})
        for (auto sasl : {requirement::required, requirement::optional, requirement::not_supported})
            for (bool dialback : {true, false}) {
                policy::negotiation_settings s{tls, sasl, dialback};
                if (policy::evaluate(s).outcome == policy::verdict::valid)
                    out.push_back(s);
            }
    return out;
}

std::string describe(policy::negotiation_settings const& s)
{
    return "tls = \"" + std::string{policy::config_name(s.tls)} + "\", sasl = \"" +
           std::string{policy::config_name(s.sasl)} + "\", dialback = " + (s.dialback ? "true" : "false");
}

}  // namespace fedgate::probe
