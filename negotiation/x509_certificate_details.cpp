#include "negotiation/x509_certificate_details.hpp"

#include "negotiation/certificate_identity.hpp"

#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <memory>

namespace fedgate::negotiation {

namespace {

std::string text_of(X509_NAME const* name)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), &BIO_free};
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0)
        return {};
    char* data = nullptr;
    auto const size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 ? std::string{data, static_cast<std::size_t>(size)} : std::string{};
}

std::string text_of(ASN1_TIME const* t)
{
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
        return {};
    std::array<char, 32> buf{};
    auto const n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string{buf.data(), n};
}

std::vector<std::string> extended_key_usage_of(X509* cert)
{
    std::vector<std::string> out;
    using eku_list = std::unique_ptr<EXTENDED_KEY_USAGE, decltype(&EXTENDED_KEY_USAGE_free)>;
    eku_list eku{static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)),
                 &EXTENDED_KEY_USAGE_free};
    if (!eku)
        return out;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
        auto const* oid = sk_ASN1_OBJECT_value(eku.get(), i);
        int const nid = OBJ_obj2nid(oid);
        if (nid != NID_undef) {
            out.emplace_back(OBJ_nid2sn(nid));
            continue;
        }
        std::array<char, 80> buf{};
        OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), oid, 1);
        out.emplace_back(buf.data());
    }
    return out;
}

}  // namespace

certificate_details describe_certificate(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust, std::string_view domain)
{
    certificate_details d;
    d.subject = text_of(X509_get_subject_name(leaf));
    d.issuer = text_of(X509_get_issuer_name(leaf));
    auto names = extract_names(leaf);
    d.not_before = text_of(X509_get0_notBefore(leaf));
    d.not_after = text_of(X509_get0_notAfter(leaf));
    d.expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
    d.not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0;
    d.extended_key_usage = extended_key_usage_of(leaf);
    d.untrusted = untrusted_chain(leaf, chain, trust);
    // The name is judged whatever the chain says, so that a probe can tell both.
    if (auto kind = match_domain(names, domain))
        d.matched = std::string{display_name(*kind)};
    d.dns_ids = std::move(names.dns_ids);
    d.srv_ids = std::move(names.srv_ids);
    d.xmpp_addrs = std::move(names.xmpp_addrs);
    return d;
}

}  // namespace fedgate::negotiation
