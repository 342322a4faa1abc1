// The relationship store on a real PostgreSQL (a cluster of the tests' own,
// scripts/pg-test-cluster): durable across reopen, one instance's change heard
// by another within a second, writes that wait for an unreachable database
// and then fail, a cache read again after an outage, and loud refusals.
// Each test has a database of its own.
#include "contacts/postgres_store.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

namespace {

using namespace fedgate::contacts;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

relationship const alice_bob{"alice@contoso.test", "bob@fabrikam.test"};
relationship const alice_carol{"alice@contoso.test", "carol@northwind.test"};
relationship_state const invited{.to = false, .from = false, .asked = true};
relationship_state const both{.to = true, .from = true, .asked = false};

std::string cluster_conninfo()
{
    std::ifstream in{std::string{FEDGATE_PG_CLUSTER_DIR} + "/conninfo"};
    std::string line;
    std::getline(in, line);
    return line;
}

int cluster(std::string const& verb)
{
    auto command = std::string{FEDGATE_PG_CLUSTER_SCRIPT} + " " + verb + " " + FEDGATE_PG_CLUSTER_DIR + " >/dev/null";
    return std::system(command.c_str());
}

/// Runs `sql` on `conninfo`; returns the first value of the first row, if any.
std::string sql(std::string const& conninfo, std::string const& statement)
{
    PGconn* c = PQconnectdb(conninfo.c_str());
    EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, statement.c_str());
    auto status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) << statement << ": " << PQerrorMessage(c);
    std::string value = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    PQfinish(c);
    return value;
}

/// A dispatcher whose completions the test runs, as the daemon's event loop would.
struct event_loop {
    std::mutex mutex;
    std::deque<std::function<void()>> posted;
    relationship_store::dispatcher dispatch()
    {
        return [this](std::function<void()> f) {
            std::lock_guard lock{mutex};
            posted.push_back(std::move(f));
        };
    }
    /// Nothing posted waits to run.
    bool idle()
    {
        std::lock_guard lock{mutex};
        return posted.empty();
    }
    /// Runs what was posted until `done` holds or `timeout` passes; whether it held.
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds timeout)
    {
        auto const until = clock_type::now() + timeout;
        while (!done()) {
            if (clock_type::now() > until)
                return false;
            std::deque<std::function<void()>> now;
            {
                std::lock_guard lock{mutex};
                now.swap(posted);
            }
            for (auto& f : now)
                f();
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }
};

