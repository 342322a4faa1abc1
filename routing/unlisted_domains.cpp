#include "routing/unlisted_domains.hpp"

namespace fedgate::routing {

std::optional<std::string> unlisted_domains::use(std::string_view domain)
{
    if (capacity_ == 0)
        return std::nullopt;  // no bound set: nothing to keep, and never the domain given pushed out
    if (auto it = by_name_.find(domain); it != by_name_.end()) {
        recent_.splice(recent_.begin(), recent_, it->second);
        return std::nullopt;
    }
    recent_.emplace_front(domain);
    by_name_.emplace(recent_.front(), recent_.begin());
    if (by_name_.size() <= capacity_)
        return std::nullopt;
    std::string oldest = std::move(recent_.back());
    recent_.pop_back();
    by_name_.erase(oldest);
    return oldest;
}

std::vector<std::string> unlisted_domains::resize(std::size_t capacity)
{
    capacity_ = capacity;
    std::vector<std::string> out;
    while (by_name_.size() > capacity_) {
        out.push_back(std::move(recent_.back()));
        recent_.pop_back();
        by_name_.erase(out.back());
    }
    return out;
}

void unlisted_domains::clear()
{
    recent_.clear();
    by_name_.clear();
}

bool unlisted_domains::contains(std::string_view domain) const
{
    return by_name_.find(domain) != by_name_.end();
}

}  // namespace fedgate::routing
