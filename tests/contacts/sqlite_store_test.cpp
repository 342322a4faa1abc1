// The relationship store on a real SQLite file: durable across reopen, written
// off the caller's thread, and loud about files it cannot use.
#include "contacts/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace {

using namespace fedgate::contacts;
namespace fs = std::filesystem;

class store_folder : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/fedgate-store-test-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override
    {
        fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
        fs::remove_all(dir_);
    }
    fs::path file() const { return dir_ / "relationships.sqlite3"; }
    fs::path dir_;
};

relationship const alice_bob{"alice@contoso.test", "bob@fabrikam.test"};
relationship const alice_carol{"alice@contoso.test", "carol@northwind.test"};

TEST_F(store_folder, an_invitation_survives_a_reopen)
{
    {
        auto store = open_sqlite_store(file());
        std::atomic<bool> committed{false};
        store->put(alice_bob, {.to = false, .from = false, .asked = true},
                   [&](std::string const& error) { committed = error.empty(); });
        store->put(alice_carol, {.to = true, .from = true, .asked = false});
        EXPECT_TRUE(store->get(alice_bob).asked);  // in memory at once
        store->flush();
        EXPECT_TRUE(committed);
    }
    auto again = open_sqlite_store(file());
    EXPECT_EQ(again->get(alice_bob), (relationship_state{.to = false, .from = false, .asked = true}));
    EXPECT_EQ(again->get(alice_carol), (relationship_state{.to = true, .from = true, .asked = false}));
    EXPECT_EQ(again->all().size(), 2u);
}

TEST_F(store_folder, a_state_without_relationship_deletes_the_row)
{
    {
        auto store = open_sqlite_store(file());
        store->put(alice_bob, {.to = true, .from = false, .asked = false});
        store->put(alice_bob, {});
        store->flush();
        EXPECT_FALSE(store->get(alice_bob).any());
    }
    EXPECT_TRUE(open_sqlite_store(file())->all().empty());
}

TEST_F(store_folder, completions_go_through_the_dispatcher)
{
    int dispatched = 0;
    std::vector<std::function<void()>> posted;
    auto store = open_sqlite_store(file(), [&](std::function<void()> f) {
        ++dispatched;
        posted.push_back(std::move(f));
    });
    bool ran = false;
    store->put(alice_bob, {.to = true, .from = false, .asked = false}, [&](std::string const&) { ran = true; });
    store->flush();
    EXPECT_EQ(dispatched, 1);
    EXPECT_FALSE(ran);  // not on the worker thread: on the caller's, when it runs what was posted
    posted.front()();
    EXPECT_TRUE(ran);
}

TEST_F(store_folder, undo_puts_memory_back_unless_it_changed_again)
{
    auto store = open_sqlite_store(file());
    relationship_state const asked{.to = false, .from = false, .asked = true};
    store->put(alice_bob, asked);
    store->undo(alice_bob, asked, {});  // that write failed: the invitation never happened
    EXPECT_FALSE(store->get(alice_bob).any());
    store->put(alice_bob, asked);
    store->put(alice_bob, {.to = true, .from = false, .asked = false});
    store->undo(alice_bob, asked, {});  // an older failure does not undo a newer state
    EXPECT_TRUE(store->get(alice_bob).to);
    store->flush();
}

TEST_F(store_folder, put_all_is_all_or_nothing)
{
    {
        auto store = open_sqlite_store(file());
        EXPECT_EQ(store->put_all({{alice_bob, {.to = true, .from = true, .asked = false}},
                                  {alice_carol, {.to = false, .from = false, .asked = true}}}),
                  "");
        EXPECT_TRUE(store->get(alice_carol).asked);
    }
    EXPECT_EQ(open_sqlite_store(file())->all().size(), 2u);
}

TEST_F(store_folder, a_corrupt_file_is_an_error_that_names_it_and_changes_nothing)
{
    {
        std::ofstream f{file()};
        f << "this is not a database, but it is somebody's data" << std::string(5000, 'x');
    }
    auto const size = fs::file_size(file());
    try {
        (void)open_sqlite_store(file());
        FAIL() << "a corrupt store was accepted";
    } catch (store_error const& e) {
        std::string what = e.what();
        EXPECT_NE(what.find(file().string()), std::string::npos) << what;
        EXPECT_NE(what.find("nothing was changed"), std::string::npos) << what;
    }
    EXPECT_EQ(fs::file_size(file()), size);
}

TEST_F(store_folder, a_state_directory_that_cannot_hold_the_store_is_an_error)
{
    // A file where the directory should be: unusable for root too, unlike
    // permissions, so this runs in CI as well.
    std::ofstream{dir_ / "state"} << "not a directory";
    try {
        (void)open_sqlite_store(dir_ / "state" / "relationships.sqlite3");
        FAIL() << "a store under a regular file was opened";
    } catch (store_error const& e) {
        EXPECT_NE(std::string{e.what()}.find("state directory"), std::string::npos) << e.what();
    }
}

TEST_F(store_folder, a_missing_state_directory_is_an_error_that_says_so)
{
    try {
        (void)open_sqlite_store(dir_ / "missing" / "relationships.sqlite3");
        FAIL();
    } catch (store_error const& e) {
        EXPECT_NE(std::string{e.what()}.find("state directory"), std::string::npos) << e.what();
    }
}

TEST_F(store_folder, a_store_from_a_newer_fedgate_is_refused)
{
    (void)open_sqlite_store(file());
    // Pretend a later version migrated it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    EXPECT_THROW((void)open_sqlite_store(file()), store_error);
}

}  // namespace
