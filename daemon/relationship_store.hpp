#pragma once
/// @file
/// The durable record of who may reach whom (issue 8): SQLite in WAL mode under
/// the state directory, a versioned schema, everything also held in memory for
/// the hot path. Writes go to a worker thread, so the event loop never waits for
/// the disk; the caller learns when a write is durable and forwards the stanza
/// that caused it only then, so that a crash never loses an invitation.

#include "daemon/contact_rules.hpp"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace fedgate::daemon {

/// Opening or writing the store failed; what() names the file and what to do.
class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class relationship_store {
public:
    /// Runs a completion on the caller's thread (the daemon posts to its
    /// io_context); null runs it on the worker thread.
    using dispatcher = std::function<void(std::function<void()>)>;
    /// Called when a write is durable (`error` empty) or failed.
    using completion = std::function<void(std::string const& error)>;

    /// Opens or creates `file`, migrates its schema, loads it. Throws store_error
    /// for an unreadable, corrupt, unwritable or newer-version file: nothing is
    /// ever reset silently.
    static std::unique_ptr<relationship_store> open(std::filesystem::path const& file, dispatcher dispatch = {});
    ~relationship_store();
    relationship_store(relationship_store const&) = delete;
    relationship_store& operator=(relationship_store const&) = delete;

    /// The state in memory (no disk access).
    [[nodiscard]] relationship_state get(relationship const& r) const;
    /// Sets the state in memory at once and on disk in the background (a state
    /// with no relationship left deletes the row); `done` runs when it is durable.
    void put(relationship const& r, relationship_state s, completion done = {});
    /// After a failed write: puts the state in memory back to `previous`, unless it
    /// changed again since (it is no longer `failed`).
    void undo(relationship const& r, relationship_state failed, relationship_state previous);
    /// Sets many states in one transaction, now, on the caller's thread: all or
    /// nothing (`fedgate contacts import`). Returns the error, or "".
    [[nodiscard]] std::string put_all(std::vector<std::pair<relationship, relationship_state>> const& states);
    /// Waits until every write so far is on disk (shutdown, tools, tests).
    void flush();
    /// Everything, sorted; for `fedgate contacts`.
    [[nodiscard]] std::vector<std::pair<relationship, relationship_state>> all() const;
    [[nodiscard]] std::filesystem::path const& file() const noexcept { return file_; }

private:
    relationship_store(std::filesystem::path file, sqlite3* db, dispatcher dispatch);
    void work();
    std::string write(relationship const& r, relationship_state s);
    void remember(relationship const& r, relationship_state s);

    struct job {
        relationship who;
        relationship_state state;
        completion done;
    };

    std::filesystem::path file_;
    sqlite3* db_;
    dispatcher dispatch_;
    std::map<relationship, relationship_state> memory_;  // the event loop's thread only
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<job> jobs_;
    bool busy_ = false;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace fedgate::daemon
