#include "routing/bounce_route.hpp"

#include "protocol/jid.hpp"

namespace fedgate::routing {

bounce_route route_of_bounce(protocol::element const& reply, std::function<bool(std::string_view)> const& is_local)
{
    auto const to = protocol::jid::parse(reply.to());
    auto const from = protocol::jid::parse(reply.from());
    if (!to || !from)
        return bounce_nowhere{"the reply's " + std::string{!to ? "to" : "from"} + " is not a JID"};
    std::string to_domain{to->domain()};
    std::string from_domain{from->domain()};
    if (is_local(to_domain))
        return bounce_to_internal{{std::move(to_domain), std::move(from_domain)}};
    if (!is_local(from_domain))
        return bounce_nowhere{"neither " + to_domain + " nor " + from_domain + " is a local domain"};
    return bounce_to_remote{{std::move(from_domain), std::move(to_domain)}};
}

}  // namespace fedgate::routing
