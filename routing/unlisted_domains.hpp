#pragma once
/// @file
/// Open federation's bound ([default_partner] max_domains): the unlisted remote
/// domains fedgate has streams with, most recently used first. A domain used
/// when the list is full pushes out the least recently used one, whose streams
/// the router then closes. Plain bookkeeping: no clock, no I/O.

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fedgate::routing {

class unlisted_domains {
public:
    explicit unlisted_domains(std::size_t capacity = 0) : capacity_{capacity} {}

    /// `domain` is used now (a stanza to or from it, a stream authenticated).
    /// Returns the domain pushed out to make room, if any (never `domain`
    /// itself; with capacity 0, nothing is kept).
    [[nodiscard]] std::optional<std::string> use(std::string_view domain);
    /// A new bound (a reload); returns the domains pushed out, least recent first.
    [[nodiscard]] std::vector<std::string> resize(std::size_t capacity);
    /// Forgets every domain (open federation turned off).
    void clear();

    [[nodiscard]] std::size_t size() const noexcept { return by_name_.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    [[nodiscard]] bool contains(std::string_view domain) const;

private:
    std::size_t capacity_;
    std::list<std::string> recent_;  // most recent first
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::list<std::string>::iterator, hash, std::equal_to<>> by_name_;
};

}  // namespace fedgate::routing
