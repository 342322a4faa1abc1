#pragma once
/// @file
/// The report of `fedgate probe`: a list of steps, each a stage of the
/// connection (dns, tcp, tls, certificate, features, authentication) with its
/// outcome, the facts seen, a stable reason code and, when something is wrong
/// or worth knowing, one sentence of advice. render.hpp prints it as text or
/// JSON (version 1, documented in probe/README.md).

#include "policy/partner_policy.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedgate::probe {

enum class stage : std::uint8_t { dns, tcp, tls, certificate, features, authentication };
/// "dns", "tcp", "tls", "certificate", "features", "authentication".
[[nodiscard]] std::string_view name_of(stage s) noexcept;

enum class outcome : std::uint8_t {
    ok,           ///< as it should be
    note,         ///< worth knowing, harmless
    warning,      ///< works, but a mistake or a risk
    failed,       ///< this stage stopped the negotiation
    not_checked,  ///< cannot be seen from here, or an earlier stage failed
};
/// "ok", "note", "warning", "failed", "not-checked".
[[nodiscard]] std::string_view name_of(outcome o) noexcept;

/// One finding.
struct step {
    probe::stage stage = stage::dns;
    probe::outcome result = outcome::ok;
    std::string reason;   ///< stable code, e.g. "srv-xmpps-on-starttls-port" (probe/README.md lists them)
    std::string summary;  ///< one line for a person
    std::vector<std::pair<std::string, boost::json::value>> facts;  ///< strings, arrays of strings, booleans
    std::string advice;  ///< what to change; empty when nothing
};

/// What a partner policy would give with this peer.
struct prediction {
    policy::negotiation_settings settings;
    std::optional<policy::auth_method> method;  ///< nullopt: nothing would be negotiated
    std::string reason;                         ///< stable code when nothing would
    std::string why;                            ///< a sentence
};

struct report {
    static constexpr int version = 1;
    std::string domain;
    std::string local;
    bool partner = false;
    std::string partner_domain;  ///< the partner's primary domain
    std::string partner_type;    ///< config word
    std::optional<policy::negotiation_settings> settings;  ///< the partner's
    std::optional<policy::auth_method> method;  ///< what was negotiated (partners only)
    std::vector<step> steps;
    /// Statements of what one side cannot check.
    std::vector<std::string> not_checked;
    /// For a domain that is not a partner: each valid policy's outcome with this peer.
    std::vector<prediction> alternatives;
    /// For a domain that is not a partner: what each partner type would let its users do.
    std::vector<std::pair<std::string, std::string>> partner_types;

    /// The exit status's question: would `fedgate run` negotiate a method with
    /// this domain? Never for a domain that is not a partner.
    [[nodiscard]] bool negotiable() const noexcept { return partner && method.has_value(); }
};

}  // namespace fedgate::probe
