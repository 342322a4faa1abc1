#include "operations/log_summary.hpp"

namespace fedgate::operations {

bool log_summary::note(std::string_view key, std::size_t stanzas, clock::time_point now)
{
    auto it = windows_.find(key);
    if (it == windows_.end()) {
        windows_.emplace(std::string{key}, window{now});
        return true;
    }
    auto& w = it->second;
    if (now < w.start + interval_) {
        ++w.occurrences;
        w.stanzas += stanzas;
        return false;
    }
    if (w.occurrences > 0)
        ready_.push_back({it->first, w.occurrences, w.stanzas});
    w = window{now};
    return true;
}

std::vector<log_summary::summary> log_summary::due(clock::time_point now)
{
    auto out = std::move(ready_);
    ready_.clear();
    for (auto it = windows_.begin(); it != windows_.end();) {
        auto& w = it->second;
        if (now < w.start + interval_) {
            ++it;
            continue;
        }
        if (w.occurrences > 0)
            out.push_back({it->first, w.occurrences, w.stanzas});
        it = windows_.erase(it);  // the next occurrence is logged in full, as a sample
    }
    return out;
}

}  // namespace fedgate::operations
