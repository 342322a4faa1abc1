#include "negotiation/x509_certificate_facts.hpp"

#include "negotiation/certificate_identity.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <array>
#include <ctime>
#include <memory>

namespace fedgate::negotiation {

namespace {

std::string one_line(X509_NAME const* name)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), BIO_free};
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
        return {};
    char* data = nullptr;
    auto const size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 ? std::string{data, static_cast<std::size_t>(size)} : std::string{};
}

std::string serial_of(X509* cert)
{
    std::unique_ptr<BIGNUM, decltype(&BN_free)> number{ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr),
                                                       BN_free};
    if (!number)
        return {};
    char* hex = BN_bn2hex(number.get());
    std::string out = hex ? hex : "";
    OPENSSL_free(hex);
    return out;
}

std::string fingerprint_of(X509* cert)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (X509_digest(cert, EVP_sha256(), digest.data(), &size) != 1)
        return {};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

std::chrono::system_clock::time_point time_of(ASN1_TIME const* t)
{
    std::tm parts{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &parts) != 1)
        return {};
    return std::chrono::system_clock::from_time_t(timegm(&parts));
}

/// IP addresses and URIs of the subjectAltName: extract_names() keeps only
/// what identity matching reads.
void add_other_alt_names(X509* cert, std::vector<std::string>& out)
{
    auto* raw = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (raw == nullptr)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(raw); ++i) {
        auto const* name = sk_GENERAL_NAME_value(raw, i);
        if (name->type == GEN_URI) {
            auto const* s = name->d.uniformResourceIdentifier;
            out.push_back("URI:" + std::string{reinterpret_cast<char const*>(ASN1_STRING_get0_data(s)),
                                               static_cast<std::size_t>(ASN1_STRING_length(s))});
        } else if (name->type == GEN_IPADD) {
            auto const* s = name->d.iPAddress;
            auto const* bytes = ASN1_STRING_get0_data(s);
            auto const length = ASN1_STRING_length(s);
            std::array<char, INET6_ADDRSTRLEN> text{};
            int const family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
            if (family == 0 || inet_ntop(family, bytes, text.data(), text.size()) == nullptr)
                continue;
            out.push_back("IP:" + std::string{text.data()});
        }
    }
    GENERAL_NAMES_free(raw);
}

std::vector<std::string> extended_key_usage_of(X509* cert)
{
    std::vector<std::string> out;
    auto* usages = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr));
    if (usages == nullptr)
        return out;
    for (int i = 0; i < sk_ASN1_OBJECT_num(usages); ++i) {
        auto const* object = sk_ASN1_OBJECT_value(usages, i);
        if (char const* name = OBJ_nid2sn(OBJ_obj2nid(object)); name != nullptr && OBJ_obj2nid(object) != NID_undef) {
            out.emplace_back(name);
        } else {
            std::array<char, 128> oid{};
            OBJ_obj2txt(oid.data(), static_cast<int>(oid.size()), object, 1);
            out.emplace_back(oid.data());
        }
    }
    sk_ASN1_OBJECT_pop_free(usages, ASN1_OBJECT_free);
    return out;
}

}  // namespace

certificate_facts extract_certificate_facts(X509* cert)
{
    certificate_facts f;
    f.fingerprint = fingerprint_of(cert);
    f.subject = one_line(X509_get_subject_name(cert));
    f.issuer = one_line(X509_get_issuer_name(cert));
    f.serial = serial_of(cert);
    auto const names = extract_names(cert);
    for (auto const& n : names.dns_ids)
        f.subject_alt_names.push_back("DNS:" + n);
    for (auto const& n : names.srv_ids)
        f.subject_alt_names.push_back("SRV:" + n);
    for (auto const& n : names.xmpp_addrs)
        f.subject_alt_names.push_back("XmppAddr:" + n);
    add_other_alt_names(cert, f.subject_alt_names);
    f.extended_key_usage = extended_key_usage_of(cert);
    f.not_before = time_of(X509_get0_notBefore(cert));
    f.not_after = time_of(X509_get0_notAfter(cert));
    return f;
}

}  // namespace fedgate::negotiation
