#include "negotiation/stream_management.hpp"

#include "protocol/namespaces.hpp"

#include <charconv>
#include <string>

namespace fedgate::negotiation::sm {

using protocol::element;
namespace ns = protocol::ns;

namespace {
element in_sm(char const* name)
{
    return element{name, std::string{ns::sm}};
}
}  // namespace

element feature()
{
    return in_sm("sm");
}

bool offered(element const& features)
{
    return features.child("sm", ns::sm) != nullptr;
}

element enable()
{
    return in_sm("enable");
}

element enabled()
{
    return in_sm("enabled");
}

element failed(protocol::stanza_condition condition)
{
    auto out = in_sm("failed");
    out.add_child(element{std::string{protocol::wire_name(condition)}, std::string{ns::stanza_errors}});
    return out;
}

element request()
{
    return in_sm("r");
}

element answer(std::uint32_t handled)
{
    auto out = in_sm("a");
    out.set_attribute("h", std::to_string(handled));
    return out;
}

std::optional<std::uint32_t> handled_count(element const& a)
{
    auto const text = a.attribute_or_empty("h");
    std::uint32_t value = 0;
    auto const* end = text.data() + text.size();
    auto [at, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || at != end)
        return std::nullopt;
    return value;
}

}  // namespace fedgate::negotiation::sm
