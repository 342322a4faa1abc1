#!/usr/bin/env bash
# fedgate in s2s mode ([internal] mode = "s2s", issue 22): in the lab namespace,
# contoso.test is an internal Prosody that federates over S2S, and its DNS (the
# internal view) gives fedgate's internal address 127.0.0.12 for the remote
# domains; fedgate is contoso.test's public S2S edge at 127.0.0.11. On the
# internal leg fedgate speaks for fabrikam.test: it answers Prosody's db:verify
# for it, verifies Prosody's dialback keys with Prosody, and opens streams to
# Prosody from fabrikam.test. fabrikam.test is a real Prosody partner; adatum.test
# a real Prosody that fedgate does not list; northwind.test a real ejabberd 23.01
# partner. Real clients (slixmpp) on both sides. Open federation, with the same
# lab, is fedgate_open_federation.sh.
# Scenarios (arguments select some; default all):
#   message     a message and its reply, each way (internal leg: Prosody by SASL
#               EXTERNAL, fedgate by dialback with itself as the authority)
#   ejabberd    the same with an ejabberd partner, northwind.test
#   dialback    Prosody's S2S certificate untrusted: dialback both ways on the internal leg
#   presence    presence subscription both ways
#   unverified  public_unverified: refused until the local user invited the remote one
#   refused     adatum.test, not a partner: refused at fedgate, both ways
#   stranger    a connection to the internal listener from outside allowed_addresses is refused
#   restart     the internal Prosody killed and started again
#   reload      a partner removed by SIGHUP: the internal leg's streams for it end
# Needs root (network namespaces); FEDGATE_BINARY names the binary; the
# configurations and logs stay in $FEDGATE_LAB_DIR (default ./fedgate-internal-s2s-lab).
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
fedgate=${FEDGATE_BINARY:-$here/../../build/daemon/fedgate}
. "$here/lab.sh"
lab_scenario_run "${FEDGATE_LAB_DIR:-$PWD/fedgate-internal-s2s-lab}"
scenarios=("$@")

export LAB_FEDGATE_INTERNAL=127.0.0.12
lab_up "$work" contoso.test=127.0.0.11 fabrikam.test=127.0.0.20 northwind.test=127.0.0.30 adatum.test=127.0.0.50 ||
  fail "lab did not come up"
# The internal server's DNS sends every remote domain it may write to, listed or
# not, to fedgate: nothing leaves contoso.test's network around it.
lab_internal_view "$LAB_FEDGATE_INTERNAL" fabrikam.test northwind.test adatum.test || fail "the internal view did not start"
lab_internal_prosody_s2s contoso contoso.test || fail "internal Prosody did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
lab_prosody adatum adatum.test 127.0.0.50 || fail "adatum Prosody did not start"
lab_ejabberd northwind northwind.test 127.0.0.30 || fail "northwind ejabberd did not start"
lab_ejabberd_register northwind carol northwind.test carolpass >/dev/null || fail "cannot register carol"
for user in alice hana; do lab_register contoso "$user" contoso.test "${user}pass" >/dev/null 2>&1; done
lab_register fabrikam bob fabrikam.test bobpass >/dev/null 2>&1
lab_register fabrikam ivan fabrikam.test ivanpass >/dev/null 2>&1
lab_register adatum erin adatum.test erinpass >/dev/null 2>&1

