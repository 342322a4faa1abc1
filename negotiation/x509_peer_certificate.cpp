#include "negotiation/x509_peer_certificate.hpp"

namespace fedgate::negotiation {

namespace {

class x509_peer_certificate final : public peer_certificate {
public:
    x509_peer_certificate(X509* leaf, STACK_OF(X509) * chain, X509_STORE* trust)
        : leaf_{leaf}, chain_{chain ? X509_chain_up_ref(chain) : nullptr}, trust_{trust}
    {
        X509_up_ref(leaf_);
        X509_STORE_up_ref(trust_);
    }
    ~x509_peer_certificate() override
    {
        X509_free(leaf_);
        if (chain_)
            sk_X509_pop_free(chain_, X509_free);
        X509_STORE_free(trust_);
    }
    x509_peer_certificate(x509_peer_certificate const&) = delete;
    x509_peer_certificate& operator=(x509_peer_certificate const&) = delete;

    certificate_verdict check(std::string_view domain) const override
    {
        return check_peer_certificate(leaf_, chain_, trust_, domain);
    }

private:
    X509* leaf_;
    STACK_OF(X509) * chain_;
    X509_STORE* trust_;
};

}  // namespace

std::shared_ptr<peer_certificate const> make_x509_peer_certificate(X509* leaf, STACK_OF(X509) * chain,
                                                                   X509_STORE* trust)
{
    if (leaf == nullptr)
        return nullptr;
    return std::make_shared<x509_peer_certificate>(leaf, chain, trust);
}

}  // namespace fedgate::negotiation
