// The memory of a shared relationship store, without a database: changes put
// in order by their revisions, so that an announcement that arrives late, or
// while a write of ours is on its way, never undoes a newer change.
#include "contacts/shared_cache.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fedgate::contacts;

relationship const alice_bob{"alice@contoso.test", "bob@fabrikam.test"};
relationship_state const invited{.to = false, .from = false, .asked = true};
relationship_state const both{.to = true, .from = true, .asked = false};

TEST(shared_cache, an_older_announcement_arriving_late_changes_nothing)
{
    shared_cache cache;
    cache.put(alice_bob, invited);
    cache.written(alice_bob, 11);
    cache.heard({alice_bob, both, 10});  // committed before ours, heard after
    EXPECT_EQ(cache.get(alice_bob), invited);
    cache.heard({alice_bob, both, 12});  // after ours
    EXPECT_EQ(cache.get(alice_bob), both);
}

TEST(shared_cache, what_is_heard_while_ours_is_on_its_way_waits_for_it_and_wins_only_if_newer)
{
    shared_cache older;
    older.put(alice_bob, invited);
    older.heard({alice_bob, both, 10});
    EXPECT_EQ(older.get(alice_bob), invited) << "ours is the latest word until it is durable";
    older.written(alice_bob, 11);
    EXPECT_EQ(older.get(alice_bob), invited);

    shared_cache newer;
    newer.put(alice_bob, invited);
    newer.heard({alice_bob, both, 12});
    newer.written(alice_bob, 11);
    EXPECT_EQ(newer.get(alice_bob), both);

    shared_cache failed;  // ours failed: theirs stands, and the undo finds nothing of ours to undo
    failed.put(alice_bob, invited);
    failed.heard({alice_bob, both, 12});
    failed.written(alice_bob, std::nullopt);
    failed.undo(alice_bob, invited, {});
    EXPECT_EQ(failed.get(alice_bob), both);
}

TEST(shared_cache, a_deletion_is_remembered_so_that_the_change_before_it_stays_deleted)
{
    shared_cache cache;
    cache.load({{alice_bob, both, 5}});
    cache.heard({alice_bob, {}, 7});
    EXPECT_FALSE(cache.get(alice_bob).any());
    cache.heard({alice_bob, both, 6});
    EXPECT_FALSE(cache.get(alice_bob).any());
}

TEST(shared_cache, a_reload_takes_what_is_newer_and_keeps_what_came_after_it)
{
    relationship const alice_carol{"alice@contoso.test", "carol@fabrikam.test"};
    relationship const alice_dave{"alice@contoso.test", "dave@fabrikam.test"};
    shared_cache cache;
    cache.load({{alice_bob, both, 3}, {alice_carol, both, 4}});
    cache.heard({alice_dave, invited, 20});  // made after the rows below were read: not among them
    cache.put(alice_carol, invited);         // ours, on its way
    cache.reload({{alice_bob, {}, 9}, {alice_carol, both, 4}});  // bob's was deleted meanwhile (a tombstone)
    EXPECT_FALSE(cache.get(alice_bob).any());
    EXPECT_EQ(cache.get(alice_carol), invited) << "ours is on its way";
    EXPECT_EQ(cache.get(alice_dave), invited) << "newer than what was read";
    cache.written(alice_carol, 21);
    EXPECT_EQ(cache.get(alice_carol), invited);
}

TEST(shared_cache, an_undo_after_a_failure_leaves_what_another_instance_wrote_meanwhile)
{
    // The same state as ours, from another instance, heard while ours was on
    // its way; ours fails: the database has theirs, so the undo changes nothing.
    shared_cache cache;
    cache.put(alice_bob, invited);
    cache.heard({alice_bob, invited, 7});
    cache.written(alice_bob, std::nullopt);
    cache.undo(alice_bob, invited, {});
    EXPECT_EQ(cache.get(alice_bob), invited);
    // A later failure of ours with nobody else writing is undone as before.
    cache.put(alice_bob, both);
    cache.written(alice_bob, std::nullopt);
    cache.undo(alice_bob, both, invited);
    EXPECT_EQ(cache.get(alice_bob), invited);
}

}  // namespace
