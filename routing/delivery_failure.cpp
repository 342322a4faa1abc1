#include "routing/delivery_failure.hpp"

namespace fedgate::routing {

using protocol::stanza_condition;

delivery_failure classify(dns::error e)
{
    switch (e) {
    case dns::error::nxdomain:
    case dns::error::service_unavailable:
        // The domain does not exist, or says it offers no S2S service: final.
        return {stanza_condition::remote_server_not_found, false,
                e == dns::error::nxdomain ? "the domain does not exist" : "the domain offers no XMPP service"};
    case dns::error::timeout:
        return {stanza_condition::remote_server_timeout, true, "DNS did not answer in time"};
    case dns::error::no_data:
        return {stanza_condition::remote_server_not_found, false, "the domain has no address"};
    case dns::error::server_failure:
    case dns::error::refused:
    case dns::error::bad_reply:
    case dns::error::cancelled:
    case dns::error::failed:
        break;
    }
    return {stanza_condition::remote_server_not_found, true, "DNS resolution failed"};
}

delivery_failure connection_failed(bool timed_out)
{
    if (timed_out)
        return {stanza_condition::remote_server_timeout, true, "the partner's server did not answer in time"};
    return {stanza_condition::remote_server_not_found, true, "no server of the partner accepted a connection"};
}

delivery_failure classify(negotiation::close_reason reason, std::string const& detail)
{
    using negotiation::close_reason;
    switch (reason) {
    case close_reason::timeout:
        return {stanza_condition::remote_server_timeout, true, detail};
    case close_reason::transport_closed:
    case close_reason::peer_closed:
    case close_reason::stream_error_received:
    case close_reason::component_conflict:
        // The partner's server went away mid-negotiation: it may be restarting.
        return {stanza_condition::remote_server_timeout, true, detail};
    case close_reason::dialback_invalid:
        // XEP-0220 §2.1.1: an invalid key bounces with internal-server-error.
        return {stanza_condition::internal_server_error, false, detail};
    case close_reason::dialback_error:
        // XEP-0220 §2.4: dialback errors bounce with remote-server-timeout.
        return {stanza_condition::remote_server_timeout, false, detail};
    case close_reason::blocked:
        return {stanza_condition::not_allowed, false, detail};
    case close_reason::unlisted_domains_full:
        return {stanza_condition::resource_constraint, false, detail};
    case close_reason::tls_not_offered:
    case close_reason::tls_refused:
    case close_reason::certificate_invalid:
    case close_reason::sasl_failed:
    case close_reason::no_common_method:
    case close_reason::policy:
    case close_reason::unknown_partner:
    case close_reason::host_unknown:
    case close_reason::not_authenticated:
    case close_reason::too_many_failures:
    case close_reason::bad_input:
    case close_reason::done:
        break;
    }
    // Policy and protocol failures repeat on every attempt: bounce at once, and
    // say why, so the sender's administrator can act.
    return {stanza_condition::remote_server_not_found, false, detail};
}

}  // namespace fedgate::routing
