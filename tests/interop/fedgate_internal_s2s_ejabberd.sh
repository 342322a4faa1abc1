#!/usr/bin/env bash
# fedgate in s2s mode ([internal] mode = "s2s", issue 22) in front of ejabberd
# 23.01, as fedgate_internal_s2s.sh is in front of Prosody: in the lab namespace,
# contoso.test is an internal ejabberd that federates over S2S, and its DNS (the
# internal view, which ejabberd's inet_res asks) gives fedgate's internal address
# 127.0.0.12 for the remote domains; fedgate is contoso.test's public S2S edge at
# 127.0.0.11. fabrikam.test is a real Prosody partner; adatum.test a real Prosody
# that fedgate does not list. Real clients (slixmpp) on both sides.
# Scenarios (arguments select some; default all):
#   message     a message and its reply, each way (internal leg: ejabberd by SASL
#               EXTERNAL, fedgate by dialback, ejabberd verifying the key with fedgate)
#   dialback    ejabberd's certificate untrusted: dialback both ways on the internal leg
#   presence    presence subscription both ways
#   unverified  public_unverified: refused until the local user invited the remote one
#   refused     adatum.test, not a partner: refused at fedgate, both ways
# Needs root (network namespaces); FEDGATE_BINARY names the binary; the
# configurations and logs stay in $FEDGATE_LAB_DIR (default ./fedgate-internal-s2s-ejabberd-lab).
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
fedgate=${FEDGATE_BINARY:-$here/../../build/daemon/fedgate}
. "$here/lab.sh"
lab_scenario_run "${FEDGATE_LAB_DIR:-$PWD/fedgate-internal-s2s-ejabberd-lab}"
scenarios=("$@")

export LAB_FEDGATE_INTERNAL=127.0.0.12
lab_up "$work" contoso.test=127.0.0.11 fabrikam.test=127.0.0.20 adatum.test=127.0.0.50 || fail "lab did not come up"
lab_internal_view "$LAB_FEDGATE_INTERNAL" fabrikam.test adatum.test || fail "the internal view did not start"
lab_internal_ejabberd_s2s contoso contoso.test || fail "internal ejabberd did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
lab_prosody adatum adatum.test 127.0.0.50 || fail "adatum Prosody did not start"
for user in alice hana kai; do
  lab_ejabberd_register contoso "$user" contoso.test "${user}pass" >/dev/null || fail "cannot register $user"
done
for user in bob ivan lena; do lab_register fabrikam "$user" fabrikam.test "${user}pass" >/dev/null 2>&1; done
lab_register adatum erin adatum.test erinpass >/dev/null 2>&1
# The clients' CA file: the lab's CA, and from the dialback scenario on the CA of
# ejabberd's certificate too.
export LAB_CLIENT_CA="$work/clients-ca.crt"
cp "$work/pki/ca.crt" "$LAB_CLIENT_CA"

# ejabberd_logged SINCE TEXT: ejabberd's log says TEXT after its first SINCE lines
# (its logger writes a moment after the fact: waits up to 5 s).
ejabberd_logged() {
  for _ in $(seq 50); do
    tail -n +"$(($1 + 1))" "$work/contoso/logs/ejabberd.log" | grep -qF "$2" && return 0
    sleep 0.1
  done
  return 1
}

# internal_auth NAME EJABBERD_METHOD FEDGATE_METHOD: what the internal leg was
# authenticated by, each way, as fedgate's log says: ejabberd's streams to fedgate
# by EJABBERD_METHOD, fedgate's to ejabberd by FEDGATE_METHOD.
internal_auth() {
  local log="$work/fedgate-$1.log"
  grep -q "internal server contoso.test -> fabrikam.test authenticated by $2" "$log" ||
    fail "$1: ejabberd's stream to fedgate was not authenticated by $2"
  grep -qE " out#[0-9]+ fabrikam.test -> contoso.test authenticated by $3" "$log" ||
    fail "$1: fedgate's stream to ejabberd was not authenticated by $3"
  echo "   internal leg: ejabberd -> fedgate (contoso.test -> fabrikam.test) by $2;" \
    "fedgate -> ejabberd (fabrikam.test -> contoso.test) by $3"
}

