#include "negotiation/session_types.hpp"

namespace fedgate::negotiation {

std::string_view outcome_name(dialback_outcome o) noexcept
{
    switch (o) {
    case dialback_outcome::valid:
        return "valid";
    case dialback_outcome::invalid:
        return "invalid";
    case dialback_outcome::not_found:
        return "not-found";
    case dialback_outcome::unreachable:
        return "unreachable";
    case dialback_outcome::timeout:
        return "timeout";
    }
    return "unknown";
}

std::string_view metric_name(close_reason r) noexcept
{
    switch (r) {
    case close_reason::peer_closed:
        return "peer-closed";
    case close_reason::transport_closed:
        return "transport-closed";
    case close_reason::timeout:
        return "timeout";
    case close_reason::bad_input:
        return "bad-input";
    case close_reason::host_unknown:
        return "host-unknown";
    case close_reason::unknown_partner:
        return "unknown-partner";
    case close_reason::policy:
        return "policy";
    case close_reason::not_authenticated:
        return "not-authenticated";
    case close_reason::tls_not_offered:
        return "tls-not-offered";
    case close_reason::tls_refused:
        return "tls-refused";
    case close_reason::certificate_invalid:
        return "certificate-invalid";
    case close_reason::sasl_failed:
        return "sasl-failed";
    case close_reason::dialback_invalid:
        return "dialback-invalid";
    case close_reason::dialback_error:
        return "dialback-error";
    case close_reason::no_common_method:
        return "no-common-method";
    case close_reason::stream_error_received:
        return "stream-error-received";
    case close_reason::component_conflict:
        return "component-conflict";
    case close_reason::too_many_failures:
        return "too-many-failures";
    case close_reason::done:
        return "done";
    case close_reason::blocked:
        return "blocked";
    case close_reason::unlisted_domains_full:
        return "unlisted-domains-full";
    }
    return "unknown";
}

}  // namespace fedgate::negotiation
