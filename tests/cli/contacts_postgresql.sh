#!/usr/bin/env bash
# `fedgate contacts` against the PostgreSQL store: `migrate` copies state_dir's
# SQLite store into it (in one transaction; again is harmless), then list,
# show and import work on it as on SQLite. A PostgreSQL server of the test's
# own (scripts/pg-test-cluster).
#   contacts_postgresql.sh FEDGATE_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
trap '"$src/scripts/pg-test-cluster" destroy "$work/pg"; rm -rf "$work"' EXIT
conninfo=$("$src/scripts/pg-test-cluster" start "$work/pg" 0) || { echo "FAIL: no PostgreSQL"; exit 1; }
printf '%s\n' "$conninfo" > "$work/store.conninfo"
chmod 600 "$work/store.conninfo"

bash "$src/scripts/make-demo-certs" "$work/certs" contoso.test >/dev/null
contacts_config "$work/sqlite.toml" "$work/state"
contacts_config "$work/pg.toml" "$work/state" "$(printf '[store]\nbackend = "postgresql"\nconninfo_file = "store.conninfo"\n')"

printf '%s\n' "alice@contoso.test,bob@fabrikam.test,both" "alice@contoso.test,carol@fabrikam.test,to" \
  "hana@contoso.test,ivan@fabrikam.test,asked" > "$work/roster.csv"
"$fedgate" contacts -c "$work/sqlite.toml" import "$work/roster.csv" >/dev/null
check "three relationships in the SQLite store" [ "$("$fedgate" contacts -c "$work/sqlite.toml" list | wc -l)" -eq 3 ]

"$fedgate" contacts -c "$work/sqlite.toml" migrate >"$work/out" 2>"$work/err"
check "migrate needs backend = postgresql" [ $? -eq 1 ]
check "and says so" grep -q 'set backend = "postgresql"' "$work/err"

"$fedgate" contacts -c "$work/pg.toml" migrate >"$work/out" 2>"$work/err"
check "migrate exits 0" [ $? -eq 0 ]
check "migrate says what it copied" grep -q "copied 3 relationships from .*relationships.sqlite3 into PostgreSQL database fedgate" "$work/out"
"$fedgate" contacts -c "$work/sqlite.toml" list > "$work/sqlite.list"
"$fedgate" contacts -c "$work/pg.toml" list > "$work/pg.list"
check "PostgreSQL holds what SQLite held" diff "$work/sqlite.list" "$work/pg.list"
"$fedgate" contacts -c "$work/pg.toml" migrate >"$work/out" 2>"$work/err"
check "again: refused, the store is not empty" [ $? -eq 1 ]
check "and says why" grep -q "already holds 3 relationships; migrate copies into an empty store only" "$work/err"
check "show on PostgreSQL" grep -q "carol@fabrikam.test" <("$fedgate" contacts -c "$work/pg.toml" show alice@contoso.test)
printf '%s\n' "dave@contoso.test,erin@fabrikam.test,from" > "$work/more.csv"
"$fedgate" contacts -c "$work/pg.toml" import "$work/more.csv" >"$work/out"
check "import into PostgreSQL" grep -q "imported 1 relationships (1 new) into PostgreSQL database fedgate" "$work/out"
check "four there now" [ "$("$fedgate" contacts -c "$work/pg.toml" list | wc -l)" -eq 4 ]

echo "$failures failed"
[ "$failures" -eq 0 ]