# 1. A message and its reply, each way: bob writes first, then alice. On the
# internal leg ejabberd's certificate (the lab's CA) is valid for contoso.test,
# so its streams to fedgate authenticate by SASL EXTERNAL; fedgate has no
# certificate for fabrikam.test (ejabberd: "Certificate host name mismatch"), so
# its stream to ejabberd falls back to dialback, and ejabberd verifies the key
# with fedgate over a stream of its own (its DNS view sends it to the internal
# listener).
if wanted message; then
start_fedgate message "$(lab_partner fabrikam.test required required false)"
reply=$(lab_round_trip bob-first bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from bob-first" ] || fail "message: bob got '$reply' instead of alice's echo"
grep -q "hello from bob-first" "$work/echo-bob-first.out" || fail "message: alice did not receive bob's message"
reply=$(lab_round_trip alice-first alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test bobpass 127.0.0.20)
[ "$reply" = "echo: hello from alice-first" ] || fail "message: alice got '$reply' instead of bob's echo"
log="$work/fedgate-message.log"
grep -qE " in#[0-9]+ fabrikam.test -> contoso.test authenticated by SASL over TLS" "$log" ||
  fail "message: fabrikam's stream did not use SASL"
grep -qE " out#[0-9]+ contoso.test -> fabrikam.test authenticated by SASL over TLS" "$log" ||
  fail "message: our stream to fabrikam did not use SASL"
grep -q "fabrikam.test -> contoso.test (to the internal server)" "$log" || fail "message: no S2S link to the internal server"
internal_auth message "SASL over TLS" "TLS dialback"
# ejabberd found fedgate through the internal view (its inetrc), not the lab's DNS.
grep -q "query\[SRV\] _xmpp-server._tcp.fabrikam.test" "$work/dnsmasq-internal.log" ||
  fail "message: ejabberd did not ask the internal view"
scenario "a message and its reply each way between alice (internal ejabberd over S2S) and bob (Prosody partner)"
fi

# 2. The internal leg by dialback both ways: ejabberd restarts with a certificate
# of another CA, which fedgate does not trust (ejabberd 23.01 presents it on c2s
# too: the clients trust that CA as well), so fedgate refuses its SASL EXTERNAL,
# ejabberd retries with dialback (mod_s2s_dialback), and fedgate verifies
# ejabberd's key with ejabberd (db:verify on a stream to [internal] host), as
# ejabberd verifies fedgate's with fedgate. ejabberd keeps that certificate for
# the scenarios after this one. (With the lab's certificate, fedgate's [internal]
# sasl = "not_supported" would also make ejabberd use dialback, but fedgate then
# takes its key without asking ejabberd: the certificate is valid for
# contoso.test, XEP-0344.)
if wanted dialback; then
bash "$here/../../scripts/make-demo-certs" --no-xmpp-addr "$work/pki-other" contoso.test >/dev/null
cat "$work/pki-other/ca.crt" >> "$LAB_CLIENT_CA"
lab_ejabberd_stop contoso || fail "dialback: ejabberd did not stop"
ejabberd_seen=$(wc -l < "$work/contoso/logs/ejabberd.log")
LAB_EJABBERD_PKI="$work/pki-other" lab_internal_ejabberd_s2s contoso contoso.test || fail "dialback: ejabberd did not restart"
start_fedgate dialback "$(lab_partner fabrikam.test required required false)"
reply=$(lab_round_trip alice-dialback alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test bobpass 127.0.0.20)
[ "$reply" = "echo: hello from alice-dialback" ] || fail "dialback: alice got '$reply' instead of bob's echo"
log="$work/fedgate-dialback.log"
grep -q "verifying the internal server's dialback key for contoso.test -> fabrikam.test with it" "$log" ||
  fail "dialback: fedgate did not verify ejabberd's key with ejabberd"
grep -q "fabrikam.test -> contoso.test (to the internal server) (dialback verification)" "$log" ||
  fail "dialback: no verification stream to the internal server"
grep -q "dialback verification of contoso.test for fabrikam.test: valid" "$log" ||
  fail "dialback: ejabberd did not confirm its key"
internal_auth dialback "TLS dialback" "TLS dialback"
ejabberd_logged "$ejabberd_seen" "Accepted outbound s2s dialback authentication contoso.test -> fabrikam.test" ||
  fail "dialback: ejabberd's stream to fedgate was not accepted by dialback"
ejabberd_logged "$ejabberd_seen" "Accepted inbound s2s dialback authentication fabrikam.test -> contoso.test" ||
  fail "dialback: ejabberd did not accept fedgate's stream by dialback"
scenario "the internal leg by dialback both ways: each side verified the other's key with its authority"
fi

# 3. Presence subscription both ways: bob asks alice, then hana asks ivan.
if wanted presence; then
start_fedgate presence "$(lab_partner fabrikam.test required required false)"
subscription bob-asks bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10
subscription hana-asks hana@contoso.test hanapass 127.0.0.10 ivan@fabrikam.test ivanpass 127.0.0.20
scenario "presence subscription both ways: bob (partner) asked alice, hana (internal ejabberd, over S2S) asked ivan"
fi

# 4. A public_unverified partner: lena's request nobody invited is refused (kai
# never sees it); once kai invites lena, it works both ways.
if wanted unverified; then
start_fedgate unverified "$(lab_partner fabrikam.test required required false public_unverified)"
lab_unverified_checks
scenario "public_unverified fabrikam: lena refused (presence and message) until kai (internal ejabberd, over S2S) invited her"
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
# ejabberd bounces whatever was queued for a domain whose stream failed as
# remote-server-timeout, whatever the stream error.
reply=$(run_client send alice@contoso.test alicepass 127.0.0.10 erin@adatum.test "hello to erin")
[ "$reply" = "error: remote-server-timeout" ] || fail "refused: alice expected ejabberd's bounce, got '$reply'"
grep -qE "internal-in#[0-9]+ .* closed: host-unknown: 'adatum.test' is not a domain served here" \
  "$work/fedgate-refused.log" || fail "refused: fedgate did not refuse ejabberd's stream for adatum.test"
ejabberd_logged 0 "Failed to establish outbound s2s connection contoso.test -> adatum.test: Stream closed by peer: 'adatum.test' is not a domain served here (host-unknown)" ||
  fail "refused: ejabberd did not see fedgate's host-unknown"
grep -q "Incoming s2s connection" "$work/adatum/prosody.log" &&
  fail "refused: something in contoso.test's network reached adatum.test"
echo "   alice -> erin@adatum.test: $reply"
reply=$(lab_round_trip bob-alongside bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from bob-alongside" ] || fail "refused: bob got '$reply' alongside"
scenario "refused: adatum.test (not listed) refused by fedgate both ways; fabrikam served alongside"
fi

echo "$passed scenarios passed"
