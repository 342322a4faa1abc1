#include "routing/ack_window.hpp"

#include "protocol/jid.hpp"
#include "protocol/namespaces.hpp"

namespace fedgate::routing {

ack_window::ack_window(std::string component, std::string server, ack_settings settings)
    : component_{std::move(component)}, server_{std::move(server)}, settings_{settings}
{
}

protocol::element ack_window::ping()
{
    outstanding_ = "fedgate-ack-" + std::to_string(++next_id_);
    waited_ = 0;
    ping_mark_ = written_;
    protocol::element iq{"iq", std::string{protocol::ns::component}};
    iq.set_attribute("type", "get");
    iq.set_attribute("id", outstanding_);
    iq.set_attribute("from", component_);
    iq.set_attribute("to", server_);
    if (disco_)
        iq.add_child(protocol::element{"query", "http://jabber.org/protocol/disco#info"});
    else
        iq.add_child(protocol::element{"ping", "urn:xmpp:ping"});
    return iq;
}

std::optional<protocol::element> ack_window::written()
{
    ++written_;
    return due();
}

std::optional<protocol::element> ack_window::due()
{
    if (outstanding_.empty() && written_ - ping_mark_ >= settings_.ping_every)
        return ping();
    return std::nullopt;
}

std::optional<protocol::element> ack_window::now()
{
    return outstanding_.empty() && written_ > ping_mark_ ? std::optional{ping()} : std::nullopt;
}

std::optional<protocol::element> ack_window::tick()
{
    if (outstanding_.empty())
        return now();
    if (++waited_ >= settings_.fallback_ticks && answers_ == 0 && !disco_) {
        // Never answered: the server may drop pings; ask what every server answers.
        disco_ = true;
        return ping();
    }
    return std::nullopt;
}

bool ack_window::answered(protocol::element const& stanza)
{
    if (outstanding_.empty() || stanza.name() != "iq" || stanza.id() != outstanding_)
        return false;
    if (stanza.type() != "result" && stanza.type() != "error")
        return false;
    // From the server itself, which a user of it cannot send as.
    auto const from = protocol::jid::parse(stanza.from());
    if (!from || !from->local().empty() || !from->resource().empty())
        return false;
    outstanding_.clear();
    acknowledged_ = ping_mark_;
    ++answers_;
    return true;
}

std::uint64_t ack_window::lost()
{
    auto const gone = in_flight();
    written_ = acknowledged_ = ping_mark_ = answers_ = 0;  // the next server may not answer
    waited_ = 0;
    outstanding_.clear();
    return gone;
}

}  // namespace fedgate::routing