class postgres : public ::testing::Test {
protected:
    void SetUp() override
    {
        base_ = cluster_conninfo();
        ASSERT_FALSE(base_.empty()) << "no cluster: contacts.postgres_cluster_start runs first (ctest fixture)";
        name_ = "t" + std::to_string(std::random_device{}());
        sql(base_, "CREATE DATABASE " + name_);
        conninfo_ = base_ + " dbname=" + name_;  // the last dbname wins
    }
    void TearDown() override
    {
        if (!name_.empty())
            sql(base_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
    postgres_settings settings(std::chrono::milliseconds deadline = 10s) const
    {
        return {.conninfo = conninfo_, .write_deadline = deadline, .report = {}};
    }
    std::string base_;
    std::string name_;
    std::string conninfo_;
};

TEST_F(postgres, an_invitation_survives_a_reopen_and_the_schema_is_made_once)
{
    {
        auto store = open_postgres_store(settings());
        std::atomic<bool> committed{false};
        store->put(alice_bob, invited, [&](std::string const& error) { committed = error.empty(); });
        store->put(alice_carol, both);
        EXPECT_TRUE(store->get(alice_bob).asked);  // in memory at once
        store->flush();
        EXPECT_TRUE(committed);
        EXPECT_NE(store->where().find("PostgreSQL database " + name_ + " on 127.0.0.1:"), std::string::npos)
            << store->where();
        EXPECT_EQ(store->where().find("password"), std::string::npos);
    }
    auto again = open_postgres_store(settings());
    EXPECT_EQ(again->get(alice_bob), invited);
    EXPECT_EQ(again->get(alice_carol), both);
    EXPECT_EQ(again->all().size(), 2u);
    EXPECT_EQ(sql(conninfo_, "SELECT version || '/' || count(*) OVER () FROM fedgate_schema"), "1/1");
    // No relationship left: the row stays, all false (so that every later
    // change is numbered once the row is locked), and is no relationship.
    again->put(alice_carol, {});
    again->flush();
    EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM fedgate_relationships WHERE sub_to OR sub_from OR asked"), "1");
    EXPECT_EQ(open_postgres_store(settings())->all().size(), 1u);
}

TEST_F(postgres, another_instance_hears_of_a_change_within_a_second)
{
    event_loop loop_a, loop_b;
    auto a = open_postgres_store(settings(), loop_a.dispatch());
    auto b = open_postgres_store(settings(), loop_b.dispatch());
    std::this_thread::sleep_for(200ms);  // b's listener is up
    auto const began = clock_type::now();
    a->put(alice_bob, invited);
    ASSERT_TRUE(loop_b.run_until([&] { return b->get(alice_bob) == invited; }, 1s)) << "b never heard of it";
    auto const took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - began);
    EXPECT_LT(took, 1s);
    std::cout << "  heard by the other instance after " << took.count() << " ms\n";
    a->put(alice_bob, {});
    EXPECT_TRUE(loop_b.run_until([&] { return !b->get(alice_bob).any(); }, 1s)) << "the delete was not heard";
    a->put(alice_bob, both);  // made again: an update of the row that stayed, with a newer revision
    EXPECT_TRUE(loop_b.run_until([&] { return b->get(alice_bob) == both; }, 1s)) << "the new one was not heard";
    a->put(alice_bob, {});
    EXPECT_TRUE(loop_b.run_until([&] { return !b->get(alice_bob).any(); }, 1s));
    // A's own announcements change nothing in A.
    EXPECT_TRUE(loop_a.run_until([&] { return loop_a.idle(); }, 1s));
    EXPECT_FALSE(a->get(alice_bob).any());
}

TEST_F(postgres, a_change_of_ours_not_yet_durable_is_not_undone_by_theirs)
{
    event_loop loop_a, loop_b;
    auto a = open_postgres_store(settings(), loop_a.dispatch());
    auto b = open_postgres_store(settings(), loop_b.dispatch());
    std::this_thread::sleep_for(200ms);
    b->put(alice_bob, both);
    b->flush();
    // A changes it too; B's announcement reaches A while A's write may still be
    // on its way: A keeps its own, which the database will hold last.
    a->put(alice_bob, invited);
    a->flush();
    EXPECT_TRUE(loop_a.run_until([&] { return loop_a.idle(); }, 1s));
    EXPECT_EQ(a->get(alice_bob), invited);
    EXPECT_TRUE(loop_b.run_until([&] { return b->get(alice_bob) == invited; }, 1s));
}

TEST_F(postgres, an_announcement_older_than_what_an_instance_knows_changes_nothing)
{
    event_loop loop;
    auto a = open_postgres_store(settings(), loop.dispatch());
    std::this_thread::sleep_for(200ms);
    bool durable = false;
    a->put(alice_bob, invited, [&](std::string const& error) { durable = error.empty(); });
    ASSERT_TRUE(loop.run_until([&] { return durable; }, 2s));
    auto const announce = [&](std::string const& revision) {
        sql(conninfo_, "SELECT pg_notify('fedgate_relationships', '" + revision +
                           "' || E'\\n110\\nalice@contoso.test\\nbob@fabrikam.test')");
    };
    announce("0");  // committed before A's write, heard after it
    EXPECT_FALSE(loop.run_until([&] { return a->get(alice_bob) == both; }, 500ms)) << "a stale announcement won";
    announce("1000000");
    EXPECT_TRUE(loop.run_until([&] { return a->get(alice_bob) == both; }, 1s)) << "a newer one was not heard";
}

TEST_F(postgres, a_write_waits_for_an_unreachable_database_then_fails_and_the_store_comes_back)
{
    std::mutex reports_mutex;
    std::vector<std::pair<bool, std::string>> reports;
    auto s = settings(600ms);
    s.report = [&](bool up, std::string const& text) {
        std::lock_guard lock{reports_mutex};
        reports.emplace_back(up, text);
    };
    auto store = open_postgres_store(s);
    store->put(alice_carol, both);
    store->flush();
    ASSERT_EQ(cluster("stop"), 0);
    std::string error = "not called";
    auto const began = clock_type::now();
    store->put(alice_bob, invited, [&](std::string const& e) { error = e; });
    store->flush();
    auto const waited = clock_type::now() - began;
    EXPECT_NE(error.find("is not reachable"), std::string::npos) << error;
    EXPECT_NE(error.find(name_), std::string::npos) << "the message names the database: " << error;
    EXPECT_GE(waited, 300ms) << "it waited for the database";
    EXPECT_LT(waited, 5s);
    EXPECT_EQ(store->get(alice_carol), both) << "reads use the memory meanwhile";
    ASSERT_EQ(cluster("start"), 0);
    std::string after = "not called";
    store->put(alice_bob, invited, [&](std::string const& e) { after = e; });
    store->flush();
    EXPECT_EQ(after, "");
    EXPECT_EQ(sql(conninfo_, "SELECT asked FROM fedgate_relationships WHERE remote_jid = 'bob@fabrikam.test'"), "t");
    std::lock_guard lock{reports_mutex};
    ASSERT_GE(reports.size(), 2u);
    EXPECT_FALSE(reports.front().first);
    EXPECT_NE(reports.front().second.find("lost the connection"), std::string::npos) << reports.front().second;
    EXPECT_TRUE(reports.back().first);
}

TEST_F(postgres, after_losing_its_listener_an_instance_reads_everything_again)
{
    event_loop loop;
    auto store = open_postgres_store(settings(), loop.dispatch());
    std::this_thread::sleep_for(200ms);
    // Its connections are cut, and a row appears that nobody announced:
    // only reading everything again can teach it.
    sql(base_, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ +
                   "' AND application_name = 'fedgate'");
    sql(conninfo_, "INSERT INTO fedgate_relationships (local_jid, remote_jid, sub_to, sub_from, asked, revision) "
                   "VALUES ('alice@contoso.test', 'bob@fabrikam.test', true, false, false, nextval('fedgate_revisions'))");
    EXPECT_TRUE(loop.run_until([&] { return store->get(alice_bob).to; }, 5s)) << "never read again";
}

TEST_F(postgres, a_newer_schema_or_a_wrong_password_stops_it_with_a_clear_message)
{
    (void)open_postgres_store(settings());
    sql(conninfo_, "UPDATE fedgate_schema SET version = 99");
    try {
        (void)open_postgres_store(settings());
        ADD_FAILURE() << "a newer schema was accepted";
    } catch (store_error const& e) {
        EXPECT_NE(std::string{e.what()}.find("written by a newer fedgate (schema 99, this one knows 1)"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(sql(conninfo_, "SELECT version FROM fedgate_schema"), "99") << "nothing was changed";

    auto wrong = settings();
    wrong.conninfo += " password=not-the-password";
    try {
        (void)open_postgres_store(wrong);
        ADD_FAILURE() << "a wrong password was accepted";
    } catch (store_error const& e) {
        std::string const text = e.what();
        EXPECT_NE(text.find("cannot reach the relationship store in PostgreSQL"), std::string::npos) << text;
        EXPECT_NE(text.find("password authentication failed"), std::string::npos) << text;
        EXPECT_NE(text.find("[store] conninfo"), std::string::npos) << text;
    }
}

TEST_F(postgres, a_role_that_only_reads_and_writes_runs_on_a_schema_made_by_another)
{
    (void)open_postgres_store(settings());  // the schema, made by a role that may create tables
    auto const role = name_ + "_app";
    sql(conninfo_, "CREATE ROLE " + role + " LOGIN PASSWORD 'app-password'");
    sql(conninfo_, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    sql(conninfo_, "GRANT SELECT, INSERT, UPDATE ON fedgate_schema, fedgate_relationships TO " + role);
    sql(conninfo_, "GRANT USAGE ON SEQUENCE fedgate_revisions TO " + role);
    auto limited = settings();
    limited.conninfo += " user=" + role + " password=app-password";
    auto store = open_postgres_store(limited);
    std::string error = "not called";
    store->put(alice_bob, invited, [&](std::string const& e) { error = e; });
    store->flush();
    EXPECT_EQ(error, "");
    sql(conninfo_, "DROP OWNED BY " + role);
    sql(conninfo_, "DROP ROLE " + role);
}

TEST_F(postgres, an_import_is_all_or_nothing)
{
    auto store = open_postgres_store(settings());
    // A JID that is not UTF-8 is refused by the database: nothing of the import stays.
    auto error = store->put_all({{alice_bob, both}, {{"alice@contoso.test", "\xff@fabrikam.test"}, both}});
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(store->get(alice_bob).any());
    EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM fedgate_relationships"), "0");
    EXPECT_EQ(store->put_all({{alice_bob, both}, {alice_carol, invited}}), "");
    EXPECT_EQ(sql(conninfo_, "SELECT count(*) FROM fedgate_relationships"), "2");
}

}  // namespace
