#include "scripted_peers.hpp"

#include <gtest/gtest.h>

namespace fedgate::probe::testing {

features_seen starttls_features()
{
    return {.starttls = true, .starttls_required = false, .mechanisms = {}, .dialback = true,
            .stream_management = false, .bidi = false};
}

features_seen external_features()
{
    return {.starttls = false, .starttls_required = false, .mechanisms = {"EXTERNAL"}, .dialback = true,
            .stream_management = true, .bidi = false};
}

observation healthy_peer()
{
    observation o;
    o.local = "a.test";
    o.remote = "b.test";
    o.partner = partner_seen{"b.test", policy::partner_type::federated,
                             {policy::requirement::required, policy::requirement::optional, true}};
    o.direct_tls_srv = {"_xmpps-server._tcp.b.test", {}, "nxdomain"};
    o.starttls_srv = {"_xmpp-server._tcp.b.test", {{"xmpp.b.test", 5269, 0, 5}}, ""};
    o.addresses = {{.host = "xmpp.b.test", .port = 5269, .ip = "192.0.2.7", .ipv6 = false, .direct_tls = false,
                    .connected = true, .timed_out = false, .error = {}}};
    negotiation_seen n;
    n.address = "192.0.2.7 port 5269";
    n.header_received = true;
    n.stream_id = "s1";
    n.before_tls = starttls_features();
    n.after_tls = external_features();
    n.tls_attempted = true;
    n.tls_established = true;
    n.tls_summary = "TLSv1.3 TLS_AES_256_GCM_SHA384";
    n.certificate = certificate_seen{.subject = "CN=b.test",
                                     .issuer = "CN=Test CA",
                                     .dns_ids = {"b.test"},
                                     .srv_ids = {},
                                     .xmpp_addrs = {},
                                     .not_before = "2026-01-01T00:00:00Z",
                                     .not_after = "2027-01-01T00:00:00Z",
                                     .expired = false,
                                     .not_yet_valid = false,
                                     .extended_key_usage = {"serverAuth", "clientAuth"},
                                     .untrusted = std::nullopt,
                                     .matched = "DNS-ID"};
    n.sasl = "success";
    n.method = policy::auth_method::sasl_over_tls;
    o.negotiation = n;
    return o;
}

std::vector<step const*> steps_of(report const& r, stage s)
{
    std::vector<step const*> out;
    for (auto const& st : r.steps)
        if (st.stage == s)
            out.push_back(&st);
    return out;
}

step const& step_of(report const& r, stage s)
{
    static step const none{};
    auto found = steps_of(r, s);
    if (found.empty()) {
        ADD_FAILURE() << "no " << name_of(s) << " step";
        return none;
    }
    return *found.front();
}

}  // namespace fedgate::probe::testing
