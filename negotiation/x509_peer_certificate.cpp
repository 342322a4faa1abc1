#include "negotiation/x509_peer_certificate.hpp"

#include "negotiation/certificate_identity.hpp"

#include <chrono>
#include <optional>
#include <string>

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
        if (auto const& why = chain_verdict())
            return {certificate_verdict::status::untrusted, std::nullopt, *why};
        return match_trusted_certificate(leaf_, domain);
    }

private:
    /// A negotiation asks several times (to offer EXTERNAL, when it is used, for
    /// each further domain): the chain is verified once, the costliest part
    /// of the judgement, and again once the verdict is a minute old, so that
    /// an expiry counts on a long-lived stream (the trust store is the one the
    /// stream started with either way).
    std::optional<std::string> const& chain_verdict() const
    {
        auto const now = std::chrono::steady_clock::now();
        if (!verified_at_ || now - *verified_at_ > std::chrono::minutes{1}) {
            untrusted_because_ = untrusted_chain(leaf_, chain_, trust_);
            verified_at_ = now;
        }
        return untrusted_because_;
    }

    X509* leaf_;
    STACK_OF(X509) * chain_;
    X509_STORE* trust_;
    // The cache of a const judgement; a session and its certificate live on one thread.
    mutable std::optional<std::chrono::steady_clock::time_point> verified_at_;
    mutable std::optional<std::string> untrusted_because_;
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