# 1. A message and its reply, each way: bob writes first, then alice. The
# partner side is SASL EXTERNAL both ways. On the internal leg Prosody's
# certificate is valid for contoso.test, so it authenticates by SASL EXTERNAL;
# fedgate has no certificate for fabrikam.test, so Prosody verifies our dialback
# key with fedgate itself (its DNS view sends it to the internal listener).
if wanted message; then
start_fedgate message "$(lab_partner fabrikam.test required required false)"
reply=$(lab_round_trip bob-first bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from bob-first" ] || fail "message: bob got '$reply' instead of alice's echo"
grep -q "hello from bob-first" "$work/echo-bob-first.out" || fail "message: alice did not receive bob's message"
reply=$(lab_round_trip alice-first alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test bobpass 127.0.0.20)
[ "$reply" = "echo: hello from alice-first" ] || fail "message: alice got '$reply' instead of bob's echo"
log="$work/fedgate-message.log"
grep -q "fabrikam.test -> contoso.test authenticated by SASL over TLS" "$log" || fail "message: fabrikam's stream did not use SASL"
grep -q "contoso.test -> fabrikam.test authenticated by SASL over TLS" "$log" || fail "message: our stream to fabrikam did not use SASL"
grep -q "fabrikam.test -> contoso.test (to the internal server)" "$log" || fail "message: no S2S link to the internal server"
grep -q "fabrikam.test -> contoso.test authenticated by TLS dialback" "$log" ||
  fail "message: our stream to Prosody was not authenticated by dialback"
grep -q "internal server contoso.test -> fabrikam.test authenticated by SASL over TLS" "$log" ||
  fail "message: Prosody's stream to fedgate did not use SASL EXTERNAL"
scenario "a message and its reply each way between alice (internal Prosody over S2S) and bob (Prosody partner)"
fi

# 1b. The same with an ejabberd 23.01 partner, each way.
if wanted ejabberd; then
start_fedgate ejabberd "$(lab_partner fabrikam.test required required false; lab_partner northwind.test required optional true)"
reply=$(lab_round_trip carol-first carol@northwind.test carolpass 127.0.0.30 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from carol-first" ] || fail "ejabberd: carol got '$reply' instead of alice's echo"
reply=$(lab_round_trip alice-to-carol alice@contoso.test alicepass 127.0.0.10 carol@northwind.test carolpass 127.0.0.30)
[ "$reply" = "echo: hello from alice-to-carol" ] || fail "ejabberd: alice got '$reply' instead of carol's echo"
grep -q "northwind.test -> contoso.test (to the internal server)" "$work/fedgate-ejabberd.log" ||
  fail "ejabberd: no S2S link to the internal server for northwind.test"
scenario "a message and its reply each way between alice (internal Prosody over S2S) and carol (ejabberd partner)"
fi

# 2. The internal leg by dialback both ways: Prosody restarts with an S2S
# certificate of another CA, which fedgate does not trust, so it authenticates
# its streams by dialback, and fedgate verifies Prosody's keys with Prosody
# (db:verify on a stream to [internal] host), as Prosody verifies fedgate's with
# fedgate. Prosody keeps that certificate for the scenarios after this one.
if wanted dialback; then
bash "$here/../../scripts/make-demo-certs" --no-xmpp-addr "$work/pki-other" contoso.test >/dev/null
lab_kill contoso
LAB_PROSODY_HOST_CONFIG="  s2s_ssl = { certificate = \"$work/pki-other/contoso.test.crt\", key = \"$work/pki-other/contoso.test.key\" }" \
  lab_internal_prosody_s2s contoso contoso.test || fail "dialback: Prosody did not restart"
start_fedgate dialback "$(lab_partner fabrikam.test required required false)"
reply=$(lab_round_trip alice-dialback alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test bobpass 127.0.0.20)
[ "$reply" = "echo: hello from alice-dialback" ] || fail "dialback: alice got '$reply' instead of bob's echo"
log="$work/fedgate-dialback.log"
grep -q "verifying the internal server's dialback key for contoso.test -> fabrikam.test with it" "$log" ||
  fail "dialback: fedgate did not verify Prosody's key with Prosody"
grep -q "fabrikam.test -> contoso.test (to the internal server) (dialback verification)" "$log" ||
  fail "dialback: no verification stream to the internal server"
grep -q "dialback verification of contoso.test for fabrikam.test: valid" "$log" ||
  fail "dialback: Prosody did not confirm its key"
grep -q "internal server contoso.test -> fabrikam.test authenticated by TLS dialback" "$log" ||
  fail "dialback: Prosody's stream to fedgate was not authenticated by dialback"
grep -q "fabrikam.test -> contoso.test authenticated by TLS dialback" "$log" ||
  fail "dialback: our stream to Prosody was not authenticated by dialback"
scenario "the internal leg by dialback both ways: each side verified the other's key with its authority"
fi

# 3. Presence subscription both ways: bob asks alice, then hana asks ivan.
if wanted presence; then
start_fedgate presence "$(lab_partner fabrikam.test required required false)"
subscription bob-asks bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10
subscription hana-asks hana@contoso.test hanapass 127.0.0.10 ivan@fabrikam.test ivanpass 127.0.0.20
scenario "presence subscription both ways: bob (partner) asked alice, hana (internal, over S2S) asked ivan"
fi

# 4. A public_unverified partner: lena's request nobody invited is refused (kai
# never sees it); once kai invites lena, it works both ways.
if wanted unverified; then
start_fedgate unverified "$(lab_partner fabrikam.test required required false public_unverified)"
lab_register contoso kai contoso.test kaipass >/dev/null 2>&1
lab_register fabrikam lena fabrikam.test lenapass >/dev/null 2>&1
lab_unverified_checks
scenario "public_unverified fabrikam: lena refused (presence and message) until kai (internal, over S2S) invited her"
fi

# 5. adatum.test is not a partner: its stream to fedgate is refused (erin's
# message bounces), and alice's message to erin, which the internal view sends
# to fedgate, is refused there: nothing reaches adatum.test.
if wanted refused; then
start_fedgate refused "$(lab_partner fabrikam.test required required false)"
reply=$(run_client send erin@adatum.test erinpass 127.0.0.50 alice@contoso.test "hello from erin")
case "$reply" in error:*) ;; *) fail "refused: erin expected an error bounce, got '$reply'" ;; esac
grep -q "adatum.test is not a federation partner" "$work/fedgate-refused.log" ||
  fail "refused: adatum.test was not refused as a non-partner"
