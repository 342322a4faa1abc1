#pragma once
/// @file
/// The memory of a relationship store that several instances share
/// (postgres_store), without I/O: what this instance wrote and what the
/// others announced, put in order by the database's revisions (a sequence
/// every change takes a number from; for one relationship, later commits
/// have higher numbers). An announcement can arrive after a later change of
/// ours is durable, or while one is still on its way: neither may undo ours.

#include "contacts/contact_rules.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace fedgate::contacts {

/// One relationship as the database has it, with the revision of its change.
struct revisioned {
    relationship who;
    relationship_state state;
    std::int64_t revision = 0;
};

class shared_cache {
public:
    [[nodiscard]] relationship_state get(relationship const& r) const;
    [[nodiscard]] std::vector<std::pair<relationship, relationship_state>> all() const;

    /// Everything, at start.
    void load(std::vector<revisioned> const& rows);
    /// A write of ours: in memory at once, durable later (written()).
    void put(relationship const& r, relationship_state s);
    /// Our write of `r` is durable at `revision`, or failed (nullopt).
    void written(relationship const& r, std::optional<std::int64_t> revision);
    /// After a failed write: back to `previous`, unless it changed since.
    void undo(relationship const& r, relationship_state failed, relationship_state previous);
    /// Many writes of ours, durable together (an import).
    void written_all(std::vector<revisioned> const& rows);
    /// Another instance's change, announced with its revision.
    void heard(revisioned const& change);
    /// Everything again (after announcements may have been missed). The
    /// database keeps a row for every relationship that ever was, all false
    /// when none is left: a row absent from `rows` was made after them.
    void reload(std::vector<revisioned> const& rows);

private:
    void set(relationship const& r, relationship_state s, std::int64_t revision);

    std::map<relationship, relationship_state> memory_;
    /// The newest revision known per relationship, deleted ones included, so
    /// that an older announcement arriving late changes nothing.
    std::map<relationship, std::int64_t> revision_;
    std::map<relationship, unsigned> pending_;        ///< writes of ours not yet durable
    std::map<relationship, revisioned> deferred_;     ///< the newest heard while ours were pending
    /// A write of ours failed, and what another instance wrote meanwhile was
    /// applied: the undo that follows the failure must leave that alone.
    std::set<relationship> superseded_;
};

}  // namespace fedgate::contacts
