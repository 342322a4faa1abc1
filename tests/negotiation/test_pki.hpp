#pragma once
// A throw-away PKI made in-process with OpenSSL, so certificate tests state exactly
// which names, usages and validity each certificate has.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

namespace fedgate::test {

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct x509_deleter {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct store_deleter {
    void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using store_ptr = std::unique_ptr<X509_STORE, store_deleter>;

struct certificate_spec {
    std::string common_name;
    std::string subject_alt_names;  ///< OpenSSL config syntax: "DNS:a,otherName:1.3.6.1.5.5.7.8.5;UTF8:b"
    std::string extended_key_usage = "serverAuth";
    long valid_from = -3600;       ///< seconds relative to now
    long valid_until = 30 * 86400;  ///< seconds relative to now
    /// XmppAddr names added through the API: OpenSSL's config syntax would read
    /// non-ASCII text as Latin-1 and double-encode it.
    std::vector<std::string> xmpp_addrs_utf8 = {};
};

/// A certificate authority with its key.
struct authority {
    pkey_ptr key;
    x509_ptr cert;

    /// A self-signed CA named `name`.
    static authority create(std::string const& name);
    /// A leaf certificate for `key`, signed by this authority.
    x509_ptr issue(certificate_spec const& spec, EVP_PKEY* subject_key) const;
    /// A store trusting only this authority.
    store_ptr trust_store() const;
};

/// A fresh EC P-256 key.
pkey_ptr make_key();

}  // namespace fedgate::test
