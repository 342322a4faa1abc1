#include "protocol/stanza_error.hpp"

#include "protocol/namespaces.hpp"

#include <array>

namespace fedgate::protocol {
namespace {

struct condition_info {
    std::string_view name;
    stanza_error_type type;
};

constexpr std::array<condition_info, 22> conditions = {{
    {"bad-request", stanza_error_type::modify},
    {"conflict", stanza_error_type::cancel},
    {"feature-not-implemented", stanza_error_type::cancel},
    {"forbidden", stanza_error_type::auth},
    {"gone", stanza_error_type::cancel},
    {"internal-server-error", stanza_error_type::cancel},
    {"item-not-found", stanza_error_type::cancel},
    {"jid-malformed", stanza_error_type::modify},
    {"not-acceptable", stanza_error_type::modify},
    {"not-allowed", stanza_error_type::cancel},
    {"not-authorized", stanza_error_type::auth},
    {"policy-violation", stanza_error_type::modify},
    {"recipient-unavailable", stanza_error_type::wait},
    {"redirect", stanza_error_type::modify},
    {"registration-required", stanza_error_type::auth},
    {"remote-server-not-found", stanza_error_type::cancel},
    {"remote-server-timeout", stanza_error_type::wait},
    {"resource-constraint", stanza_error_type::wait},
    {"service-unavailable", stanza_error_type::cancel},
    {"subscription-required", stanza_error_type::auth},
    {"undefined-condition", stanza_error_type::cancel},
    {"unexpected-request", stanza_error_type::wait},
}};

}  // namespace

std::string_view wire_name(stanza_condition c) noexcept
{
    return conditions[static_cast<std::size_t>(c)].name;
}

stanza_error_type default_type(stanza_condition c) noexcept
{
    return conditions[static_cast<std::size_t>(c)].type;
}

std::string_view wire_name(stanza_error_type t) noexcept
{
    switch (t) {
    case stanza_error_type::auth:
        return "auth";
    case stanza_error_type::cancel:
        return "cancel";
    case stanza_error_type::continue_:
        return "continue";
    case stanza_error_type::modify:
        return "modify";
    case stanza_error_type::wait:
        return "wait";
    }
    return "cancel";
}

bool may_bounce(element const& stanza) noexcept
{
    return stanza.type() != "error";
}

element make_error_reply(element const& stanza, stanza_condition condition, std::string_view text)
{
    element reply{stanza.name(), stanza.ns()};
    for (auto const& a : stanza.attributes())
        if (a.name != "to" && a.name != "from" && a.name != "type")
            reply.set_attribute(a.name, a.value, a.ns);
    if (!stanza.from().empty())
        reply.set_attribute("to", stanza.from());
    if (!stanza.to().empty())
        reply.set_attribute("from", stanza.to());
    reply.set_attribute("type", "error");
    // RFC 6120 §8.3.1: the original payload MAY be included; keeping it lets the
    // sender's client show which message failed.
    for (auto const& c : stanza.children()) {
        if (c.is_element())
            reply.add_child(c.as_element());
        else
            reply.add_text(c.text());
    }
    auto& error = reply.add_child(element{"error", stanza.ns()});
    error.set_attribute("type", wire_name(default_type(condition)));
    error.add_child(element{std::string{wire_name(condition)}, std::string{ns::stanza_errors}});
    if (!text.empty())
        error.add_child(element{"text", std::string{ns::stanza_errors}}).add_text(text);
    return reply;
}

}  // namespace fedgate::protocol
