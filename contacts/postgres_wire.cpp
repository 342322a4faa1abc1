#include "contacts/postgres_wire.hpp"

#include "contacts/relationship_store.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <iterator>
#include <sstream>
#include <string_view>

namespace fedgate::contacts::pg {

namespace {

/// The channel every instance LISTENs on; a payload is
/// "revision\nTFA\nlocal\nremote", each of T, F, A '1' or '0' (to, from,
/// asked: all '0' deletes).
constexpr char const* channel = "fedgate_relationships";

/// Held for the migration's transaction: two instances never migrate at once.
constexpr char const* migration_lock = "SELECT pg_advisory_xact_lock(7310312542683873651)";

/// The schema, one step per version (fedgate_schema.version); never edit a
/// step once released, add one.
constexpr char const* migrations[] = {
    // 1: one row per (local user, remote contact) that ever had a relationship
    // (none left: all three false, a tombstone, so that every change after the
    // first is an UPDATE, numbered once the row is locked), and the revision
    // of its last change, from one sequence for all changes.
    "CREATE SEQUENCE fedgate_revisions;"
    "CREATE TABLE fedgate_relationships ("
    "  local_jid text NOT NULL, remote_jid text NOT NULL,"
    "  sub_to boolean NOT NULL, sub_from boolean NOT NULL, asked boolean NOT NULL,"
    "  revision bigint NOT NULL, updated timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (local_jid, remote_jid))",
};
constexpr int schema_version = static_cast<int>(std::size(migrations));

constexpr char const* put_statement = "fedgate_put";

struct result_clearer {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result = std::unique_ptr<PGresult, result_clearer>;

// libpq's messages span lines ("server closed the connection unexpectedly\n\tThis
// probably means..."): one log line each, so every run of white space is one space.
std::string trimmed(char const* text)
{
    std::string s;
    bool space = false;
    for (char const* p = text ? text : ""; *p; ++p) {
        if (*p == '\n' || *p == '\t' || *p == ' ' || *p == '\r') {
            space = !s.empty();
            continue;
        }
        if (space)
            s += ' ';
        space = false;
        s += *p;
    }
    return s;
}

std::string error_of(pg_conn& c)
{
    return trimmed(PQerrorMessage(&c));
}

bool succeeded(PGresult const* r)
{
    auto const status = PQresultStatus(r);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

/// Runs `sql`; returns the result, or throws store_error naming `why`.
result run(pg_conn& c, char const* sql, std::string const& why)
{
    result r{PQexec(&c, sql)};
    if (!succeeded(r.get()))
        throw store_error{where(c) + ": " + why + ": " + error_of(c) +
                          "; nothing was changed. Check that fedgate's role may create tables in this database"};
    return r;
}

/// The payload after its revision, which the statement puts in front.
std::string payload_tail(relationship const& who, relationship_state s)
{
    std::string out{'\n', s.to ? '1' : '0', s.from ? '1' : '0', s.asked ? '1' : '0'};
    out += '\n' + who.local + '\n' + who.remote;
    return out;
}

bool truth(char const* value)
{
    return value != nullptr && value[0] == 't';
}

}  // namespace

void connection_closer::operator()(pg_conn* c) const noexcept
{
    PQfinish(c);
}

connection connect(std::string const& conninfo, std::string& error)
{
    // Defaults first: whatever the operator's string says wins (expand_dbname).
    // A dead peer is noticed within seconds (keepalives, and unacknowledged
    // data given up after 10 s) rather than after TCP's minutes, and a standby
    // that only reads is never chosen.
    char const* keywords[] = {"connect_timeout", "application_name", "keepalives_idle", "keepalives_interval",
                              "keepalives_count", "tcp_user_timeout", "target_session_attrs", "dbname", nullptr};
    char const* values[] = {"5", "fedgate", "5", "2", "3", "10000", "read-write", conninfo.c_str(), nullptr};
    connection c{PQconnectdbParams(keywords, values, 1)};
    if (!c) {
        error = "out of memory";
        return nullptr;
    }
    if (PQstatus(c.get()) != CONNECTION_OK) {
        error = error_of(*c);
        return nullptr;
    }
    // Notices (a table that already exists, ...) are not worth a line on stderr.
    PQsetNoticeProcessor(c.get(), [](void*, char const*) {}, nullptr);
    return c;
}

std::string where(pg_conn& c)
{
    std::string host = PQhost(&c) ? PQhost(&c) : "";
    if (!host.empty() && host.front() == '/')
        host = "socket " + host;
    return "PostgreSQL database " + std::string{PQdb(&c)} + " on " + host + ":" + PQport(&c) + " as " + PQuser(&c);
}

void migrate(pg_conn& c)
{
    run(c, "BEGIN", "cannot begin the schema migration");
    try {
        run(c, migration_lock, "cannot lock the schema");
        // Asked first: CREATE ... IF NOT EXISTS wants the right to create even
        // when the table is there, which a role that only reads and writes lacks.
        auto exists = run(c, "SELECT to_regclass('fedgate_schema') IS NOT NULL", "cannot look for fedgate_schema");
        if (!truth(PQgetvalue(exists.get(), 0, 0)))
            run(c, "CREATE TABLE fedgate_schema (version integer NOT NULL)", "cannot create fedgate_schema");
        auto current = run(c, "SELECT version FROM fedgate_schema", "cannot read the schema version");
        if (PQntuples(current.get()) > 1)
            throw store_error{where(c) + ": fedgate_schema has " + std::to_string(PQntuples(current.get())) +
                              " rows, not one: not a schema fedgate wrote; nothing was changed"};
        int version = 0;
        if (PQntuples(current.get()) == 0)
            run(c, "INSERT INTO fedgate_schema (version) VALUES (0)", "cannot record the schema version");
        else
            version = std::atoi(PQgetvalue(current.get(), 0, 0));
        if (version > schema_version)
            throw store_error{where(c) + ": written by a newer fedgate (schema " + std::to_string(version) +
                              ", this one knows " + std::to_string(schema_version) +
                              "); nothing was changed. Run the newer fedgate, or restore a backup"};
        for (int v = version; v < schema_version; ++v) {
            run(c, migrations[v], "cannot apply schema step " + std::to_string(v + 1));
            auto const update = "UPDATE fedgate_schema SET version = " + std::to_string(v + 1);
            run(c, update.c_str(), "cannot record schema version " + std::to_string(v + 1));
        }
        run(c, "COMMIT", "cannot commit the schema");
    } catch (...) {
        result{PQexec(&c, "ROLLBACK")};
        throw;
    }
}

rows load(pg_conn& c)
{
    result r{PQexec(&c, "SELECT local_jid, remote_jid, sub_to, sub_from, asked, revision FROM fedgate_relationships")};
    // All of it or an error: a partial load would refuse contacts silently.
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
        throw store_error{where(c) + ": cannot read the relationships: " + error_of(c)};
    rows out;
    out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
    for (int i = 0; i < PQntuples(r.get()); ++i)
        out.push_back({{PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1)},
                       {.to = truth(PQgetvalue(r.get(), i, 2)),
                        .from = truth(PQgetvalue(r.get(), i, 3)),
                        .asked = truth(PQgetvalue(r.get(), i, 4))},
                       std::strtoll(PQgetvalue(r.get(), i, 5), nullptr, 10)});
    return out;
}

std::string prepare(pg_conn& c)
{
    // One statement each, so one transaction each, the NOTIFY inside it: the
    // others hear of a change exactly when it is durable, and never of one
    // that was rolled back.
    // The revision of an update is drawn once the row is locked, so that for
    // one relationship a later commit has a higher number. Only a row's first
    // insert draws it before: nothing else can hold a number for that row
    // then, and a second insert at the same moment becomes an update.
    result put{PQprepare(&c, put_statement,
                         "WITH w AS (INSERT INTO fedgate_relationships "
                         "(local_jid, remote_jid, sub_to, sub_from, asked, revision) "
                         "VALUES ($1, $2, $3, $4, $5, nextval('fedgate_revisions')) "
                         "ON CONFLICT (local_jid, remote_jid) DO UPDATE SET sub_to = $3, sub_from = $4, asked = $5, "
                         "updated = now(), revision = nextval('fedgate_revisions') RETURNING revision) "
                         "SELECT revision, pg_notify('fedgate_relationships', revision || $6) FROM w",
                         6, nullptr)};
    if (!succeeded(put.get()))
        return "cannot prepare the write: " + error_of(c);
    return {};
}

bool healthy(pg_conn& c)
{
    return PQstatus(&c) == CONNECTION_OK;
}

write_result write_one(pg_conn& c, relationship const& who, relationship_state state)
{
    // No relationship left is written too: the row stays, all false.
    auto const announce = payload_tail(who, state);
    char const* values[] = {who.local.c_str(), who.remote.c_str(), state.to ? "t" : "f", state.from ? "t" : "f",
                            state.asked ? "t" : "f", announce.c_str()};
    result r{PQexecPrepared(&c, put_statement, 6, values, nullptr, nullptr, 0)};
    if (!succeeded(r.get())) {
        char const* code = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
        std::string_view const sqlstate = code ? code : "";
        // The connection, the server going away, a conflict to retry, a
        // standby: waiting may help; anything else will not.
        bool const transient = sqlstate.starts_with("08") || sqlstate.starts_with("57P") ||
                               sqlstate.starts_with("40") || sqlstate == "25006";
        return {false, error_of(c), std::nullopt, transient};
    }
    if (PQntuples(r.get()) == 0)
        return {true, {}, std::nullopt, false};
    return {true, {}, std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10), false};
}

std::string write_all(pg_conn& c, std::vector<std::pair<relationship, relationship_state>> const& states, rows& written)
{
    written.clear();
    result begin{PQexec(&c, "BEGIN")};
    if (!succeeded(begin.get()))
        return error_of(c);
    for (auto const& [who, state] : states) {
        auto one = write_one(c, who, state);
        if (!one.ok) {
            result{PQexec(&c, "ROLLBACK")};
            written.clear();
            return one.error;
        }
        written.push_back({who, state, one.revision.value_or(0)});
    }
    result commit{PQexec(&c, "COMMIT")};
    if (!succeeded(commit.get())) {
        auto error = error_of(c);
        result{PQexec(&c, "ROLLBACK")};
        written.clear();
        return error;
    }
    return {};
}

bool listen(pg_conn& c, std::string& error)
{
    result r{PQexec(&c, (std::string{"LISTEN "} + channel).c_str())};
    if (succeeded(r.get()))
        return true;
    error = error_of(c);
    return false;
}

int socket(pg_conn& c)
{
    return PQsocket(&c);
}

rows notifications(pg_conn& c, std::string& error)
{
    rows out;
    if (PQconsumeInput(&c) == 0) {
        error = error_of(c);
        return out;
    }
    while (PGnotify* n = PQnotifies(&c)) {
        std::string const text = n->extra ? n->extra : "";
        PQfreemem(n);
        // revision \n TFA \n local \n remote
        auto const flags = text.find('\n');
        auto const local = flags == std::string::npos ? flags : text.find('\n', flags + 1);
        auto const remote = local == std::string::npos ? local : text.find('\n', local + 1);
        if (remote == std::string::npos || local != flags + 4)
            continue;
        char const* f = text.data() + flags + 1;
        out.push_back({{text.substr(local + 1, remote - local - 1), text.substr(remote + 1)},
                       {.to = f[0] == '1', .from = f[1] == '1', .asked = f[2] == '1'},
                       std::strtoll(text.c_str(), nullptr, 10)});
    }
    return out;
}

}  // namespace fedgate::contacts::pg
