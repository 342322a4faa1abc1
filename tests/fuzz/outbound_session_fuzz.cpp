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
#include "session_script.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace fedgate::negotiation;

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
                              fedgate::policy::partner_type::federated,
                              {.stream_management = (setup & 0x20) != 0, .bidi = (setup & 0x08) != 0}};
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
            fedgate::fuzz::check_order(a, closed);
            if (std::holds_alternative<begin_tls>(a))
                tls_asked = true;
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
    fedgate::fuzz::script script{data, size, 1};
    while (!h.closed && !h.driver->finished()) {
        auto const next = script.next_op();
        if (!next)
            break;
        auto const op = *next;
        switch (op % 6) {
        case 0:
            h.take(h.driver->receive(script.peer_bytes()));
            break;
        case 1:  // the TLS handshake completes
            h.handshake(std::make_shared<fedgate::fuzz::scripted_certificate>(
                (op & 0x80) != 0, std::vector<std::string>{"fabrikam.test"}));
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
