#!/usr/bin/env bash
# Two fedgate instances behind one SRV record, sharing one PostgreSQL (issue 19
# §3), between real servers: contoso.test's internal Prosody knows fabrikam.test
# as a XEP-0114 component, and its SRV record names instance A first
# (i1.contoso.test, 127.0.0.11) and instance B second (i2.contoso.test,
# 127.0.0.12); fabrikam.test is a real Prosody, a public_unverified partner.
# Prosody 0.12 takes one connection per component (a second gets <conflict/>):
# in component mode one instance carries the internal leg and the other stands
# by, trying again every second, until the first is gone.
#
#   1. hana invites ivan (offline) through A: committed in PostgreSQL, heard by B.
#   2. PostgreSQL stopped: alice invites bob (offline); the invitation waits, and
#      leaves once PostgreSQL is back; both instances report the outage.
#   3. A killed (SIGKILL): B takes the component link over; ivan and bob log in,
#      their answers reach B (A's address refuses, fabrikam's Prosody takes the
#      next SRV target), B lets them in by A's invitations, and hana and alice
#      are subscribed: no committed invitation was lost.
#
# Needs root (network namespaces) and Debian's postgresql-15 binaries.
# FEDGATE_BINARY names the binary; logs stay in $FEDGATE_LAB_DIR.
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then echo "skipped: no postgresql-15 binaries"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
fedgate=${FEDGATE_BINARY:-$here/../../build/daemon/fedgate}
pg_cluster="$here/../../scripts/pg-test-cluster"
. "$here/lab.sh"
work=${FEDGATE_LAB_DIR:-$PWD/fedgate-instances-lab}
rm -rf "$work" && mkdir -p "$work"
client="$here/xmpp_client.py"
trap 'lab_exec bash "$pg_cluster" destroy "$work/pg" >/dev/null 2>&1; lab_down; echo "logs: $work"' EXIT

