#include "protocol/element.hpp"

#include <algorithm>

namespace fedgate::protocol {

element::element(std::string name, std::string ns) : name_{std::move(name)}, ns_{std::move(ns)} {}

std::optional<std::string_view> element::find_attribute(std::string_view name, std::string_view ns) const noexcept
{
    for (auto const& a : attributes_)
        if (a.name == name && a.ns == ns)
            return a.value;
    return std::nullopt;
}

element& element::set_attribute(std::string_view name, std::string_view value, std::string_view ns)
{
    as_received_.clear();
    for (auto& a : attributes_) {
        if (a.name == name && a.ns == ns) {
            a.value = value;
            return *this;
        }
    }
    attributes_.push_back({std::string{name}, std::string{value}, std::string{ns}});
    return *this;
}

void element::remove_attribute(std::string_view name, std::string_view ns)
{
    as_received_.clear();
    std::erase_if(attributes_, [&](auto const& a) { return a.name == name && a.ns == ns; });
}

element& element::add_child(element child)
{
    as_received_.clear();
    // A child's bytes would be written only at the top (serialize()), where the
    // stream's namespaces are the ones they were read under.
    child.as_received_.clear();
    // Most stanzas have a handful of children; growing 1, 2, 4 moves them twice.
    if (children_.empty())
        children_.reserve(4);
    children_.emplace_back(std::move(child));
    return children_.back().as_element();
}

void element::add_text(std::string_view text)
{
    if (text.empty())
        return;
    as_received_.clear();
    if (!children_.empty() && !children_.back().is_element())
        children_.back().text().append(text);
    else
        children_.emplace_back(std::string{text});
}

element const* element::child(std::string_view name, std::string_view ns) const noexcept
{
    for (auto const& c : children_)
        if (c.is_element() && c.as_element().is(name, ns))
            return &c.as_element();
    return nullptr;
}

std::vector<element const*> element::child_elements() const
{
    std::vector<element const*> out;
    for (auto const& c : children_)
        if (c.is_element())
            out.push_back(&c.as_element());
    return out;
}

std::string element::text() const
{
    std::string out;
    for (auto const& c : children_)
        if (!c.is_element())
            out += c.text();
    return out;
}

bool operator==(element const& a, element const& b)
{
    return a.name_ == b.name_ && a.ns_ == b.ns_ && a.attributes_ == b.attributes_ && a.children_ == b.children_;
}

}  // namespace fedgate::protocol
