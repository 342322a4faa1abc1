#pragma once
/// @file
/// The relationship store of one instance: SQLite in WAL mode under the state
/// directory, a versioned schema, writes on a worker thread so that the event
/// loop never waits for the disk.

#include "contacts/relationship_store.hpp"

#include <filesystem>
#include <memory>

namespace fedgate::contacts {

/// Opens or creates `file`, migrates its schema, loads it. Throws store_error
/// for an unreadable, corrupt, unwritable or newer-version file: nothing is
/// ever reset silently.
[[nodiscard]] std::unique_ptr<relationship_store> open_sqlite_store(std::filesystem::path const& file,
                                                                    relationship_store::dispatcher dispatch = {});

}  // namespace fedgate::contacts
