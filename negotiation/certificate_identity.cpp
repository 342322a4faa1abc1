#include "negotiation/certificate_identity.hpp"

#include "protocol/domain_name.hpp"

#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

namespace fedgate::negotiation {
namespace {

constexpr std::string_view srv_prefix = "_xmpp-server.";

std::string lowercase_ascii(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return s;
}

/// The bytes of an ASN.1 string, or nullopt if it hides a NUL (a name like
/// "good.example\0.evil.example" would otherwise compare as something it is not).
std::optional<std::string> asn1_text(ASN1_STRING const* s)
{
    if (!s)
        return std::nullopt;
    std::string text{reinterpret_cast<char const*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s))};
    if (text.find('\0') != std::string::npos)
        return std::nullopt;
    return text;
}

void read_other_name(OTHERNAME const* other, certificate_names& names)
{
    int const nid = OBJ_obj2nid(other->type_id);
    ASN1_TYPE const* value = other->value;
    if (nid == NID_XmppAddr && value->type == V_ASN1_UTF8STRING) {
        if (auto text = asn1_text(value->value.utf8string))
            names.xmpp_addrs.push_back(std::move(*text));
    } else if (nid == NID_SRVName && value->type == V_ASN1_IA5STRING) {
        if (auto text = asn1_text(value->value.ia5string))
            names.srv_ids.push_back(lowercase_ascii(std::move(*text)));
    }
}

/// RFC 9525 §6.3: "*" must be the complete left-most label, and stands for exactly
/// one label; "*.example.com" does not match "example.com" or "a.b.example.com".
bool wildcard_matches(std::string_view presented, std::string_view reference)
{
    if (!presented.starts_with("*."))
        return false;
    auto const parent = presented.substr(2);
    // A wildcard over a public suffix alone ("*.com") is never acceptable.
    if (parent.find('.') == std::string_view::npos)
        return false;
    auto const dot = reference.find('.');
    if (dot == std::string_view::npos || dot == 0)
        return false;
    return reference.substr(dot + 1) == parent;
}

}  // namespace

certificate_names extract_names(X509* cert)
{
    certificate_names names;
    auto* raw = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)> sans{raw, &GENERAL_NAMES_free};
    if (!sans)
        return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        GENERAL_NAME const* name = sk_GENERAL_NAME_value(sans.get(), i);
        if (name->type == GEN_DNS) {
            if (auto text = asn1_text(name->d.dNSName))
                names.dns_ids.push_back(lowercase_ascii(std::move(*text)));
        } else if (name->type == GEN_OTHERNAME) {
            read_other_name(name->d.otherName, names);
        }
    }
    return names;
}

std::optional<identity_kind> match_domain(certificate_names const& names, std::string_view domain)
{
    std::string const ascii = lowercase_ascii(protocol::to_ascii_domain(domain));
    std::string const srv = std::string{srv_prefix} + ascii;
    if (std::find(names.srv_ids.begin(), names.srv_ids.end(), srv) != names.srv_ids.end())
        return identity_kind::srv_id;
    for (auto const& jid : names.xmpp_addrs) {
        // A JID with a localpart or resource names a user or session, not a server.
        if (jid.find_first_of("@/") != std::string::npos)
            continue;
        if (auto checked = protocol::check_domain_name(jid); checked && checked.canonical == domain)
            return identity_kind::xmpp_addr;
    }
    for (auto const& dns : names.dns_ids)
        if (dns == ascii)
            return identity_kind::dns_id;
    for (auto const& dns : names.dns_ids)
        if (wildcard_matches(dns, ascii))
            return identity_kind::dns_id_wildcard;
    return std::nullopt;
}

std::optional<std::string> untrusted_chain(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust,
                                           std::optional<time_t> at)
{
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx{X509_STORE_CTX_new(), &X509_STORE_CTX_free};
    if (!ctx || X509_STORE_CTX_init(ctx.get(), trust, leaf, chain) != 1)
        return "cannot set up certificate verification";
    // Server purpose in both directions (see the header).
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
    if (at)
        X509_STORE_CTX_set_time(ctx.get(), 0, *at);
    if (X509_verify_cert(ctx.get()) != 1) {
        int const error = X509_STORE_CTX_get_error(ctx.get());
        return std::string{"certificate chain not trusted: "} + X509_verify_cert_error_string(error);
    }
    return std::nullopt;
}

certificate_verdict match_trusted_certificate(X509* leaf, std::string_view domain)
{
    using status = certificate_verdict::status;
    auto names = extract_names(leaf);
    if (auto kind = match_domain(names, domain))
        return {status::valid, kind, {}};
    std::string presented;
    for (auto const* list : {&names.srv_ids, &names.xmpp_addrs, &names.dns_ids})
        for (auto const& n : *list)
            presented += (presented.empty() ? "" : ", ") + n;
    return {status::name_mismatch, std::nullopt,
            "certificate is not valid for " + std::string{domain} + " (it names " +
                (presented.empty() ? std::string{"no XMPP or DNS identity; a subject CN alone does not count"}
                                   : presented) +
                ")"};
}

certificate_verdict check_peer_certificate(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust,
                                           std::string_view domain, std::optional<time_t> at)
{
    using status = certificate_verdict::status;
    if (!leaf)
        return {status::no_certificate, std::nullopt, "the peer presented no certificate"};
    if (auto why = untrusted_chain(leaf, chain, trust, at))
        return {status::untrusted, std::nullopt, std::move(*why)};
    return match_trusted_certificate(leaf, domain);
}

std::string_view display_name(identity_kind k) noexcept
{
    switch (k) {
    case identity_kind::srv_id:
        return "SRV-ID";
    case identity_kind::xmpp_addr:
        return "XmppAddr";
    case identity_kind::dns_id:
        return "DNS-ID";
    case identity_kind::dns_id_wildcard:
        return "DNS-ID (wildcard)";
    }
    return "?";
}

}  // namespace fedgate::negotiation
