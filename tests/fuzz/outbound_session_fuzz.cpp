// libFuzzer target: an outbound S2S session behind its stream_driver, as a
// connection and its link drive it. The first byte chooses the partner's policy,
// the purpose (route or dialback verification only), direct TLS and stream
// management; then a script of records: one byte says what happens, the next how
// many bytes of peer data follow (for "bytes"). A handshake completes only when
// the session asked for one. Crashes, sanitizer reports, leaks and actions after
// the close are the findings.
#include "negotiation/dialback_key.hpp"
#include "negotiation/outbound_session.hpp"
#include "negotiation/sasl_external.hpp"
#include "negotiation/stream_driver.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace fedgate::negotiation;

/// A peer certificate whose verdict the script chose.
class scripted_certificate final : public peer_certificate {
public:
    explicit scripted_certificate(bool valid) : valid_{valid} {}
    certificate_verdict check(std::string_view domain) const override
    {
        if (!valid_)
            return {certificate_verdict::status::untrusted, std::nullopt, "untrusted (fuzz)"};
        if (domain != "fabrikam.test")
            return {certificate_verdict::status::name_mismatch, std::nullopt, "another name (fuzz)"};
        return {certificate_verdict::status::valid, identity_kind::dns_id, {}};
    }

private:
    bool valid_;
};

struct harness {
    dialback_secret secret = dialback_secret::from_text("fuzz secret");
    std::unique_ptr<sasl_client> sasl = make_cyrus_sasl_client();
    std::unique_ptr<outbound_session> session;
    std::unique_ptr<stream_driver> driver;
    bool tls_asked = false;  ///< a handshake may complete now
    bool closed = false;

    explicit harness(std::uint8_t setup)
    {
        auto const pick = [](unsigned v) {
            return v == 0 ? requirement::required : v == 1 ? requirement::optional : requirement::not_supported;
        };
        negotiation_settings const settings{pick(setup % 3), pick(setup / 3 % 3), (setup & 0x10) != 0};
        partner_rules partner{"fabrikam.test", settings, evaluate(settings).applied(),
                              fedgate::policy::partner_type::federated, (setup & 0x20) != 0};
        session = std::make_unique<outbound_session>(outbound_context{
            .pair = {"contoso.test", "fabrikam.test"},
            .partner = partner,
            .secret = &secret,
            .sasl = sasl.get(),
            .direct_tls = (setup & 0x40) != 0,
            .purpose = (setup & 0x80) != 0 ? outbound_purpose::verify_only : outbound_purpose::route,
        });
        driver = std::make_unique<stream_driver>(*session);
        take(driver->start());
    }

    void take(std::vector<action> actions)
    {
        for (auto& a : actions) {
            if (closed)
                std::abort();  // nothing may follow a close_stream
            if (std::holds_alternative<begin_tls>(a))
                tls_asked = true;
            if (std::holds_alternative<close_stream>(a))
                closed = true;
        }
    }

    void handshake(std::shared_ptr<peer_certificate const> certificate)
    {
        if (!std::exchange(tls_asked, false))
            return;
        take(driver->handle(tls_established{std::move(certificate)}));
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size < 1)
        return 0;
    harness h{data[0]};
    std::size_t at = 1;
    while (at < size && !h.closed && !h.driver->finished()) {
        auto const op = data[at++];
        switch (op % 6) {
        case 0: {  // peer bytes
            std::size_t const length = at < size ? data[at++] : 0;
            auto const n = std::min(length, size - at);
            h.take(h.driver->receive({reinterpret_cast<char const*>(data + at), n}));
            at += n;
            break;
        }
        case 1:  // the TLS handshake completes
            h.handshake(std::make_shared<scripted_certificate>((op & 0x80) != 0));
            break;
        case 2:  // the router asks for a db:verify, for this pair or another
            h.take(h.driver->handle(verify_request{
                (op & 0x80) != 0 ? domain_pair{"contoso.test", "fabrikam.test"} : domain_pair{"contoso.test", "x.test"},
                "their-id-" + std::to_string(op >> 3 & 3), "key"}));
            break;
        case 3:
            h.take(h.driver->handle(deadline_passed{}));
            break;
        case 4:  // a dialback answer routed here by mistake
            h.take(h.driver->handle(dialback_answer{{"contoso.test", "fabrikam.test"}, "id", dialback_outcome::valid}));
            break;
        default:
            h.take(h.driver->handle(transport_closed{"fuzz"}));
            break;
        }
    }
    return 0;
}
