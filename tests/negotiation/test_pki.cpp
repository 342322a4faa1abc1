#include "test_pki.hpp"

#include <openssl/ec.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace fedgate::test {
namespace {

void require(bool ok, char const* what)
{
    if (!ok)
        throw std::runtime_error{what};
}

void add_extension(X509* cert, X509* issuer, int nid, std::string const& value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    require(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

x509_ptr make_certificate(std::string const& cn, EVP_PKEY* key, long from, long until)
{
    x509_ptr cert{X509_new()};
    X509_set_version(cert.get(), 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), from);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), until);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<unsigned char const*>(cn.c_str()), -1, -1,
                               0);
    return cert;
}

void add_xmpp_addrs(X509* cert, std::vector<std::string> const& addrs)
{
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (!names)
        names = GENERAL_NAMES_new();
    for (auto const& addr : addrs) {
        ASN1_UTF8STRING* text = ASN1_UTF8STRING_new();
        ASN1_STRING_set(text, addr.data(), static_cast<int>(addr.size()));
        ASN1_TYPE* value = ASN1_TYPE_new();
        ASN1_TYPE_set(value, V_ASN1_UTF8STRING, text);
        GENERAL_NAME* name = GENERAL_NAME_new();
        require(GENERAL_NAME_set0_othername(name, OBJ_txt2obj("1.3.6.1.5.5.7.8.5", 1), value) == 1, "othername");
        sk_GENERAL_NAME_push(names, name);
    }
    X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_REPLACE);
    GENERAL_NAMES_free(names);
}

}  // namespace

pkey_ptr make_key()
{
    pkey_ptr key{EVP_EC_gen("P-256")};
    require(key != nullptr, "EVP_EC_gen");
    return key;
}

authority authority::create(std::string const& name)
{
    authority ca{make_key(), nullptr};
    ca.cert = make_certificate(name, ca.key.get(), -86400, 365 * 86400);
    X509_set_issuer_name(ca.cert.get(), X509_get_subject_name(ca.cert.get()));
    add_extension(ca.cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_extension(ca.cert.get(), ca.cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    require(X509_sign(ca.cert.get(), ca.key.get(), EVP_sha256()) > 0, "X509_sign CA");
    return ca;
}

x509_ptr authority::issue(certificate_spec const& spec, EVP_PKEY* subject_key) const
{
    auto leaf = make_certificate(spec.common_name, subject_key, spec.valid_from, spec.valid_until);
    X509_set_issuer_name(leaf.get(), X509_get_subject_name(cert.get()));
    if (!spec.subject_alt_names.empty())
        add_extension(leaf.get(), cert.get(), NID_subject_alt_name, spec.subject_alt_names);
    if (!spec.xmpp_addrs_utf8.empty())
        add_xmpp_addrs(leaf.get(), spec.xmpp_addrs_utf8);
    if (!spec.extended_key_usage.empty())
        add_extension(leaf.get(), cert.get(), NID_ext_key_usage, spec.extended_key_usage);
    add_extension(leaf.get(), cert.get(), NID_key_usage, "critical,digitalSignature");
    require(X509_sign(leaf.get(), key.get(), EVP_sha256()) > 0, "X509_sign leaf");
    return leaf;
}

store_ptr authority::trust_store() const
{
    store_ptr store{X509_STORE_new()};
    X509_STORE_add_cert(store.get(), cert.get());
    return store;
}

}  // namespace fedgate::test
