#include "routing/partner_advice.hpp"

#include "dns/error.hpp"

#include <ctime>

namespace fedgate::routing {

namespace ng = fedgate::negotiation;
namespace pf = operations::partner_failure;
using operations::federation_stage;

namespace {

std::string str(std::string_view s)
{
    return std::string{s};
}

std::string date_of(operations::wall_time t)
{
    auto const seconds = std::chrono::system_clock::to_time_t(t);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32] = {};
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts);
    return text;
}

std::string with_detail(std::string const& detail)
{
    return detail.empty() ? std::string{} : " (" + detail + ")";
}

}  // namespace

std::string dns_advice(std::string_view domain, std::error_code error)
{
    auto const d = str(domain);
    auto const code = dns::code_of(error);
    if (code == "nxdomain")
        return d + " does not exist in DNS: check the partner's domain name";
    if (code == "no_data")
        return d + " has no _xmpp-server or _xmpps-server SRV record and no A or AAAA record: the partner must publish them";
    if (code == "timeout")
        return "no DNS server answered for " + d + " in time: check [dns] servers and the network to them";
    if (code == "server_failure")
        return "the DNS servers failed to answer for " + d +
               " (SERVFAIL): often a DNSSEC or delegation fault on the partner's side";
    if (code == "refused")
        return "the DNS server refused to answer for " + d + ": check [dns] servers";
    if (code == "service_unavailable")
        return d + " declares in DNS that it offers no XMPP federation (SRV target '.')";
    return "resolving " + d + " failed (" + error.message() + ")";
}

std::string connect_advice(std::string_view domain, std::string_view reason, std::string const& error)
{
    if (reason == pf::connection_refused)
        return "nothing accepts connections from us at " + error + ": " + str(domain) +
               "'s server is down, or a firewall rejects us";
    if (reason == pf::connection_timeout)
        return "no answer at " + error + ": a firewall drops the traffic to " + str(domain) + ", or the host is down";
    return "no connection to " + str(domain) + " could be made: " + error;
}

std::string_view certificate_verdict_of(ng::certificate_verdict::status result, ng::certificate_facts const* facts,
                                        operations::wall_time now)
{
    using status = ng::certificate_verdict::status;
    switch (result) {
    case status::valid:
        return "valid";
    case status::name_mismatch:
        return pf::name_mismatch;
    case status::untrusted:
        if (facts != nullptr && facts->not_after < now)
            return pf::expired;
        if (facts != nullptr && facts->not_before > now)
            return pf::not_yet_valid;
        return pf::untrusted;
    case status::no_certificate:
        break;
    }
    return pf::no_certificate;
}

std::string certificate_advice(std::string_view domain, std::string_view verdict, std::string const& detail,
                               ng::certificate_facts const* facts)
{
    auto const d = str(domain);
    if (verdict == pf::expired)
        return d + "'s certificate expired" + (facts ? " on " + date_of(facts->not_after) : std::string{}) +
               with_detail(detail) + ": the partner must renew it";
    if (verdict == pf::not_yet_valid)
        return d + "'s certificate is not valid before " +
               (facts ? date_of(facts->not_before) : std::string{"a later date"}) + with_detail(detail) +
               ": it was issued for a later date, or one of the two clocks is wrong (check NTP on both sides)";
    if (verdict == pf::untrusted)
        return d + "'s certificate is not trusted" + with_detail(detail) +
               ": it must chain to a CA of [tls] ca_file or ca_path (or the system store) and be within its validity";
    if (verdict == pf::name_mismatch)
        return d + "'s certificate does not name it" + with_detail(detail) + ": the partner must present one with a DNS-ID, SRV-ID or XmppAddr for " + d;
    if (verdict == pf::no_certificate)
        return d + " presented no certificate: SASL EXTERNAL needs one (TLS dialback does not)";
    return {};
}