echo "   erin@adatum.test -> alice: $reply"
reply=$(run_client send alice@contoso.test alicepass 127.0.0.10 erin@adatum.test "hello to erin")
case "$reply" in error:*) ;; *) fail "refused: alice expected an error bounce, got '$reply'" ;; esac
grep -qE "internal-in#[0-9]+ .* closed: host-unknown: 'adatum.test' is not a domain served here" \
  "$work/fedgate-refused.log" || fail "refused: fedgate did not refuse Prosody's stream for adatum.test"
grep -q "Incoming s2s connection" "$work/adatum/prosody.log" &&
  fail "refused: something in contoso.test's network reached adatum.test"
echo "   alice -> erin@adatum.test: $reply"
reply=$(lab_round_trip bob-alongside bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from bob-alongside" ] || fail "refused: bob got '$reply' alongside"
scenario "refused: adatum.test (not listed) refused by fedgate both ways; fabrikam served alongside"
fi

# 6. The internal listener takes only [internal] allowed_addresses: a fedgate
# whose list names another network refuses Prosody's connection, logged.
if wanted stranger; then
start_fedgate stranger "$(lab_partner fabrikam.test required required false)"
sed -i 's|^allowed_addresses = .*|allowed_addresses = ["192.0.2.0/24"]|' "$work/fedgate-stranger.toml"
stop_fedgate
lab_fedgate "$fedgate" "$work/fedgate-stranger.toml" "$work/fedgate-stranger.log" || fail "stranger: fedgate did not start"
fedgate_pid=$LAB_FEDGATE_PID
reply=$(XMPP_CLIENT_TIMEOUT=20 run_client send alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test "hello past the list")
case "$reply" in error:*|timeout) ;; *) fail "stranger: alice's message got '$reply'" ;; esac
grep -q "internal listener: connection from 127.0.0.1 refused: not in \[internal\] allowed_addresses" \
  "$work/fedgate-stranger.log" || fail "stranger: no refusal logged"
scenario "the internal listener refused a peer outside allowed_addresses ($reply)"
fi

