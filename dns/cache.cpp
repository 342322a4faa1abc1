#include "dns/cache.hpp"

#include <algorithm>

namespace fedgate::dns {

std::optional<answer> cache::find(std::string const& name, std::uint16_t type)
{
    auto it = entries_.find({name, type});
    if (it == entries_.end())
        return std::nullopt;
    if (now_() >= it->second.expires) {
        entries_.erase(it);
        return std::nullopt;
    }
    return it->second.value;
}

void cache::store(std::string const& name, std::uint16_t type, answer a, std::chrono::seconds ttl)
{
    if (ttl.count() <= 0 || max_entries_ == 0)
        return;
    auto const now = now_();
    if (entries_.size() >= max_entries_ && !entries_.contains({name, type})) {
        // Drop what has expired; if nothing has, the entry closest to expiring.
        std::erase_if(entries_, [&](auto const& e) { return now >= e.second.expires; });
        if (entries_.size() >= max_entries_) {
            auto soonest = std::min_element(entries_.begin(), entries_.end(), [](auto const& x, auto const& y) {
                return x.second.expires < y.second.expires;
            });
            entries_.erase(soonest);
        }
    }
    entries_[{name, type}] = entry{std::move(a), now + ttl};
}

}  // namespace fedgate::dns