fail() {
  echo "FAIL: $*"
  for f in "$work"/fedgate-*.log "$work"/*/prosody.log; do
    [ -f "$f" ] && { echo "== $f"; tail -25 "$f"; }
  done
  exit 1
}

# wait_for FILE PATTERN SECONDS: until a line of FILE matches PATTERN (grep -E).
wait_for() {
  for _ in $(seq $(($3 * 10))); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# client_bg NAME MODE JID PASSWORD ADDRESS [ARGS...]: a client in the background,
# its output in $work/NAME.out; its PID in $client_pid.
client_bg() {
  local name=$1 mode=$2 jid=$3 password=$4 address=$5; shift 5
  XMPP_CLIENT_TIMEOUT=120 lab_exec /usr/bin/python3 "$client" "$mode" "$jid" "$password" "$address" \
    "$work/pki/ca.crt" "$@" > "$work/$name.out" 2>"$work/$name.err" &
  client_pid=$!
}

lab_up "$work" contoso.test=127.0.0.11,127.0.0.12 fabrikam.test=127.0.0.20 || fail "lab did not come up"
lab_internal_prosody contoso contoso.test fabrikam.test || fail "internal Prosody did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
for user in alice hana; do lab_register contoso $user contoso.test ${user}pass >/dev/null 2>&1; done
for user in bob ivan; do lab_register fabrikam $user fabrikam.test ${user}pass >/dev/null 2>&1; done

# PostgreSQL inside the lab (its own loopback), as an unprivileged user.
lab_exec bash "$pg_cluster" start "$work/pg" 5432 > "$work/store.conninfo" || fail "PostgreSQL did not start"
chmod 600 "$work/store.conninfo"

store=$(printf '[store]\nbackend = "postgresql"\nconninfo_file = "%s"\nwrite_deadline_seconds = 30\n' \
  "$work/store.conninfo")
partners="$(lab_partner fabrikam.test required required false public_unverified)"
lab_fedgate_config "$work/fedgate-a.toml" contoso.test 127.0.0.11 "$partners
$store"
lab_fedgate_config "$work/fedgate-b.toml" contoso.test 127.0.0.12 "$partners
$store"

lab_fedgate "$fedgate" "$work/fedgate-a.toml" "$work/fedgate-a.log" || fail "instance A did not start"
pid_a=$LAB_FEDGATE_PID
# B: up and ready, its component link refused while A holds it. Started by
# `ip netns exec` itself (not the lab_exec function, which would put a subshell
# between): $! is fedgate's own PID, for the SIGTERM at the end.
ip netns exec "$LAB_NS" "$fedgate" run -c "$work/fedgate-b.toml" > "$work/fedgate-b.log" 2>&1 &
pid_b=$!
echo "$pid_b" >> "$work/pids"
wait_for "$work/fedgate-b.log" " ready$" 20 || fail "instance B did not become ready"
wait_for "$work/contoso/prosody.log" "Second component attempted to connect" 20 ||
  fail "the internal Prosody did not refuse B's component link while A held it"
wait_for "$work/fedgate-b.log" "link fabrikam.test: standing by: the internal server has another connection" 5 ||
  fail "B did not say that it stands by"
echo "   B ready; its component link refused while A holds fabrikam.test's"

# 1. hana invites ivan (offline) through A; B hears of it.
client_bg hana subscribe hana@contoso.test hanapass 127.0.0.10 ivan@fabrikam.test
hana=$client_pid
invitation='relationship hana@contoso.test ~ ivan@fabrikam.test: to=false from=false asked=true \(committed\)'
wait_for "$work/fedgate-a.log" "$invitation" 20 || fail "A did not commit hana's invitation"
echo "   hana's invitation of ivan committed by A"

# 2. PostgreSQL stopped: alice's invitation of bob waits for it.
lab_exec bash "$pg_cluster" stop "$work/pg"
heard_outage="relationship store: stopped hearing of other instances' changes"
wait_for "$work/fedgate-a.log" "$heard_outage" 20 || fail "A did not report the outage"
wait_for "$work/fedgate-b.log" "$heard_outage" 20 || fail "B did not report the outage"
client_bg alice subscribe alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test
alice=$client_pid
wait_for "$work/fedgate-a.log" "relationship store: lost the connection .*; writes wait" 20 ||
  fail "A did not say that alice's invitation waits for PostgreSQL"
sleep 2
grep -q "relationship alice@contoso.test ~ bob@fabrikam.test" "$work/fedgate-a.log" &&
  fail "alice's invitation was recorded while PostgreSQL was down"
lab_exec bash "$pg_cluster" start "$work/pg" > /dev/null || fail "PostgreSQL did not start again"
wait_for "$work/fedgate-a.log" \
  'relationship alice@contoso.test ~ bob@fabrikam.test: to=false from=false asked=true \(committed\)' 30 ||
  fail "alice's invitation was not committed once PostgreSQL was back"
heard_again="relationship store: hearing of other instances' changes from .* again"
wait_for "$work/fedgate-a.log" "relationship store: connected to .* again" 20 || fail "A did not report the reconnection"
wait_for "$work/fedgate-a.log" "$heard_again" 20 || fail "A did not hear of others' changes again"
wait_for "$work/fedgate-b.log" "$heard_again" 20 || fail "B did not hear of others' changes again"
echo "   PostgreSQL stopped and started: alice's invitation of bob waited, then was committed; both reported it"

# 3. A killed: B takes over the internal leg and the partner's stream.
kill -KILL "$pid_a"; wait "$pid_a" 2>/dev/null
killed_at=$(date +%s.%N)
wait_for "$work/fedgate-b.log" "component link for fabrikam.test ready" 60 ||
  fail "B did not take over fabrikam.test's component link"
grep -q "link fabrikam.test: .* no longer standing by" "$work/fedgate-b.log" || fail "B did not say it took over"
took=$(awk -v a="$killed_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "   A killed; B's component link up ${took} s later"
client_bg ivan accept ivan@fabrikam.test ivanpass 127.0.0.20
ivan=$client_pid
client_bg bob accept bob@fabrikam.test bobpass 127.0.0.20
bob=$client_pid
for who in hana alice ivan bob; do
  wait "${!who}" || fail "$who: $(tail -1 "$work/$who.out")"
done
[ "$(tail -1 "$work/hana.out")" = "subscribed, and presence received from ivan@fabrikam.test" ] ||
  fail "hana got '$(tail -1 "$work/hana.out")'"
[ "$(tail -1 "$work/alice.out")" = "subscribed, and presence received from bob@fabrikam.test" ] ||
  fail "alice got '$(tail -1 "$work/alice.out")'"
grep -q "fabrikam.test -> contoso.test authenticated by SASL over TLS" "$work/fedgate-b.log" ||
  fail "the partner's answers did not come in through B"
grep -qE "refused presence (subscribed|subscribe) from (ivan|bob)@fabrikam.test" "$work/fedgate-b.log" &&
  fail "B refused an answer to an invitation A had committed"
echo "   ivan's and bob's answers came in through B: hana and alice subscribed"
kill -TERM "$pid_b"; wait "$pid_b" || fail "B did not exit 0 on SIGTERM"
echo "ok: two instances behind one SRV, one PostgreSQL: invitations through A answered through B after A was killed; PostgreSQL stopped mid-way lost nothing"
