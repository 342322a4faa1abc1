#include "contacts/sqlite_store.hpp"

#include "contacts/write_queue.hpp"

#include <sqlite3.h>

#include <chrono>
#include <map>
#include <mutex>

namespace fedgate::contacts {

namespace {

/// The schema, one step per version (PRAGMA user_version); never edit a step
/// once released, add one.
constexpr char const* migrations[] = {
    // 1: one row per (local user, remote contact) with any relationship.
    "CREATE TABLE relationships ("
    "  local TEXT NOT NULL, remote TEXT NOT NULL,"
    "  sub_to INTEGER NOT NULL, sub_from INTEGER NOT NULL, asked INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL, PRIMARY KEY (local, remote)) WITHOUT ROWID;",
};
constexpr int schema_version = static_cast<int>(std::size(migrations));

std::string what_to_do(std::filesystem::path const& file)
{
    return "; nothing was changed. Move " + file.string() +
           " aside (and restore a backup with `fedgate contacts import`), or fix its permissions";
}

void exec(sqlite3* db, char const* sql, std::filesystem::path const& file)
{
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : sqlite3_errmsg(db);
        sqlite3_free(message);
        throw store_error{file.string() + ": " + text + what_to_do(file)};
    }
}

int user_version(sqlite3* db, std::filesystem::path const& file)
{
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) != SQLITE_OK)
        throw store_error{file.string() + ": not a usable relationship store (" + sqlite3_errmsg(db) + ")" +
                          what_to_do(file)};
    int version = -1;
    if (sqlite3_step(statement) == SQLITE_ROW)
        version = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    if (version < 0)
        throw store_error{file.string() + ": not a usable relationship store (" + sqlite3_errmsg(db) + ")" +
                          what_to_do(file)};
    return version;
}

void migrate(sqlite3* db, std::filesystem::path const& file)
{
    // The version is read inside the write transaction: two processes opening a
    // new file at once must not both create the schema.
    exec(db, "BEGIN IMMEDIATE", file);
    try {
        int const version = user_version(db, file);
        if (version > schema_version)
            throw store_error{file.string() + ": written by a newer fedgate (schema " + std::to_string(version) +
                              ", this one knows " + std::to_string(schema_version) + ")" + what_to_do(file)};
        for (int v = version; v < schema_version; ++v) {
            exec(db, migrations[v], file);
            exec(db, ("PRAGMA user_version = " + std::to_string(v + 1)).c_str(), file);
        }
        exec(db, "COMMIT", file);
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

class sqlite_store final : public relationship_store {
public:
    sqlite_store(std::filesystem::path file, sqlite3* db, dispatcher dispatch);
    ~sqlite_store() override;
    sqlite_store(sqlite_store const&) = delete;
    sqlite_store& operator=(sqlite_store const&) = delete;

    [[nodiscard]] relationship_state get(relationship const& r) const override;
    void put(relationship const& r, relationship_state s, completion done) override;
    void undo(relationship const& r, relationship_state failed, relationship_state previous) override;
    [[nodiscard]] std::string put_all(std::vector<std::pair<relationship, relationship_state>> const& states) override;
    void flush() override;
    [[nodiscard]] std::vector<std::pair<relationship, relationship_state>> all() const override;
    [[nodiscard]] std::string where() const override { return file_.string(); }

    /// Reads every row into memory; throws store_error unless all of it was read.
    void load();
    void start()
    {
        writes_.start([this](write_queue::job& j) {
            std::string error;
            {
                std::lock_guard lock{db_mutex_};
                error = write(j.who, j.state);
            }
            if (!j.done)
                return;
            if (dispatch_)
                dispatch_([done = std::move(j.done), error] { done(error); });
            else
                j.done(error);
        });
    }

private:
    std::string write(relationship const& r, relationship_state s);
    void remember(relationship const& r, relationship_state s);

    std::filesystem::path file_;
    sqlite3* db_;
    dispatcher dispatch_;
    std::map<relationship, relationship_state> memory_;  // the caller's thread only
    std::mutex db_mutex_;  // the queue's thread writes; put_all borrows the connection
    write_queue writes_;   // last: its thread stops before the rest goes
};

}  // namespace

std::unique_ptr<relationship_store> open_sqlite_store(std::filesystem::path const& file,
                                                      relationship_store::dispatcher dispatch)
{
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string text = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        throw store_error{"cannot open the relationship store " + file.string() + ": " + text +
                          " (does the state directory exist, and may fedgate write to it?)"};
    }
    try {
        sqlite3_busy_timeout(db, 5000);  // `fedgate contacts` may hold the lock briefly
        // The journal mode is answered as a row; exec discards it. A corrupt file
        // fails here or at the version check.
        exec(db, "PRAGMA journal_mode = WAL", file);
        exec(db, "PRAGMA synchronous = FULL", file);  // a commit survives a power cut
        migrate(db, file);
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
    auto store = std::make_unique<sqlite_store>(file, db, std::move(dispatch));
    store->load();
    store->start();
    return store;
}

void sqlite_store::load()
{
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(db_, "SELECT local, remote, sub_to, sub_from, asked FROM relationships", -1,
                                &statement, nullptr);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(statement)) != SQLITE_ROW)
            break;
        auto text = [&](int column) {
            return std::string{reinterpret_cast<char const*>(sqlite3_column_text(statement, column))};
        };
        memory_[{text(0), text(1)}] = {.to = sqlite3_column_int(statement, 2) != 0,
                                       .from = sqlite3_column_int(statement, 3) != 0,
                                       .asked = sqlite3_column_int(statement, 4) != 0};
    }
    sqlite3_finalize(statement);
    // All of it or an error: a partial load would refuse contacts silently.
    if (rc != SQLITE_DONE)
        throw store_error{file_.string() + ": cannot read the relationships (" + sqlite3_errstr(rc) + ")" +
                          what_to_do(file_)};
}