# 7. The internal server restarts: while it is away, bob's message waits (his
# stream paused) and is bounced with remote-server-timeout at the delivery
# deadline; once it is back (its own stream to fedgate says so), the link
# reconnects at once rather than at its backoff's next attempt, and messages
# cross both ways.
if wanted restart; then
start_fedgate restart "$(lab_partner fabrikam.test required required false
                         printf '[limits]\ndelivery_deadline_seconds = 4\n')"
reply=$(lab_round_trip before-restart bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from before-restart" ] || fail "restart: bob got '$reply' before the restart"
lab_kill contoso
log="$work/fedgate-restart.log"
for _ in $(seq 100); do grep -q "fabrikam.test -> contoso.test closed" "$log" && break; sleep 0.1; done
reply=$(XMPP_CLIENT_TIMEOUT=20 run_client send bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test "hello while away")
echo "   bob -> alice while Prosody is down: $reply"
[ "$reply" = "error: remote-server-timeout" ] || fail "restart: bob got '$reply' while Prosody was down"
lab_internal_prosody_s2s contoso contoso.test || fail "restart: Prosody did not start again"
# alice writes first: Prosody's stream to fedgate tells fedgate it is back, and
# bob's echo does not wait for the link's backoff (up to 30 s; the deadline is 4 s).
reply=$(lab_round_trip after-restart alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test bobpass 127.0.0.20)
[ "$reply" = "echo: hello from after-restart" ] || fail "restart: alice got '$reply' after the restart"
reply=$(lab_round_trip bob-after-restart bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from bob-after-restart" ] || fail "restart: bob got '$reply' after the restart"
stop_fedgate || fail "restart: fedgate did not exit 0 on SIGTERM"
summary=$(grep -o "stopped cleanly: .*" "$log")
echo "   fedgate: $summary"
# At least bob's message bounced (presence of the earlier scenarios' rosters may
# have waited too); nothing is possibly lost.
echo "$summary" | grep -qE "; [1-9][0-9]* bounced, 0 possibly lost" || fail "restart: $summary"
scenario "Prosody (internal) killed and started again: the message sent meanwhile bounced at the deadline, the next one crossed"
fi

# 8. A reload that removes fabrikam.test: the internal leg's streams for it end
# (ours with <host-gone/>, Prosody's too), and alice's next message to bob is
# refused on the internal listener; northwind, added, crosses at once.
if wanted reload; then
start_fedgate reload "$(lab_partner fabrikam.test required required false)"
reply=$(lab_round_trip before-reload bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from before-reload" ] || fail "reload: bob got '$reply' before the reload"
config="$work/fedgate-reload.toml"
python3 - "$config" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = text.replace('domain = "fabrikam.test"', 'domain = "northwind.test"').replace('sasl = "required"\ndialback = false', 'sasl = "optional"\ndialback = true')
open(sys.argv[1], "w").write(text)
PY
log="$work/fedgate-reload.log"
kill -HUP "$fedgate_pid"
for _ in $(seq 100); do grep -q "reloaded:" "$log" && break; sleep 0.1; done
grep -q "reloaded: partner domains added: northwind.test; removed: fabrikam.test" "$log" ||
  fail "reload: fedgate did not reload as expected: $(grep reloaded "$log")"
for _ in $(seq 50); do grep -q "fabrikam.test -> contoso.test closed" "$log" && break; sleep 0.1; done
grep -qE "fabrikam.test -> contoso.test closed.*fabrikam.test is no longer a federation partner" "$log" ||
  fail "reload: our stream to Prosody for fabrikam.test did not end"
reply=$(run_client send alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test "hello after the reload")
case "$reply" in error:*) ;; *) fail "reload: alice's message to the removed partner got '$reply'" ;; esac
echo "   alice -> bob@fabrikam.test after the reload: $reply"
reply=$(lab_round_trip after-reload carol@northwind.test carolpass 127.0.0.30 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from after-reload" ] || fail "reload: carol got '$reply' after northwind was added"
scenario "SIGHUP removed fabrikam (its internal-leg streams ended, alice's message refused) and added northwind"
fi

echo "$passed scenarios passed"
