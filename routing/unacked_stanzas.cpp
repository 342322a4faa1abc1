#include "routing/unacked_stanzas.hpp"

#include <utility>

namespace fedgate::routing {

bool unacked_stanzas::written(queued_stanza stanza)
{
    items_.push_back(std::move(stanza));
    ++since_request_;
    return request_due(false);
}

std::optional<std::size_t> unacked_stanzas::acknowledged(std::uint32_t handled)
{
    // Unsigned arithmetic wraps as `h` does (§4: "when it reaches 2^32 it wraps to 0").
    std::size_t const newly = static_cast<std::uint32_t>(handled - handled_);
    if (newly > items_.size())
        return std::nullopt;
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(newly));
    handled_ = handled;
    outstanding_ = false;
    return newly;
}

bool unacked_stanzas::request_due(bool quiet)
{
    // On the clock, anything unacknowledged will do: also what a peer that
    // counts lazily left out of its last answer.
    if (outstanding_ || (quiet ? items_.empty() : since_request_ < settings_.request_every))
        return false;
    outstanding_ = true;
    since_request_ = 0;
    return true;
}

std::deque<queued_stanza> unacked_stanzas::lost()
{
    handled_ = 0;
    since_request_ = 0;
    outstanding_ = false;
    return std::exchange(items_, {});
}

}  // namespace fedgate::routing
