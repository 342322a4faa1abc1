#include "negotiation/x509_certificate_details.hpp"

#include "negotiation/certificate_identity.hpp"
#include "negotiation/x509_certificate_facts.hpp"

#include <array>
#include <ctime>

namespace fedgate::negotiation {

namespace {

std::string utc_text(std::chrono::system_clock::time_point t)
{
    auto const seconds = std::chrono::system_clock::to_time_t(t);
    std::tm parts{};
    ::gmtime_r(&seconds, &parts);
    std::array<char, 32> buf{};
    auto const n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &parts);
    return std::string{buf.data(), n};
}

}  // namespace

certificate_details describe_certificate(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust, std::string_view domain)
{
    // What the certificate says is read once, as for the partners' inventory;
    // the judgements (trusted? names the domain?) are the probe's own.
    auto facts = extract_certificate_facts(leaf);
    certificate_details d;
    d.subject = std::move(facts.subject);
    d.issuer = std::move(facts.issuer);
    d.not_before = utc_text(facts.not_before);
    d.not_after = utc_text(facts.not_after);
    auto const now = std::chrono::system_clock::now();
    d.expired = facts.not_after < now;
    d.not_yet_valid = facts.not_before > now;
    d.extended_key_usage = std::move(facts.extended_key_usage);
    d.untrusted = untrusted_chain(leaf, chain, trust);
    auto names = extract_names(leaf);
    // The name is judged whatever the chain says, so that a probe can tell both.
    if (auto kind = match_domain(names, domain))
        d.matched = std::string{display_name(*kind)};
    d.dns_ids = std::move(names.dns_ids);
    d.srv_ids = std::move(names.srv_ids);
    d.xmpp_addrs = std::move(names.xmpp_addrs);
    return d;
}

}  // namespace fedgate::negotiation