close_cause close_cause_of(std::string_view domain, operations::partner_direction dir, ng::close_stream const& why,
                           bool tls_failed)
{
    auto const d = str(domain);
    auto const& detail = why.detail;
    bool const outbound = dir == operations::partner_direction::outbound;
    if (tls_failed)
        return {federation_stage::tls, str(pf::handshake_failed),
                "the TLS handshake with " + d + " failed" + with_detail(detail) +
                    ": both sides need a common TLS version ([tls] min_version) and cipher, and a certificate and key that load"};
    switch (why.reason) {
    case ng::close_reason::tls_not_offered:
        return {federation_stage::tls, str(pf::tls_not_offered),
                d + " offered no STARTTLS, and its policy here says tls = required: the partner must enable TLS, or set tls = optional"};
    case ng::close_reason::tls_refused:
        return {federation_stage::tls, str(pf::tls_refused),
                d + " requires TLS, and its policy here says tls = not_supported: set tls = optional or required"};
    case ng::close_reason::certificate_invalid:
        return {federation_stage::certificate, str(pf::certificate_invalid),
                d + "'s certificate is not valid for it" + with_detail(detail)};
    case ng::close_reason::sasl_failed:
        return {federation_stage::authentication, str(pf::sasl_failed),
                outbound ? d + " refused our certificate for SASL EXTERNAL" + with_detail(detail) +
                               ": it must trust our CA, and our certificate must name the local domain"
                         : "SASL EXTERNAL of " + d + " failed" + with_detail(detail)};
    case ng::close_reason::dialback_invalid:
        return {federation_stage::authentication, str(pf::dialback_invalid),
                "the authoritative server said the dialback key is invalid" + with_detail(detail) +
                    ": the dialback secret of one side, or its DNS, is wrong"};
    case ng::close_reason::dialback_error:
        return {federation_stage::authentication, str(pf::dialback_error),
                "dialback with " + d + " could not complete" + with_detail(detail) +
                    ": the authoritative server must be reachable from the receiving side"};
    case ng::close_reason::no_common_method:
        return {federation_stage::authentication, str(pf::no_common_method),
                "no method the policy of " + d + " allows is possible" + with_detail(detail) +
                    ": compare its tls, sasl and dialback settings with what the partner offers (fedgate check-config lists the methods)"};
    case ng::close_reason::policy:
    case ng::close_reason::not_authenticated:
    case ng::close_reason::too_many_failures:
        return {federation_stage::authentication, str(ng::metric_name(why.reason)),
                d + " did what its policy here does not allow" + with_detail(detail)};
    case ng::close_reason::timeout:
        return {federation_stage::stream, str(pf::timeout),
                d + " did not complete the negotiation in time ([limits] negotiation_timeout_seconds)" + with_detail(detail)};
    case ng::close_reason::peer_closed:
    case ng::close_reason::stream_error_received:
        return {federation_stage::stream, str(ng::metric_name(why.reason)),
                d + " ended the stream before it was authenticated" + with_detail(detail) + ": its own log says why"};
    case ng::close_reason::transport_closed:
        return {federation_stage::stream, str(pf::transport_closed),
                "the connection with " + d + " dropped during the negotiation" + with_detail(detail)};
    case ng::close_reason::bad_input:
    case ng::close_reason::host_unknown:
    case ng::close_reason::unknown_partner:
        return {federation_stage::stream, str(ng::metric_name(why.reason)), d + " was refused" + with_detail(detail)};
    case ng::close_reason::blocked:
        return {federation_stage::stream, str(ng::metric_name(why.reason)),
                d + " is on the blocklist" + with_detail(detail) + ": remove it from the [blocklist] file to federate"};
    case ng::close_reason::component_conflict:
    case ng::close_reason::done:
    case ng::close_reason::unlisted_domains_full:  // an unlisted domain's: no partner state
        break;
    }
    return {federation_stage::stream, str(pf::other), "the stream with " + d + " ended" + with_detail(detail)};
}

std::string describe(ng::certificate_facts const& c)
{
    auto const short_fingerprint = c.fingerprint.substr(0, 16);
    return (c.subject.empty() ? std::string{"(no subject)"} : c.subject) + " (issuer " + c.issuer + ", serial " +
           c.serial + ", SHA-256 " + short_fingerprint + "..., valid until " + date_of(c.not_after) + ")";
}

std::string expiry_text(ng::certificate_facts const& c, operations::wall_time now)
{
    auto const days = std::chrono::duration_cast<std::chrono::days>(c.not_after - now).count();
    if (c.not_after <= now)
        return describe(c) + " expired on " + date_of(c.not_after) + ", " + std::to_string(-days) + " days ago";
    return describe(c) + " expires on " + date_of(c.not_after) + ", in " + std::to_string(days) + " days";
}

}  // namespace fedgate::routing
