#pragma once
/// @file
/// The durable record of who may reach whom (issue 8), behind an interface: the
/// contact policy asks it, and a backend keeps it. Every backend holds the whole
/// record in memory for the hot path (get() never waits) and writes in the
/// background; the caller learns when a write is durable and forwards the stanza
/// that caused it only then, so that a crash never loses an invitation. SQLite
/// (sqlite_store.hpp) serves one instance; a shared backend several.

#include "contacts/contact_rules.hpp"

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fedgate::contacts {

/// Opening or writing the store failed; what() names the store and what to do.
class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class relationship_store {
public:
    /// Runs a completion on the caller's thread (the daemon posts to its
    /// io_context); null runs it on the backend's own thread.
    using dispatcher = std::function<void(std::function<void()>)>;
    /// Called when a write is durable (`error` empty) or failed.
    using completion = std::function<void(std::string const& error)>;

    virtual ~relationship_store() = default;

    /// The state in memory (no disk or network access).
    [[nodiscard]] virtual relationship_state get(relationship const& r) const = 0;
    /// Sets the state in memory at once and durably in the background (a state
    /// with no relationship left deletes the record); `done` runs when it is durable.
    virtual void put(relationship const& r, relationship_state s, completion done = {}) = 0;
    /// After a failed write: puts the state in memory back to `previous`, unless it
    /// changed again since (it is no longer `failed`).
    virtual void undo(relationship const& r, relationship_state failed, relationship_state previous) = 0;
    /// Sets many states in one transaction, now, on the caller's thread: all or
    /// nothing (`fedgate contacts import`). Returns the error, or "".
    [[nodiscard]] virtual std::string put_all(std::vector<std::pair<relationship, relationship_state>> const& states) = 0;
    /// Waits until every write so far is durable (shutdown, tools, tests).
    virtual void flush() = 0;
    /// Everything, sorted; for `fedgate contacts`.
    [[nodiscard]] virtual std::vector<std::pair<relationship, relationship_state>> all() const = 0;
    /// Where the record is kept, for messages: the file, or the database.
    [[nodiscard]] virtual std::string where() const = 0;

protected:
    relationship_store() = default;
    relationship_store(relationship_store const&) = default;
    relationship_store& operator=(relationship_store const&) = default;
};

}  // namespace fedgate::contacts
