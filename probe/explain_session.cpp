// explain() (explain.hpp): the tls, certificate and features steps of the one
// negotiation a probe runs.
#include "probe/explain.hpp"

#include <algorithm>

namespace fedgate::probe {

namespace {

using policy::requirement;

boost::json::value list_of(std::vector<std::string> const& items)
{
    boost::json::array a;
    for (auto const& i : items)
        a.emplace_back(i);
    return a;
}

std::string joined(std::vector<std::string> const& items)
{
    std::string out;
    for (auto const& i : items)
        out += (out.empty() ? "" : ", ") + i;
    return out.empty() ? "none" : out;
}

requirement tls_policy(observation const& seen)
{
    return seen.partner ? seen.partner->settings.tls : requirement::optional;
}

std::string partner_word(observation const& seen)
{
    return seen.partner ? "partner " + seen.partner->domain : "a partner";
}

step tls_step(observation const& seen, negotiation_seen const& n)
{
    step s{.stage = stage::tls, .result = outcome::ok, .reason = "tls-established", .summary = {}, .facts = {}, .advice = {}};
    auto const& d = seen.remote;
    s.facts.emplace_back("method", boost::json::value(n.direct_tls ? "direct TLS (XEP-0368)" : "STARTTLS"));
    if (n.tls_established) {
        s.facts.emplace_back("protocol", boost::json::value(n.tls_summary));
        s.summary = "TLS up: " + n.tls_summary;
        return s;
    }
    if (n.tls_attempted) {
        s.result = outcome::failed;
        s.reason = n.direct_tls ? "direct-tls-handshake-failed" : "tls-handshake-failed";
        s.facts.emplace_back("error", boost::json::value(n.close_detail));
        s.summary = "the TLS handshake failed: " + n.close_detail;
        s.advice = n.direct_tls ? "The _xmpps-server record of " + d + " names a port that does not start TLS at once "
                                      "(a STARTTLS port?), or the server there refuses TLS 1.2 and later; " + d +
                                      " must fix the record or the server."
                                : d + "'s server and fedgate share no TLS version or cipher (fedgate needs TLS 1.2 at "
                                      "least), or the server broke the handshake; its logs say which.";
        return s;
    }
    if (!n.header_received) {
        s.result = outcome::failed;
        s.reason = "no-stream";
        s.summary = "the peer did not open an XMPP stream: " + n.close_detail;
        s.advice = "What listens at " + n.address + " is not an XMPP server-to-server port, or it closed at once; "
                   "check that the SRV record names the server's s2s port.";
        return s;
    }
    bool const offered = n.before_tls && n.before_tls->starttls;
    bool const required_by_peer = offered && n.before_tls->starttls_required;
    s.facts.emplace_back("offered", boost::json::value(offered));
    if (!offered) {
        s.reason = "tls-not-offered";
        s.summary = d + " offers no STARTTLS";
        if (tls_policy(seen) == requirement::required) {
            s.result = outcome::failed;
            s.advice = d + " must enable TLS on its server; or, to federate without encryption, set tls = "
                           "\"optional\" for " + partner_word(seen) + " (then only TCP dialback can work, which "
                           "needs dialback = true).";
        } else {
            s.result = outcome::warning;
            s.advice = "The stream stays unencrypted; ask " + d + " to enable TLS.";
        }
        return s;
    }
    s.reason = required_by_peer ? "tls-refused" : "tls-not-used";
    s.result = required_by_peer ? outcome::failed : outcome::warning;
    s.summary = d + (required_by_peer ? " requires TLS" : " offers STARTTLS") + ", which the policy (tls = "
                "\"not_supported\") does not use";
    s.advice = "Set tls = \"optional\" or \"required\" for " + partner_word(seen) + ".";
    return s;
}

std::string names_of(certificate_seen const& c)
{
    std::vector<std::string> all = c.dns_ids;
    all.insert(all.end(), c.srv_ids.begin(), c.srv_ids.end());
    all.insert(all.end(), c.xmpp_addrs.begin(), c.xmpp_addrs.end());
    return joined(all);
}

step certificate_step(observation const& seen, negotiation_seen const& n)
{
    auto const& d = seen.remote;
    step s{.stage = stage::certificate, .result = outcome::ok, .reason = "certificate-valid", .summary = {}, .facts = {},
           .advice = {}};
    if (!n.certificate) {
        s.result = outcome::warning;
        s.reason = "no-certificate";
        s.summary = d + " presented no certificate";
        s.advice = "SASL EXTERNAL needs one; " + d + " must configure a certificate for " + d + ".";
        return s;
    }
    auto const& c = *n.certificate;
    s.facts = {{"subject", boost::json::value(c.subject)},
               {"issuer", boost::json::value(c.issuer)},
               {"dns_ids", list_of(c.dns_ids)},
               {"srv_ids", list_of(c.srv_ids)},
               {"xmpp_addrs", list_of(c.xmpp_addrs)},
               {"not_before", boost::json::value(c.not_before)},
               {"not_after", boost::json::value(c.not_after)},
               {"extended_key_usage", list_of(c.extended_key_usage)},
               {"trusted", boost::json::value(!c.untrusted.has_value())},
               {"names_domain", boost::json::value(c.matched.value_or("no"))}};
    bool const server_auth = c.extended_key_usage.empty() ||
                             std::find(c.extended_key_usage.begin(), c.extended_key_usage.end(), "serverAuth") !=
                                 c.extended_key_usage.end();
    s.result = outcome::failed;
    if (c.expired) {
        s.reason = "certificate-expired";
        s.summary = "the certificate expired on " + c.not_after;
        s.advice = d + " must renew its certificate.";
    } else if (c.not_yet_valid) {
        s.reason = "certificate-not-yet-valid";
        s.summary = "the certificate is valid only from " + c.not_before;
        s.advice = "Check the clocks: ours, or the one " + d + "'s certificate was issued with.";
    } else if (!server_auth) {
        s.reason = "certificate-purpose";
        s.summary = "the certificate's extended key usage (" + joined(c.extended_key_usage) +
                    ") lacks serverAuth, which fedgate checks (XEP-0178 §3)";
        s.advice = d + " must use a certificate with serverAuth in its extended key usage.";
    } else if (c.untrusted) {
        s.reason = "certificate-untrusted";
        s.summary = "the certificate chain is not trusted: " + *c.untrusted;
        s.advice = "If " + d + " uses a private CA that you trust, add it to [tls] ca_file or ca_path; otherwise " + d +
                   " must send its full chain from a public CA.";
    } else if (!c.matched) {
        s.reason = "certificate-name-mismatch";
        s.summary = "the certificate names " + names_of(c) + ", not " + d;
        s.advice = d + " must present a certificate naming " + d + " (a DNS-ID " + d + " or an SRV-ID _xmpp-server." +
                   d + "): RFC 6125 matches the domain, never the SRV target host, and never the subject CN.";
    } else {
        s.result = outcome::ok;
        s.summary = "valid for " + d + " (" + *c.matched + "), trusted, until " + c.not_after;
    }
    return s;
}

void features_step(observation const& seen, negotiation_seen const& n, report& out)
{
    if (!n.before_tls && !n.after_tls)
        return;
    auto const describe_features = [](features_seen const& f) {
        std::vector<std::string> items;
        if (f.starttls)
            items.emplace_back(f.starttls_required ? "starttls (required)" : "starttls");
        for (auto const& m : f.mechanisms)
            items.push_back("sasl " + m);
        if (f.dialback)
            items.emplace_back("dialback");
        if (f.stream_management)
            items.emplace_back("sm");
        if (f.bidi)
            items.emplace_back("bidi");
        return items;
    };
    step s{.stage = stage::features, .result = outcome::ok, .reason = "features", .summary = {}, .facts = {}, .advice = {}};
    if (n.before_tls)
        s.facts.emplace_back("before_tls", list_of(describe_features(*n.before_tls)));
    if (n.after_tls)
        s.facts.emplace_back("after_tls", list_of(describe_features(*n.after_tls)));
    auto const& last = n.after_tls ? *n.after_tls : *n.before_tls;
    s.summary = "offered: " + joined(describe_features(last));
    bool const external =
        std::find(last.mechanisms.begin(), last.mechanisms.end(), "EXTERNAL") != last.mechanisms.end();
    if (n.after_tls && !external) {
        s.result = outcome::note;
        s.reason = "no-external";
        s.summary += "; no SASL EXTERNAL";
        s.advice = seen.remote + " offers EXTERNAL only when it finds our certificate valid for " + seen.local +
                   " (and supports it): check " + seen.local + "'s certificate and that " + seen.remote +
                   " trusts its CA. This side cannot tell which.";
    }
    out.steps.push_back(std::move(s));
}

}  // namespace

void explain_session(observation const& seen, report& out)
{
    if (!seen.negotiation)
        return;
    auto const& n = *seen.negotiation;
    auto tls = tls_step(seen, n);
    bool const tls_up = n.tls_established;
    bool const tls_blocked = tls.result == outcome::failed;
    out.steps.push_back(std::move(tls));
    if (tls_up) {
        auto cert = certificate_step(seen, n);
        // An invalid certificate stops the negotiation only when nothing else
        // was allowed: dialback over TLS does not need it.
        if (cert.result == outcome::failed && n.method)
            cert.result = outcome::warning;
        out.steps.push_back(std::move(cert));
    }
    if (!tls_blocked || n.before_tls)
        features_step(seen, n, out);
}

}  // namespace fedgate::probe
