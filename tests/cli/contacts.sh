#!/usr/bin/env bash
# `fedgate contacts`: import (CSV and JSON, all or nothing), list, show, export,
# and a round trip of export into a fresh store.
#   contacts.sh FEDGATE_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

bash "$src/scripts/make-demo-certs" "$work/certs" contoso.test >/dev/null
contacts_config "$work/a.toml" "$work/state-a"
contacts_config "$work/b.toml" "$work/state-b"

cat > "$work/bad.csv" <<CSV
local,remote,subscription
alice@contoso.test,bob@fabrikam.test,both
not a jid,bob@fabrikam.test
CSV
"$fedgate" contacts -c "$work/a.toml" import "$work/bad.csv" >"$work/out" 2>"$work/err"
check "a bad line fails the import" [ $? -eq 1 ]
check "the error names file and line" grep -q "bad.csv:3: local JID 'not a jid'" "$work/err"
"$fedgate" contacts -c "$work/a.toml" list >"$work/out" 2>"$work/err"
check "nothing was imported" [ ! -s "$work/out" ]
check "an empty store is said to be empty (on stderr)" grep -q "^the relationship store is empty" "$work/err"

cat > "$work/good.csv" <<CSV
# from the internal server's rosters
Alice@Contoso.test/desk,bob@fabrikam.test,both
alice@contoso.test,carol@fabrikam.test,asked
dave@contoso.test,bob@fabrikam.test
CSV
"$fedgate" contacts -c "$work/a.toml" import "$work/good.csv" >"$work/out" 2>"$work/err"
check "a good CSV imports" [ $? -eq 0 ]
check "it says how many" grep -q "imported 3 relationships (3 new)" "$work/out"
"$fedgate" contacts -c "$work/a.toml" show alice@contoso.test >"$work/out"
check "show: alice's two, normalised" [ "$(cat "$work/out")" = "$(printf 'alice@contoso.test\tbob@fabrikam.test\tboth\nalice@contoso.test\tcarol@fabrikam.test\tnone+asked')" ]
"$fedgate" contacts -c "$work/a.toml" export >"$work/export.json"
check "export is JSON" grep -q '"remote": "carol@fabrikam.test", "subscription": "none+asked"' "$work/export.json"
check "export: one object a line, in the store's order" [ "$(cat "$work/export.json")" = '[
 {"local": "alice@contoso.test", "remote": "bob@fabrikam.test", "subscription": "both"},
 {"local": "alice@contoso.test", "remote": "carol@fabrikam.test", "subscription": "none+asked"},
 {"local": "dave@contoso.test", "remote": "bob@fabrikam.test", "subscription": "both"}
]' ]
check "an empty store exports an empty array" [ "$("$fedgate" contacts -c "$work/b.toml" export)" = "$(printf '[\n]')" ]
"$fedgate" contacts -c "$work/b.toml" import "$work/export.json" >"$work/out" 2>"$work/err"
check "the export imports into a fresh store" [ $? -eq 0 ]
check "-c after the action as well" [ "$("$fedgate" contacts list -c "$work/a.toml")" = "$("$fedgate" contacts -c "$work/a.toml" list)" ]
check "the round trip keeps everything" [ "$("$fedgate" contacts -c "$work/a.toml" list)" = "$("$fedgate" contacts -c "$work/b.toml" list)" ]
# JSON as other tools write it: \u escapes decoded, anything else refused.
printf '[{"local": "caf\\u00e9@contoso.test", "remote": "bob@fabrikam.test", "subscription": "to"}]' > "$work/escaped.json"
"$fedgate" contacts -c "$work/b.toml" import "$work/escaped.json" >"$work/out" 2>"$work/err"
check "a \\u escape imports" [ $? -eq 0 ]
check "as the character it stands for" grep -q "$(printf 'caf\xc3\xa9@contoso.test')" <("$fedgate" contacts -c "$work/b.toml" list)
printf '[{"local": "bob\\q@contoso.test", "remote": "bob@fabrikam.test"}]' > "$work/bad-escape.json"
"$fedgate" contacts -c "$work/b.toml" import "$work/bad-escape.json" >"$work/out" 2>"$work/err"
check "an unknown escape is refused" [ $? -eq 1 ]
printf '[{"local": "alice@contoso.test", "remote": "bob@fabrikam.test"},]' > "$work/trailing-comma.json"
"$fedgate" contacts -c "$work/b.toml" import "$work/trailing-comma.json" >"$work/out" 2>"$work/err"
check "a trailing comma is refused" [ $? -eq 1 ]
check "with the file and the byte offset" grep -q "trailing-comma.json: offset [0-9][0-9]*: " "$work/err"
printf '[{"local": "alice@contoso.test", "remote": "bob@fabrikam.test"},\n {"local": "erin", "remote": "bob@fabrikam.test"}]' > "$work/bad-entry.json"
"$fedgate" contacts -c "$work/b.toml" import "$work/bad-entry.json" >"$work/out" 2>"$work/err"
check "a bad entry fails the JSON import" [ $? -eq 1 ]
check "the error names file and entry" grep -q "bad-entry.json: entry 2: local JID 'erin'" "$work/err"
check "and says nothing was imported" grep -q "bad-entry.json: nothing was imported" "$work/err"
printf '[{"local": "alice@contoso.test", "remote": "bob@fabrikam.test"},\n {"local": "erin@contoso.test", "remote": 7}]' > "$work/number.json"
"$fedgate" contacts -c "$work/b.toml" import "$work/number.json" >"$work/out" 2>"$work/err"
check "a value that is not a string is refused" [ $? -eq 1 ]
check "naming the entry and the key" grep -q 'number.json: entry 2: "remote" is not a string' "$work/err"

echo "garbage" > "$work/state-b/relationships.sqlite3"
"$fedgate" contacts -c "$work/b.toml" list >"$work/out" 2>"$work/err"
check "a corrupt store is an error" [ $? -eq 1 ]
check "that names the file" grep -q "state-b/relationships.sqlite3" "$work/err"
check "and leaves it alone" [ "$(cat "$work/state-b/relationships.sqlite3")" = "garbage" ]

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
echo "all passed"