sqlite_store::sqlite_store(std::filesystem::path file, sqlite3* db, dispatcher dispatch)
    : file_{std::move(file)}, db_{db}, dispatch_{std::move(dispatch)}
{
}

sqlite_store::~sqlite_store()
{
    writes_.stop();
    sqlite3_close(db_);
}

relationship_state sqlite_store::get(relationship const& r) const
{
    auto it = memory_.find(r);
    return it == memory_.end() ? relationship_state{} : it->second;
}

std::vector<std::pair<relationship, relationship_state>> sqlite_store::all() const
{
    return {memory_.begin(), memory_.end()};
}

void sqlite_store::remember(relationship const& r, relationship_state s)
{
    if (s.any())
        memory_[r] = s;
    else
        memory_.erase(r);
}

void sqlite_store::undo(relationship const& r, relationship_state failed, relationship_state previous)
{
    if (get(r) == failed)
        remember(r, previous);
}

std::string sqlite_store::put_all(std::vector<std::pair<relationship, relationship_state>> const& states)
{
    flush();  // nothing of the worker's in between
    std::lock_guard lock{db_mutex_};
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
        return sqlite3_errmsg(db_);
    for (auto const& [who, state] : states)
        if (auto error = write(who, state); !error.empty()) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            return error;
        }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::string error = sqlite3_errmsg(db_);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return error;
    }
    for (auto const& [who, state] : states)
        remember(who, state);
    return {};
}

void sqlite_store::put(relationship const& r, relationship_state s, completion done)
{
    remember(r, s);
    writes_.push({r, s, std::move(done), {}});
}

void sqlite_store::flush()
{
    writes_.flush();
}

std::string sqlite_store::write(relationship const& r, relationship_state s)
{
    char const* sql = s.any() ? "INSERT INTO relationships (local, remote, sub_to, sub_from, asked, updated) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (local, remote) DO UPDATE SET "
                                "sub_to = ?3, sub_from = ?4, asked = ?5, updated = ?6"
                              : "DELETE FROM relationships WHERE local = ?1 AND remote = ?2";
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK)
        return sqlite3_errmsg(db_);
    sqlite3_bind_text(statement, 1, r.local.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(statement, 2, r.remote.c_str(), -1, SQLITE_TRANSIENT);
    if (s.any()) {
        sqlite3_bind_int(statement, 3, s.to);
        sqlite3_bind_int(statement, 4, s.from);
        sqlite3_bind_int(statement, 5, s.asked);
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        sqlite3_bind_int64(statement, 6, now.count());
    }
    std::string error;
    if (sqlite3_step(statement) != SQLITE_DONE)
        error = sqlite3_errmsg(db_);
    sqlite3_finalize(statement);
    return error;
}

}  // namespace fedgate::contacts
