// libFuzzer target: an inbound S2S session behind its stream_driver, as a
// connection drives it, with the events a connection would add. The input is a
// script of records: one byte says what happens, the next how many bytes of
// peer data follow (for "bytes"). Every action is performed as far as the
// negotiation goes: a begin_tls is answered with a handshake when the script
// says so, an ask_dialback with an answer; only what a connection would do
// (no handshake that nobody asked for). Crashes, sanitizer reports, leaks and
// actions after the close are the findings.
#include "negotiation/directory.hpp"
#include "negotiation/inbound_session.hpp"
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
    directory domains;
    dialback_secret secret = dialback_secret::from_text("fuzz secret");
    std::unique_ptr<sasl_server> sasl = make_cyrus_sasl_server();
    unsigned ids = 0;
    std::unique_ptr<inbound_session> session;
    std::unique_ptr<stream_driver> driver;
    std::vector<ask_dialback> asked;
    bool direct_tls;
    bool tls_asked;  ///< a handshake may complete now
    bool started = false;
    bool closed = false;

    explicit harness(std::uint8_t policy_byte) : direct_tls{(policy_byte & 0x40) != 0}, tls_asked{direct_tls}
    {
        auto const pick = [](unsigned v) {
            return v == 0 ? requirement::required : v == 1 ? requirement::optional : requirement::not_supported;
        };
        negotiation_settings const settings{pick(policy_byte % 3), pick(policy_byte / 3 % 3), (policy_byte & 0x80) != 0};
        domains.add_local_domain("contoso.test");
        domains.add_partner("fabrikam.test", {"chat.fabrikam.test"}, settings);
        session = std::make_unique<inbound_session>(inbound_context{
            .domains = &domains,
            .secret = &secret,
            .sasl = sasl.get(),
            .make_stream_id = [this] { return "id-" + std::to_string(++ids); },
            .direct_tls = direct_tls,
        });
        driver = std::make_unique<stream_driver>(*session);
        if (!direct_tls)
            start();  // on a direct-TLS listener, after the handshake
    }

    /// The handshake that a begin_tls (or the direct-TLS listener) asked for.
    void handshake(std::shared_ptr<peer_certificate const> certificate)
    {
        if (!tls_asked)
            return;
        tls_asked = false;
        if (!started)
            start();
        take(driver->handle(tls_established{std::move(certificate)}));
    }

    void start()
    {
        started = true;
        take(driver->start());
    }

    void take(std::vector<action> actions)
    {
        for (auto& a : actions) {
            fedgate::fuzz::check_order(a, closed);
            if (auto* ask = std::get_if<ask_dialback>(&a))
                asked.push_back(*ask);
            if (std::holds_alternative<begin_tls>(a))
                tls_asked = true;
        }
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
                (op & 0x80) != 0, std::vector<std::string>{"fabrikam.test", "chat.fabrikam.test"}));
            break;
        case 2:  // ... without a peer certificate
            h.handshake(nullptr);
            break;
        case 3:  // the authoritative server answers the oldest question
            if (!h.asked.empty()) {
                auto ask = h.asked.front();
                h.asked.erase(h.asked.begin());
                h.take(h.driver->handle(dialback_answer{
                    ask.pair, ask.stream_id, static_cast<dialback_outcome>((op >> 3) % 5)}));
            }
            break;
        case 4:
            h.take(h.driver->handle(deadline_passed{}));
            break;
        default:
            h.take(h.driver->handle(transport_closed{"fuzz"}));
            break;
        }
    }
    return 0;
}
