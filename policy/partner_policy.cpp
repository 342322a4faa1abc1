#include "policy/partner_policy.hpp"

namespace fedgate::policy {
namespace {

// The seed's own words, so that an operator who knows the Lync documentation
// recognises them.
constexpr std::string_view optional_tls_warning =
    "SASL requires TLS. Allowing TLS to be optional may result in failed session negotiations.";
constexpr std::string_view dialback_idle_warning = "Dialback will not operate if both SASL and TLS are required.";

method_set expected_methods(negotiation_settings const& s)
{
    bool const tls_possible = s.tls != requirement::not_supported;
    method_set m;
    // SASL EXTERNAL needs a TLS stream to carry the certificate it authenticates with.
    if (tls_possible && s.sasl != requirement::not_supported)
        m.insert(auth_method::sasl_over_tls);
    // With both TLS and SASL required, every stream authenticates with SASL, so
    // dialback never runs (seed 001, row 1).
    bool const sasl_mandatory = s.tls == requirement::required && s.sasl == requirement::required;
    if (s.dialback && tls_possible && !sasl_mandatory)
        m.insert(auth_method::tls_dialback);
    // A plaintext stream exists only when TLS is not required.
    if (s.dialback && s.tls != requirement::required)
        m.insert(auth_method::tcp_dialback);
    return m;
}

}  // namespace

policy_evaluation evaluate(negotiation_settings const& s)
{
    policy_evaluation e;
    e.expected = expected_methods(s);

    if (s.sasl != requirement::not_supported && s.tls == requirement::not_supported) {
        // Seed 000, step 11: "you will be warned that SASL must have TLS support and
        // your changes are not saved". DESIGN.md: fedgate refuses it the same way.
        e.outcome = verdict::error;
        e.error = "SASL requires TLS, and TLS is not supported: set tls to \"required\" or \"optional\", "
                  "or set sasl to \"not_supported\"";
        if (!s.dialback)
            e.note = "Because SASL requires TLS, and TLS is not available, SASL/TLS cannot succeed. "
                     "TCP Dialback is set to false, and cannot be used.";
        return e;
    }
    if (e.expected.empty()) {
        e.outcome = verdict::error;
        e.error = "SASL or Dialback must be enabled: set sasl to \"required\" or \"optional\" (with TLS), "
                  "or set dialback to true";
        return e;
    }

    if (s.tls == requirement::required && s.sasl == requirement::required && s.dialback)
        e.warnings.emplace_back(dialback_idle_warning);
    if (s.tls == requirement::optional && s.sasl != requirement::not_supported)
        e.warnings.emplace_back(optional_tls_warning);

    if (s.sasl == requirement::not_supported) {
        if (s.tls == requirement::required)
            e.note = "Configuration allows for TLS Dialback.";
        else if (s.tls == requirement::optional)
            e.note = "Based on negotiation choices of the other end point, TCP or TLS Dialback will be accepted.";
        else
            e.note = "TCP Dialback is the only negotiation method available.";
    }
    return e;
}

std::string_view config_name(requirement r) noexcept
{
    switch (r) {
    case requirement::required:
        return "required";
    case requirement::optional:
        return "optional";
    case requirement::not_supported:
        return "not_supported";
    }
    return "?";
}

std::optional<requirement> parse_requirement(std::string_view word) noexcept
{
    for (auto r : {requirement::required, requirement::optional, requirement::not_supported})
        if (word == config_name(r))
            return r;
    return std::nullopt;
}

std::string_view metric_name(auth_method m) noexcept
{
    switch (m) {
    case auth_method::sasl_over_tls:
        return "sasl-over-tls";
    case auth_method::tls_dialback:
        return "tls-dialback";
    case auth_method::tcp_dialback:
        return "tcp-dialback";
    }
    return "unknown";
}

std::string_view display_name(auth_method m) noexcept
{
    switch (m) {
    case auth_method::sasl_over_tls:
        return "SASL over TLS";
    case auth_method::tls_dialback:
        return "TLS dialback";
    case auth_method::tcp_dialback:
        return "TCP dialback";
    }
    return "?";
}

std::string describe(method_set methods)
{
    std::string out;
    for (auto m : all_methods) {
        if (!methods.contains(m))
            continue;
        if (!out.empty())
            out += ", ";
        out += display_name(m);
    }
    return out.empty() ? "none" : out;
}

}  // namespace fedgate::policy
