#include "contacts/shared_cache.hpp"

namespace fedgate::contacts {

relationship_state shared_cache::get(relationship const& r) const
{
    auto it = memory_.find(r);
    return it == memory_.end() ? relationship_state{} : it->second;
}

std::vector<std::pair<relationship, relationship_state>> shared_cache::all() const
{
    return {memory_.begin(), memory_.end()};
}

void shared_cache::set(relationship const& r, relationship_state s, std::int64_t revision)
{
    if (s.any())
        memory_[r] = s;
    else
        memory_.erase(r);
    auto& known = revision_[r];
    known = std::max(known, revision);
}

void shared_cache::load(std::vector<revisioned> const& rows)
{
    for (auto const& row : rows)
        set(row.who, row.state, row.revision);
}

void shared_cache::put(relationship const& r, relationship_state s)
{
    if (s.any())
        memory_[r] = s;
    else
        memory_.erase(r);
    ++pending_[r];
    superseded_.erase(r);
}

void shared_cache::written(relationship const& r, std::optional<std::int64_t> revision)
{
    if (revision) {
        auto& known = revision_[r];
        known = std::max(known, *revision);
    }
    auto it = pending_.find(r);
    if (it == pending_.end() || --it->second > 0)
        return;
    pending_.erase(it);
    // What another instance changed while ours were on their way: it wins if
    // it came after them.
    if (auto d = deferred_.find(r); d != deferred_.end()) {
        if (d->second.revision > revision_[r]) {
            set(r, d->second.state, d->second.revision);
            if (!revision)
                superseded_.insert(r);
        }
        deferred_.erase(d);
    }
}

void shared_cache::undo(relationship const& r, relationship_state failed, relationship_state previous)
{
    if (superseded_.erase(r) > 0)
        return;  // the database has theirs, even if it equals ours
    if (get(r) == failed) {
        if (previous.any())
            memory_[r] = previous;
        else
            memory_.erase(r);
    }
}

void shared_cache::written_all(std::vector<revisioned> const& rows)
{
    for (auto const& row : rows)
        set(row.who, row.state, row.revision);
}

void shared_cache::heard(revisioned const& change)
{
    if (auto known = revision_.find(change.who); known != revision_.end() && change.revision <= known->second)
        return;  // older than what we know: it arrived late
    if (pending_.contains(change.who)) {
        auto& d = deferred_[change.who];
        if (change.revision > d.revision)
            d = change;
        return;
    }
    set(change.who, change.state, change.revision);
}

void shared_cache::reload(std::vector<revisioned> const& rows)
{
    for (auto const& row : rows)
        heard(row);
}

}  // namespace fedgate::contacts
