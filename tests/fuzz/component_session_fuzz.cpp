// libFuzzer target: fedgate's side of one XEP-0114 component link behind its
// stream_driver, fed what an internal server (or something pretending to be one)
// might send: a script of records, one byte saying what happens and, for peer
// bytes, the next how many follow. Crashes, sanitizer reports, leaks and actions
// after the close are the findings.
#include "negotiation/component_session.hpp"
#include "negotiation/directory.hpp"
#include "negotiation/stream_driver.hpp"
#include "session_script.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {

using namespace fedgate::negotiation;

struct harness {
    directory domains;
    std::unique_ptr<component_session> session;
    std::unique_ptr<stream_driver> driver;
    bool closed = false;

    harness()
    {
        domains.add_local_domain("contoso.test");
        domains.add_partner("fabrikam.test", {"chat.fabrikam.test"}, {});
        session = std::make_unique<component_session>(
            component_context{.domain = "fabrikam.test", .secret = "fuzz secret", .domains = &domains});
        driver = std::make_unique<stream_driver>(*session);
        take(driver->start());
    }

    void take(std::vector<action> actions)
    {
        for (auto& a : actions)
            fedgate::fuzz::check_order(a, closed);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    harness h;
    fedgate::fuzz::script script{data, size, 0};
    while (!h.closed && !h.driver->finished()) {
        auto const op = script.next_op();
        if (!op)
            break;
        switch (*op % 4) {
        case 0:
        case 1:  // peer bytes
            h.take(h.driver->receive(script.peer_bytes()));
            break;
        case 2:
            h.take(h.driver->handle(deadline_passed{}));
            break;
        default:
            h.take(h.driver->handle(transport_closed{"fuzz"}));
            break;
        }
    }
    return 0;
}
