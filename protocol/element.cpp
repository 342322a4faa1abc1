#include "protocol/element.hpp"

#include "protocol/stream_reader.hpp"

#include <algorithm>
#include <limits>

namespace fedgate::protocol {
namespace {

/// The one element in `bytes`, children built, read as on a stream whose content
/// namespace is `stream_content`. The reader vouched for the bytes there (they
/// use no prefix but their own), so this header is all they need; they passed
/// its limits once already.
element read_alone(std::string_view bytes, std::string_view stream_content)
{
    std::string header = "<stream:stream xmlns='";
    header += stream_content;
    header += "' xmlns:stream='http://etherx.jabber.org/streams'>";
    constexpr auto many = std::numeric_limits<unsigned>::max();
    // nullopt cannot happen for bytes a reader kept; the fuzz target checks.
    return read_element(header, bytes, reader_limits{bytes.size(), many, many, header.size(), many}, stream_content)
        .value_or(element{});
}

}  // namespace

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
    will_change();
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
    will_change();
    std::erase_if(attributes_, [&](auto const& a) { return a.name == name && a.ns == ns; });
}

element& element::add_child(element child)
{
    will_change();
    // A child's bytes would be written only at the top (serialize()), where the
    // stream's namespaces are the ones they were read under.
    child.will_change();
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
    will_change();
    if (!children_.empty() && !children_.back().is_element())
        children_.back().text().append(text);
    else
        children_.emplace_back(std::string{text});
}

element const* element::child(std::string_view name, std::string_view ns) const
{
    for (auto const& c : children())
        if (c.is_element() && c.as_element().is(name, ns))
            return &c.as_element();
    return nullptr;
}

std::vector<element const*> element::child_elements() const
{
    std::vector<element const*> out;
    for (auto const& c : children())
        if (c.is_element())
            out.push_back(&c.as_element());
    return out;
}

std::string element::text() const
{
    std::string out;
    for (auto const& c : children())
        if (!c.is_element())
            out += c.text();
    return out;
}

void element::keep_as_received_with_children_unread(std::string_view bytes, std::string_view stream_content)
{
    as_received_.assign(bytes);
    children_.clear();
    if (stream_content == ns::server)
        unread_children_in_ = ns::server;
    else if (stream_content == ns::component)
        unread_children_in_ = ns::component;
    else
        children_ = std::move(read_alone(bytes, stream_content).children_);
}

void element::read_children() const
{
    children_ = std::move(read_alone(as_received_, unread_children_in_).children_);
    unread_children_in_ = {};
}

bool operator==(element const& a, element const& b)
{
    return a.name_ == b.name_ && a.ns_ == b.ns_ && a.attributes_ == b.attributes_ && a.children() == b.children();
}

}  // namespace fedgate::protocol
