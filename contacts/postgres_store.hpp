#pragma once
/// @file
/// The relationship store shared by several instances (issue 19): PostgreSQL,
/// through libpq. Like the SQLite backend it holds the whole record in memory
/// for the hot path and writes on a thread of its own, one transaction per
/// change, so that no event loop waits for the database. Every change is
/// announced with NOTIFY in its own transaction, and each instance LISTENs:
/// the others' caches learn it within a second, without polling. When the
/// database is unreachable, writes wait for it up to a deadline and then fail
/// (the caller bounces what waited for them), reads use what is in memory, and
/// the store reconnects with backoff and reads everything again once back.

#include "contacts/relationship_store.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace fedgate::contacts {

/// How a shared store reports its connections to the database, on the
/// dispatcher's thread: `up` false when one was lost (writes wait, reads use
/// the memory), true when all are back. `text` says what happened, for the log.
using store_status_report = std::function<void(bool up, std::string const& text)>;

struct postgres_settings {
    std::string conninfo;  ///< a libpq connection string ("host=... dbname=..." or a postgresql:// URI)
    /// How long a write waits for an unreachable database before it fails.
    std::chrono::milliseconds write_deadline{10'000};
    store_status_report report;
};

/// Connects, creates or migrates the schema, loads every relationship. Throws
/// store_error when the database cannot be reached or used, or when its schema
/// is newer than this fedgate's: nothing is ever reset silently. With a
/// dispatcher the store also listens for the other instances' changes (the
/// daemon); without one it only reads and writes (`fedgate contacts`).
[[nodiscard]] std::unique_ptr<relationship_store> open_postgres_store(postgres_settings settings,
                                                                      relationship_store::dispatcher dispatch = {});

}  // namespace fedgate::contacts
