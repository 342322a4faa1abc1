#include "negotiation/wire.hpp"

#include "protocol/domain_name.hpp"
#include "protocol/namespaces.hpp"

namespace fedgate::negotiation::wire {

namespace ns = protocol::ns;
using protocol::element;

element tls(std::string_view name)
{
    return element{std::string{name}, std::string{ns::tls}};
}

element sasl_auth_external(std::string_view base64_payload)
{
    element auth{"auth", std::string{ns::sasl}};
    auth.set_attribute("mechanism", "EXTERNAL");
    auth.add_text(base64_payload);
    return auth;
}

element sasl(std::string_view name)
{
    return element{std::string{name}, std::string{ns::sasl}};
}

element sasl_failure(sasl_condition condition)
{
    element failure{"failure", std::string{ns::sasl}};
    failure.add_child(element{std::string{wire_name(condition)}, std::string{ns::sasl}});
    return failure;
}

std::optional<std::string_view> sasl_failure_condition(element const& failure)
{
    for (auto const* child : failure.child_elements())
        if (child->ns() == ns::sasl && child->name() != "text")
            return std::string_view{child->name()};
    return std::nullopt;
}

std::string_view name(db_kind kind) noexcept
{
    return kind == db_kind::result ? "result" : "verify";
}

namespace {

element db_element(db_kind kind, std::string_view from, std::string_view to, std::string_view id)
{
    element e{std::string{name(kind)}, std::string{ns::dialback}};
    e.set_attribute("from", from);
    e.set_attribute("to", to);
    if (kind == db_kind::verify)
        e.set_attribute("id", id);
    return e;
}

}  // namespace

element db_request(db_kind kind, std::string_view from, std::string_view to, std::string_view id,
                   std::string_view key)
{
    auto e = db_element(kind, from, to, id);
    e.add_text(key);
    return e;
}

element db_answer(db_kind kind, std::string_view from, std::string_view to, std::string_view id, bool valid)
{
    auto e = db_element(kind, from, to, id);
    e.set_attribute("type", valid ? "valid" : "invalid");
    return e;
}

element db_error(db_kind kind, std::string_view from, std::string_view to, std::string_view id,
                 protocol::stanza_condition condition)
{
    auto e = db_element(kind, from, to, id);
    e.set_attribute("type", "error");
    // XEP-0220 §2.4: <error/> is implicitly jabber:server, the condition a stanza error.
    element error{"error", std::string{ns::server}};
    error.set_attribute("type", protocol::wire_name(protocol::default_type(condition)));
    error.add_child(element{std::string{protocol::wire_name(condition)}, std::string{ns::stanza_errors}});
    e.add_child(std::move(error));
    return e;
}

protocol::stanza_condition dialback_error_for(dialback_outcome outcome) noexcept
{
    switch (outcome) {
    case dialback_outcome::not_found:
        return protocol::stanza_condition::remote_server_not_found;
    case dialback_outcome::unreachable:
        return protocol::stanza_condition::remote_server_not_found;
    case dialback_outcome::timeout:
        return protocol::stanza_condition::remote_server_timeout;
    case dialback_outcome::invalid:
        return protocol::stanza_condition::forbidden;
    case dialback_outcome::valid:
        break;
    }
    return protocol::stanza_condition::undefined_condition;
}

std::string stream_error_condition(protocol::element const& error)
{
    for (auto const* c : error.child_elements())
        if (c->ns() == protocol::ns::stream_errors && c->name() != "text")
            return c->name();
    return {};
}

std::string describe_stream_error(protocol::element const& error)
{
    auto name = stream_error_condition(error);
    if (name.empty())
        name = "no condition";
    auto const* text = error.child("text", protocol::ns::stream_errors);
    return "<" + name + "/>" + (text ? ": " + text->text() : std::string{});
}

std::string canonical_domain(std::string_view text)
{
    auto checked = protocol::check_domain_name(text);
    return checked ? std::move(checked.canonical) : std::string{};
}

std::optional<dialback_outcome> read_db_type(element const& answer)
{
    auto type = answer.type();
    if (type == "valid")
        return dialback_outcome::valid;
    if (type == "invalid")
        return dialback_outcome::invalid;
    if (type != "error")
        return std::nullopt;
    // An error from the other side: item-not-found means it does not host the
    // domain; anything else is a failure to complete the check.
    if (auto const* error = answer.child("error", protocol::ns::server))
        if (error->child("item-not-found", protocol::ns::stanza_errors))
            return dialback_outcome::not_found;
    return dialback_outcome::unreachable;
}

}  // namespace fedgate::negotiation::wire
