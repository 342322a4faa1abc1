#include "negotiation/component_session.hpp"

#include "negotiation/dialback_key.hpp"
#include "negotiation/wire.hpp"
#include "protocol/jid.hpp"
#include "protocol/namespaces.hpp"
#include "protocol/stanza_error.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace fedgate::negotiation {

namespace ns = protocol::ns;
using protocol::element;
using protocol::stream_error;

std::string component_handshake(std::string_view stream_id, std::string_view secret)
{
    std::string const text = std::string{stream_id} + std::string{secret};
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1)
        throw std::runtime_error{"SHA-1 failed"};
    return hex_encode(digest.data(), size);
}

component_session::component_session(component_context context) : context_{std::move(context)} {}

std::vector<action> component_session::start()
{
    // XEP-0114 §3: the component names itself in 'to'.
    return {send_header{{}, context_.domain, {}, ns::component}};
}

namespace {
constexpr char const* no_stream_id = "the internal server sent no stream id to hash the secret with";
}  // namespace

std::vector<action> component_session::handle(event e)
{
    if (state_ == state::closed)
        return {};
    if (auto const* opened = std::get_if<protocol::stream_opened>(&e)) {
        if (state_ != state::awaiting_header)
            return close(stream_error::bad_format, close_reason::bad_input, "a second stream header");
        return on_header(opened->header);
    }
    if (auto* received = std::get_if<protocol::element_received>(&e))
        return on_element(std::move(received->stanza));
    if (state_ == state::awaiting_refusal &&
        (std::holds_alternative<protocol::stream_ended>(e) || std::holds_alternative<transport_closed>(e)))
        return close(std::nullopt, close_reason::bad_input, no_stream_id);
    if (std::holds_alternative<protocol::stream_ended>(e))
        return close(std::nullopt, close_reason::peer_closed, "the internal server closed the link");
    if (auto const* closed = std::get_if<transport_closed>(&e))
        return close(std::nullopt, close_reason::transport_closed, closed->why);
    if (std::holds_alternative<deadline_passed>(e) && state_ != state::ready)
        return close(stream_error::connection_timeout, close_reason::timeout,
                     "the internal server did not complete the handshake in time");
    return {};
}

std::vector<action> component_session::on_header(protocol::stream_header const& header)
{
    if (header.id().empty()) {
        // Prosody opens a stream it refuses without an id, then says why: wait
        // for that rather than blame the missing id.
        state_ = state::awaiting_refusal;
        return {};
    }
    state_ = state::awaiting_handshake;
    element handshake{"handshake", std::string{ns::component}};
    handshake.add_text(component_handshake(header.id(), context_.secret));
    return only(send_element{std::move(handshake)});
}

std::vector<action> component_session::on_element(element&& e)
{
    if (e.is("error", ns::streams)) {
        auto const what = wire::describe_stream_error(e);
        auto const condition = wire::stream_error_condition(e);
        // XEP-0114 servers take one connection per component (Prosody says
        // <conflict/>): another instance of ours holds it, or another program
        // with the secret. Not a failure of this link: it stands by.
        if (condition == "conflict")
            return close(std::nullopt, close_reason::component_conflict,
                         "the internal server has another connection for component " + context_.domain + ": " + what);
        std::string advice;
        if (condition == "not-authorized")
            // ejabberd 23.01 refuses a domain that its listener does not list
            // the same way as a wrong secret (it logs "unconfigured").
            advice = " (check the component secret: the internal server's for " + context_.domain +
                     " and [internal] secret_file must be the same; ejabberd also says this when no "
                     "ejabberd_service listener lists " + context_.domain + " in its hosts)";
        else if (condition == "host-unknown")
            advice = " (the internal server does not know " + context_.domain + " as a component: declare it there, "
                     "e.g. Prosody: Component \"" + context_.domain + "\" with component_secret; ejabberd: an "
                     "ejabberd_service listener whose hosts include it)";
        return close(std::nullopt, close_reason::stream_error_received,
                     "the internal server ended the link for " + context_.domain + " with " + what + advice);
    }
    if (state_ == state::awaiting_refusal)
        return close(stream_error::invalid_xml, close_reason::bad_input, no_stream_id);
    if (state_ == state::awaiting_handshake) {
        if (!e.is("handshake", ns::component))
            return close(stream_error::not_authorized, close_reason::bad_input,
                         "<" + e.name() + "/> before the handshake completed");
        state_ = state::ready;
        return {link_ready{context_.domain}};
    }
    if (state_ != state::ready)
        return close(stream_error::bad_format, close_reason::bad_input, "<" + e.name() + "/> before the stream opened");
    if (e.ns() == ns::component && (e.name() == "message" || e.name() == "presence" || e.name() == "iq"))
        return on_stanza(std::move(e));
    return close(stream_error::unsupported_stanza_type, close_reason::bad_input,
                 "<" + e.name() + " xmlns='" + e.ns() + "'/> on a component link");
}

std::vector<action> component_session::on_stanza(element&& stanza)
{
    // The internal server is trusted to authenticate its users, not to speak for
    // other domains: a stanza must come from one of our domains and go to the
    // partner domain this link stands for.
    auto from = protocol::jid::parse(stanza.from());
    std::string why;
    auto to = protocol::jid::parse(stanza.to(), &why);
    if (!from || !context_.domains->is_local(from->domain()))
        return {discarded{"a stanza from '" + std::string{stanza.from()} + "' on the link for " + context_.domain +
                          ", which is not one of our domains"}};
    domain_pair pair{from->domain(), context_.domain};
    if (!to || to->domain() != context_.domain) {
        if (!protocol::may_bounce(stanza))
            return {discarded{"an error stanza to '" + std::string{stanza.to()} + "' on the link for " +
                              context_.domain}};
        auto reply = make_error_reply(stanza, to ? protocol::stanza_condition::item_not_found
                                                 : protocol::stanza_condition::jid_malformed,
                                      to ? "this link carries stanzas for " + context_.domain + " only" : why);
        reply.set_attribute("from", context_.domain);
        return only(bounce_stanza{std::move(reply), std::move(pair)});
    }
    return only(route_stanza{std::move(stanza), std::move(pair), {std::move(*from), std::move(*to)}});
}

std::vector<action> component_session::close(std::optional<protocol::stream_error> condition, close_reason reason,
                                             std::string detail)
{
    state_ = state::closed;
    return {close_stream{condition, reason, std::move(detail)}};
}

}  // namespace fedgate::negotiation
