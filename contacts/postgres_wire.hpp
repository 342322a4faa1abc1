#pragma once
/// @file
/// What postgres_store says to PostgreSQL, through libpq, named once: the
/// connection, the versioned schema, the statements (each change one
/// statement, hence one transaction, with its NOTIFY), and the notifications
/// read back. Private to contacts/; blocking calls, made on the store's own
/// threads only.

#include "contacts/shared_cache.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct pg_conn;

namespace fedgate::contacts::pg {

struct connection_closer {
    void operator()(pg_conn* c) const noexcept;
};
using connection = std::unique_ptr<pg_conn, connection_closer>;
using rows = std::vector<revisioned>;

/// Connects with `conninfo` (a connection string or URI; fedgate adds a 5 s
/// connect_timeout and its application_name unless it says otherwise); null
/// and `error` set when it cannot.
[[nodiscard]] connection connect(std::string const& conninfo, std::string& error);
/// "PostgreSQL database D on H:P as U", for messages (never the password).
[[nodiscard]] std::string where(pg_conn& c);
/// Creates or brings the schema up to date, one version at a time, under an
/// advisory lock (two instances starting together do it once). Throws
/// store_error for a schema newer than this fedgate's, or one it cannot read.
void migrate(pg_conn& c);
/// Every relationship, the rows without one left (tombstones) too; throws
/// store_error unless all of it was read.
[[nodiscard]] rows load(pg_conn& c);
/// Prepares the statements write_one uses on this connection; the error, or "".
[[nodiscard]] std::string prepare(pg_conn& c);
[[nodiscard]] bool healthy(pg_conn& c);

struct write_result {
    bool ok = false;
    std::string error;
    std::optional<std::int64_t> revision;  ///< the change's
    bool transient = false;                ///< failed, but the database may take it later
};
/// One change in one transaction, announced to the other instances.
[[nodiscard]] write_result write_one(pg_conn& c, relationship const& who, relationship_state state);
/// Many changes in one transaction, all or nothing: the error (and nothing
/// in `written`), or "" and each change with its revision in `written`.
[[nodiscard]] std::string write_all(pg_conn& c, std::vector<std::pair<relationship, relationship_state>> const& states,
                                    rows& written);

/// LISTENs for the changes of every instance; false and `error` when it cannot.
[[nodiscard]] bool listen(pg_conn& c, std::string& error);
[[nodiscard]] int socket(pg_conn& c);
/// The changes announced since the last call, ours among them (their
/// revisions make them harmless, and they correct a write whose outcome we
/// did not learn); sets `error` when the connection failed.
[[nodiscard]] rows notifications(pg_conn& c, std::string& error);

}  // namespace fedgate::contacts::pg
