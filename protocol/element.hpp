#pragma once
/// @file
/// The element model: one XML element with its namespace, attributes and children
/// (elements and text, in document order). Names are matched on (namespace, local
/// name); prefixes are a serialisation matter and are not kept.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fedgate::protocol {

/// An attribute. `ns` is empty for unqualified attributes (the usual case); xml:lang
/// has ns::xml.
struct attribute {
    std::string name;
    std::string value;
    std::string ns;
    friend bool operator==(attribute const&, attribute const&) = default;
};

class node;

class element {
public:
    element() = default;
    element(std::string name, std::string ns);  // out of line: node is incomplete here

    [[nodiscard]] std::string const& name() const noexcept { return name_; }
    [[nodiscard]] std::string const& ns() const noexcept { return ns_; }
    [[nodiscard]] bool is(std::string_view name, std::string_view ns) const noexcept
    {
        return name_ == name && ns_ == ns;
    }

    [[nodiscard]] std::vector<attribute> const& attributes() const noexcept { return attributes_; }
    /// The value of an attribute, or nullopt when absent.
    [[nodiscard]] std::optional<std::string_view> find_attribute(std::string_view name,
                                                                 std::string_view ns = {}) const noexcept;
    /// The value of an attribute, or "" when absent.
    [[nodiscard]] std::string_view attribute_or_empty(std::string_view name, std::string_view ns = {}) const noexcept
    {
        return find_attribute(name, ns).value_or(std::string_view{});
    }
    /// Sets (replacing) an attribute.
    element& set_attribute(std::string_view name, std::string_view value, std::string_view ns = {});
    /// Appends an empty attribute to fill in, without looking for an existing one:
    /// for parsers, whose input XML already forbids duplicates.
    attribute& add_attribute()
    {
        will_change();
        return attributes_.emplace_back();
    }
    void reserve_attributes(std::size_t n) { attributes_.reserve(n); }
    /// Removes an attribute if present.
    void remove_attribute(std::string_view name, std::string_view ns = {});

    // The look-ups that routing needs (RFC 6120 §8.1).
    [[nodiscard]] std::string_view to() const noexcept { return attribute_or_empty("to"); }
    [[nodiscard]] std::string_view from() const noexcept { return attribute_or_empty("from"); }
    [[nodiscard]] std::string_view type() const noexcept { return attribute_or_empty("type"); }
    [[nodiscard]] std::string_view id() const noexcept { return attribute_or_empty("id"); }

    /// Not noexcept: children the reader left unread are read on first use.
    [[nodiscard]] std::vector<node> const& children() const
    {
        if (!unread_children_in_.empty())
            read_children();
        return children_;
    }
    /// Appends a child element and returns it.
    element& add_child(element child);
    /// Appends text; adjacent text is merged.
    void add_text(std::string_view text);
    /// The first child element with this name and namespace, or nullptr.
    [[nodiscard]] element const* child(std::string_view name, std::string_view ns) const;
    /// The child elements, in order.
    [[nodiscard]] std::vector<element const*> child_elements() const;
    /// The concatenation of the direct text children.
    [[nodiscard]] std::string text() const;

    /// The element's bytes exactly as a stream_reader received them, or "" once
    /// anything has changed it (every mutator forgets them) or when the reader could
    /// not vouch for them. serialize() writes them as they are instead of writing
    /// the tree: relaying a stanza unchanged is then one copy, not a walk with
    /// escaping (callgrind: about 8 % of the relay's instructions). The reader keeps
    /// them only when they mean the same on any stream, see stream_reader.hpp.
    [[nodiscard]] std::string_view as_received() const noexcept { return as_received_; }
    void keep_as_received(std::string_view bytes) { as_received_.assign(bytes); }
    /// As keep_as_received(), for an element whose children the reader did not
    /// build: they are read from the bytes when first asked for (children(),
    /// child(), text(), ==, or a change), under a stream whose content namespace is
    /// `stream_content` (ns::server or ns::component; with another they are read
    /// now). A relayed stanza's children are never asked for: building them was a
    /// tenth of the relay's instructions.
    void keep_as_received_with_children_unread(std::string_view bytes, std::string_view stream_content);

    friend bool operator==(element const&, element const&);

private:
    /// Before any change: the children are built, the bytes forgotten.
    void will_change()
    {
        if (!unread_children_in_.empty())
            read_children();
        as_received_.clear();
    }
    void read_children() const;

    std::string name_;
    std::string ns_;
    std::vector<attribute> attributes_;
    mutable std::vector<node> children_;  // complete when unread_children_in_ is empty
    std::string as_received_;  // not part of equality: the same tree, however it was written
    // ns::server or ns::component (static strings) while the children are still
    // only in as_received_; empty once built.
    mutable std::string_view unread_children_in_;
};

/// A child: an element or a run of text.
class node {
public:
    node(element e) : value_{std::move(e)} {}  // implicit: add_child(element) reads naturally
    explicit node(std::string text) : value_{std::move(text)} {}

    [[nodiscard]] bool is_element() const noexcept { return value_.index() == 0; }
    /// Precondition: is_element().
    [[nodiscard]] element const& as_element() const noexcept { return *std::get_if<element>(&value_); }
    [[nodiscard]] element& as_element() noexcept { return *std::get_if<element>(&value_); }
    /// Precondition: !is_element().
    [[nodiscard]] std::string const& text() const noexcept { return *std::get_if<std::string>(&value_); }
    [[nodiscard]] std::string& text() noexcept { return *std::get_if<std::string>(&value_); }
    friend bool operator==(node const&, node const&) = default;

private:
    std::variant<element, std::string> value_;
};

}  // namespace fedgate::protocol
