#!/usr/bin/env bash
# fedgate between real servers (issue 7): in the lab namespace, contoso.test is an
# internal Prosody that knows each partner domain as a XEP-0114 component, and
# fedgate is contoso.test's S2S edge (its SRV record points at fedgate). Partners
# are real servers: fabrikam.test (Prosody) and northwind.test (ejabberd). Real
# clients (slixmpp) send a message across and get the echo back, once per
# authentication method the partner policy selects; fedgate's log must show the
# method. Needs root (network namespaces); FEDGATE_BINARY names the binary.
# Scenarios (arguments select some; default all): sasl, presence, unverified,
# tls-dialback, tcp-dialback, refusals, outage, cut, killed, bidi, xmppaddr, blocked, flood; the configurations and logs stay in $FEDGATE_LAB_DIR (default:
# ./fedgate-federation-lab).
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
fedgate=${FEDGATE_BINARY:-$here/../../build/daemon/fedgate}
. "$here/lab.sh"
# Kept after the run for debugging: every server's log and fedgate's (under the
# build directory when ctest runs this).
lab_scenario_run "${FEDGATE_LAB_DIR:-$PWD/fedgate-federation-lab}"
# Scenarios to run (default: all): sasl presence unverified tls-dialback tcp-dialback refusals outage cut killed bidi xmppaddr blocked flood
scenarios=("$@")

lab_up "$work" contoso.test=127.0.0.11 fabrikam.test=127.0.0.20 northwind.test=127.0.0.30 tailspin.test=127.0.0.40 \
  adatum.test=127.0.0.50 wingtip.test=127.0.0.60 || fail "lab did not come up"
# adatum.test presents fabrikam.test's certificate: valid, but not for adatum.test.
cp "$work/pki/fabrikam.test.crt" "$work/pki/adatum.test.crt"
cp "$work/pki/fabrikam.test.key" "$work/pki/adatum.test.key"
# tailspin.test: a Prosody without TLS at all, for TCP dialback and for the
# refusal of a partner that must use TLS.
printf '%s\n' 's2s_require_encryption = false' 'modules_disabled = { "tls" }' > "$work/plaintext.cfg.lua"
# Every partner domain, a XEP-0114 component of the internal server.
partner_domains=(fabrikam.test northwind.test tailspin.test adatum.test wingtip.test)
lab_internal_prosody contoso contoso.test "${partner_domains[@]}" ||
  fail "internal Prosody did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
lab_register contoso alice contoso.test alicepass >/dev/null 2>&1
lab_register fabrikam bob fabrikam.test bobpass >/dev/null 2>&1
lab_register contoso hana contoso.test hanapass >/dev/null 2>&1
lab_register fabrikam ivan fabrikam.test ivanpass >/dev/null 2>&1
lab_prosody tailspin tailspin.test 127.0.0.40 "$work/plaintext.cfg.lua" || fail "tailspin Prosody did not start"
lab_register tailspin dave tailspin.test davepass >/dev/null 2>&1
lab_prosody adatum adatum.test 127.0.0.50 || fail "adatum Prosody did not start"
lab_register adatum erin adatum.test erinpass >/dev/null 2>&1
# wingtip.test: a Prosody with mod_s2s_bidi (XEP-0288), which Debian's default
# configuration leaves out (the others here run without it).
lab_prosody wingtip wingtip.test 127.0.0.60 /dev/null '"s2s_bidi"' || fail "wingtip Prosody did not start"
lab_register wingtip frank wingtip.test frankpass >/dev/null 2>&1
lab_ejabberd northwind northwind.test 127.0.0.30 || fail "northwind ejabberd did not start"
lab_ejabberd_register northwind carol northwind.test carolpass >/dev/null || fail "cannot register carol"

partner() { lab_partner "$@"; }

# start_fedgate NAME PARTNERS: PARTNERS is TOML ([[partner]] sections).
start_fedgate() {
  lab_fedgate_config "$work/fedgate-$1.toml" contoso.test 127.0.0.11 "$2"
  lab_fedgate "$fedgate" "$work/fedgate-$1.toml" "$work/fedgate-$1.log" || fail "fedgate ($1) did not start"
  fedgate_pid=$LAB_FEDGATE_PID
}

# round_trip LABEL JID PASSWORD ADDRESS: JID writes to alice@contoso.test, who echoes.
round_trip() {
  local reply
  reply=$(lab_round_trip "$1" "$2" "$3" "$4" alice@contoso.test alicepass 127.0.0.10)
  [ "$reply" = "echo: hello from $1" ] || fail "$1 got '$reply' instead of the echo"
  grep -q "hello from $1" "$work/echo-$1.out" || fail "alice did not receive $1's message"
}

# expect_method NAME PARTNER METHOD: both directions authenticated by METHOD.
expect_method() {
  local log="$work/fedgate-$1.log"
  grep -q "$2 -> contoso.test authenticated by $3" "$log" || fail "$1: $2's inbound stream did not use $3"
  grep -q "contoso.test -> $2 authenticated by $3" "$log" || fail "$1: our stream to $2 did not use $3"
}

scenario() {  # scenario NAME: the checks passed
  stop_fedgate || fail "$1: fedgate did not exit 0 on SIGTERM"
  echo "ok: $1"
  passed=$((passed + 1))
}

# 1. Certificates on both sides: SASL EXTERNAL over TLS only (XEP-0178).
if wanted sasl; then
start_fedgate sasl "$(partner fabrikam.test required required false; partner northwind.test required optional true)"
round_trip fabrikam-sasl bob@fabrikam.test bobpass 127.0.0.20
expect_method sasl fabrikam.test "SASL over TLS"
round_trip northwind-any carol@northwind.test carolpass 127.0.0.30
grep -qE "northwind.test -> contoso.test authenticated by" "$work/fedgate-sasl.log" ||
  fail "sasl: northwind's stream was not authenticated"
scenario "fabrikam (Prosody) by SASL EXTERNAL both ways; northwind (ejabberd) by what its policy allows"
fi

# subscription LABEL JID PASSWORD ADDRESS: JID and alice@contoso.test subscribe to
# each other's presence and each sees the other online.
subscription() {
  lab_exec /usr/bin/python3 "$here/xmpp_client.py" accept alice@contoso.test alicepass 127.0.0.10 \
    "$work/pki/ca.crt" > "$work/alice-$1.out" 2>"$work/alice-$1.err" &
  local alice=$!
  for _ in $(seq 100); do grep -q ready "$work/alice-$1.out" && break; sleep 0.1; done
  local result
  result=$(lab_exec /usr/bin/python3 "$here/xmpp_client.py" subscribe "$2" "$3" "$4" "$work/pki/ca.crt" \
    alice@contoso.test 2>"$work/$1.err" | tail -1)
  wait $alice || fail "$1: alice did not see $2's presence: $(tail -1 "$work/alice-$1.out")"
  [ "$result" = "subscribed, and presence received from alice@contoso.test" ] || fail "$1: $2 got '$result'"
}

# 1b. Presence subscription both ways, for a federated and a public_verified partner.
if wanted presence; then
start_fedgate presence "$(partner fabrikam.test required required false
                          partner northwind.test required optional true public_verified)"
subscription fabrikam-presence bob@fabrikam.test bobpass 127.0.0.20
subscription northwind-presence carol@northwind.test carolpass 127.0.0.30
scenario "presence subscription with fabrikam (federated, Prosody) and northwind (public_verified, ejabberd)"
fi

# 1c. A public_unverified partner: a subscription request without an invitation
# is refused (hana never sees it); once hana invites ivan, it works both ways.
# Users of their own: the others' rosters already hold each other.
if wanted unverified; then
start_fedgate unverified "$(partner fabrikam.test required required false public_unverified)"
XMPP_CLIENT_TIMEOUT=6 lab_exec /usr/bin/python3 "$here/xmpp_client.py" accept hana@contoso.test hanapass \
  127.0.0.10 "$work/pki/ca.crt" > "$work/hana-uninvited.out" 2>/dev/null &
hana=$!
for _ in $(seq 100); do grep -q ready "$work/hana-uninvited.out" && break; sleep 0.1; done
result=$(XMPP_CLIENT_TIMEOUT=6 lab_exec /usr/bin/python3 "$here/xmpp_client.py" subscribe ivan@fabrikam.test \
  ivanpass 127.0.0.20 "$work/pki/ca.crt" hana@contoso.test 2>/dev/null | tail -1)
wait $hana && fail "unverified: hana saw ivan without an invitation"
[ "$result" = timeout ] || fail "unverified: ivan's uninvited request got '$result'"
grep -qE "refused presence subscribe from ivan@fabrikam.test[^ ]* to hana@contoso.test \\(partner fabrikam.test, public_unverified\\)" \
  "$work/fedgate-unverified.log" || fail "unverified: no refusal in fedgate's log"
# hana invites ivan (her client subscribes; his accepts and asks back).
lab_exec /usr/bin/python3 "$here/xmpp_client.py" accept ivan@fabrikam.test ivanpass 127.0.0.20 \
  "$work/pki/ca.crt" > "$work/ivan-invited.out" 2>/dev/null &
ivan=$!
for _ in $(seq 100); do grep -q ready "$work/ivan-invited.out" && break; sleep 0.1; done
result=$(lab_exec /usr/bin/python3 "$here/xmpp_client.py" subscribe hana@contoso.test hanapass 127.0.0.10 \
  "$work/pki/ca.crt" ivan@fabrikam.test 2>/dev/null | tail -1)
wait $ivan || fail "unverified: ivan did not see hana after her invitation: $(tail -1 "$work/ivan-invited.out")"
[ "$result" = "subscribed, and presence received from ivan@fabrikam.test" ] || fail "unverified: hana got '$result'"
grep -q "relationship hana@contoso.test ~ ivan@fabrikam.test: to=false from=false asked=true (committed)" \
  "$work/fedgate-unverified.log" || fail "unverified: the invitation was not recorded"
scenario "public_unverified fabrikam: refused without an invitation, subscribed after hana invited ivan"
fi

# 2. TLS dialback: SASL not supported, so Prosody falls back to XEP-0220 and asks
# fedgate, as contoso.test's authoritative server, to verify keys (and the other way).
if wanted tls-dialback; then
start_fedgate tls-dialback "$(partner fabrikam.test required not_supported true
                              partner northwind.test required not_supported true)"
round_trip fabrikam-dialback bob@fabrikam.test bobpass 127.0.0.20
expect_method tls-dialback fabrikam.test "TLS dialback"
round_trip northwind-dialback carol@northwind.test carolpass 127.0.0.30
expect_method tls-dialback northwind.test "TLS dialback"
scenario "fabrikam (Prosody) and northwind (ejabberd) by TLS dialback both ways"
fi

# 3. TCP dialback: a partner without TLS (fedgate's policy: tls not_supported).
if wanted tcp-dialback; then
start_fedgate tcp-dialback "$(partner tailspin.test not_supported not_supported true)"
round_trip tailspin-dialback dave@tailspin.test davepass 127.0.0.40
expect_method tcp-dialback tailspin.test "TCP dialback"
scenario "tailspin (Prosody without TLS) by TCP dialback both ways"
fi

# refused LABEL JID PASSWORD ADDRESS TO: JID's message to TO must come back as an error.
refused() {
  local reply
  reply=$(lab_exec /usr/bin/python3 "$here/xmpp_client.py" send "$2" "$3" "$4" "$work/pki/ca.crt" \
    "$5" "hello from $1" 2>"$work/$1.err" | tail -1)
  case "$reply" in
    error:*) ;;
    *) fail "$1: expected an error bounce, got '$reply'" ;;
  esac
  echo "$reply"
}

# 4. Policy refusals seen from real servers, each with fedgate's reason in its log.
if wanted refusals; then
start_fedgate refusals "$(partner tailspin.test required optional true
                          partner adatum.test required required false
                          partner fabrikam.test required required false)"
# tailspin must use TLS but offers none: our stream to it fails, alice's message bounces.
bounce=$(refused alice-to-tailspin alice@contoso.test alicepass 127.0.0.10 dave@tailspin.test)
grep -q "contoso.test -> tailspin.test closed: tls-not-offered" "$work/fedgate-refusals.log" ||
  fail "refusals: no tls-not-offered for tailspin.test"
echo "   alice -> dave@tailspin.test: $bounce (fedgate: tls-not-offered)"
# adatum presents a certificate for another domain and SASL is required.
bounce=$(refused alice-to-adatum alice@contoso.test alicepass 127.0.0.10 erin@adatum.test)
grep -q "contoso.test -> adatum.test closed: certificate-invalid" "$work/fedgate-refusals.log" ||
  fail "refusals: no certificate-invalid for adatum.test"
echo "   alice -> erin@adatum.test: $bounce (fedgate: certificate-invalid)"
# northwind is not a partner in this configuration: its stream is refused.
bounce=$(refused carol-not-partner carol@northwind.test carolpass 127.0.0.30 alice@contoso.test)
grep -q "northwind.test is not a federation partner" "$work/fedgate-refusals.log" ||
  fail "refusals: northwind.test was not refused as a non-partner"
echo "   carol@northwind.test -> alice: $bounce (fedgate: not a federation partner)"
# The partner that is configured right still gets through.
round_trip fabrikam-alongside bob@fabrikam.test bobpass 127.0.0.20
scenario "refusals: TLS required but not offered, certificate for another domain, not a partner"
fi

# 4b. The internal server dies (SIGKILL) and stays away past the delivery
# deadline: every message that bob (a real Prosody's user) writes to alice comes
# back to him as an error, over fedgate's own stream to fabrikam.test (issue 16:
# every bounce for a remote sender was lost). Then contoso's Prosody comes back.
if wanted outage; then
start_fedgate outage "$(partner fabrikam.test required required false
                        printf '[limits]\ndelivery_deadline_seconds = 4\n')"
round_trip fabrikam-before-outage bob@fabrikam.test bobpass 127.0.0.20
# fedgate pings the internal server each second after a stanza; Prosody answers
# (without mod_ping, with an error: a sign of life all the same), so once that
# answer is in, nothing written to it is unconfirmed and the kill costs nothing unknown.
sleep 2.5
lab_kill contoso
sleep 0.5
grep "possibly lost" "$work/fedgate-outage.log" && fail "outage: stanzas reported possibly lost although Prosody confirmed them"
result=$(XMPP_CLIENT_TIMEOUT=30 lab_exec /usr/bin/python3 "$here/xmpp_client.py" burst bob@fabrikam.test bobpass \
  127.0.0.20 "$work/pki/ca.crt" alice@contoso.test 100 2>"$work/outage-burst.err" | tail -1)
echo "   bob -> alice while contoso's server is down: $result"
[ "$result" = "100 sent, 100 answered: remote-server-timeout=100" ] || fail "outage: bob got '$result'"
grep -q "contoso.test -> fabrikam.test authenticated by SASL over TLS" "$work/fedgate-outage.log" ||
  fail "outage: the bounces did not leave on our own stream to fabrikam.test"
lab_internal_prosody contoso contoso.test "${partner_domains[@]}" ||
  fail "internal Prosody did not come back"
# The link's reconnection backoff is capped at 30 s.
for _ in $(seq 400); do
  [ "$(grep -c 'component link for fabrikam.test ready' "$work/fedgate-outage.log")" -ge 2 ] && break
  sleep 0.1
done
round_trip fabrikam-after-outage bob@fabrikam.test bobpass 127.0.0.20
scenario "the internal server killed: all 100 of bob's messages bounced back to him; delivered again once it is back"
fi

# 4c. XEP-0198 on our stream to a real Prosody (issue 18): fabrikam's server is
# stopped (SIGSTOP) while alice sends bob a burst, so fedgate writes it and none
# of it is acknowledged; then the server dies (SIGKILL) and is started again.
# fedgate takes back what was not acknowledged and sends it on the next stream
# (bob is offline: Prosody keeps it for him). bob then logs in and counts; alice
# counts what came back as errors. Without stream management the burst would die
# with the stopped server's socket buffers.
if wanted cut; then
start_fedgate cut "$(partner fabrikam.test required required false
                     printf '[limits]\ndelivery_deadline_seconds = 120\n')"
round_trip fabrikam-before-cut bob@fabrikam.test bobpass 127.0.0.20
grep -q "contoso.test -> fabrikam.test authenticated by SASL over TLS, with stream management" \
  "$work/fedgate-cut.log" || fail "cut: our stream to fabrikam (Prosody with mod_smacks) has no stream management"
lab_pause fabrikam
XMPP_CLIENT_TIMEOUT=100 lab_exec /usr/bin/python3 "$here/xmpp_client.py" flood alice@contoso.test alicepass \
  127.0.0.10 "$work/pki/ca.crt" bob@fabrikam.test 200 > "$work/cut-alice.out" 2>"$work/cut-alice.err" &
alice=$!
sleep 3  # alice's messages reach fedgate, which writes them to the stopped server
lab_kill fabrikam
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "cut: fabrikam's Prosody did not start again"
# The next stream comes after RFC 6120 §3.3's randomised wait (up to a minute).
for _ in $(seq 900); do
  [ "$(grep -c "contoso.test -> fabrikam.test authenticated by" "$work/fedgate-cut.log")" -ge 2 ] && break
  sleep 0.1
done
received=$(XMPP_CLIENT_TIMEOUT=20 lab_exec /usr/bin/python3 "$here/xmpp_client.py" collect bob@fabrikam.test \
  bobpass 127.0.0.20 "$work/pki/ca.crt" 200 2>"$work/cut-bob.err" | tail -1)
kill -INT $alice 2>/dev/null; wait $alice 2>/dev/null
taken_back=$(grep -o "[0-9]* stanzas were not acknowledged before the stream ended" "$work/fedgate-cut.log" | head -1)
echo "   alice -> bob, 200 sent; fabrikam's server stopped, killed and restarted"
echo "   fedgate: ${taken_back:-nothing taken back}; sent again on the next stream"
echo "   bob received: $received"
[ "$received" = "200 distinct, 0 duplicates: received=200" ] || fail "cut: bob received '$received'"
[ -n "$taken_back" ] || fail "cut: fedgate took back nothing that fabrikam had not acknowledged"
scenario "fabrikam (Prosody, mod_smacks) stopped, then killed mid-burst: all 200 messages delivered once"
fi

# 4d. fedgate itself killed in front of a real Prosody (issue 18): contoso's
# internal server is down, so fedgate holds what bob floods alice with, stops
# reading fabrikam's stream and acknowledges none of it (XEP-0198: a stanza is
# handled once written to the internal server). Then fedgate is killed
# (SIGKILL). fabrikam's Prosody learns from its own stream management which
# stanzas fedgate never acknowledged; Prosody 0.12 (smacks_s2s_resend off)
# bounces them to bob. Every message must come back to bob or reach alice.
if wanted killed; then
start_fedgate killed "$(partner fabrikam.test required required false)"
round_trip fabrikam-before-kill bob@fabrikam.test bobpass 127.0.0.20
lab_kill contoso
for _ in $(seq 100); do
  grep -q "cannot reach the internal server\|component link for fabrikam.test .*closed" "$work/fedgate-killed.log" && break
  sleep 0.1
done
XMPP_CLIENT_TIMEOUT=15 lab_exec /usr/bin/python3 "$here/xmpp_client.py" flood bob@fabrikam.test bobpass \
  127.0.0.20 "$work/pki/ca.crt" alice@contoso.test 200 > "$work/killed-bob.out" 2>"$work/killed-bob.err" &
bob=$!
sleep 4  # bob's messages reach fedgate, which holds them for the absent internal server
kill -KILL "$fedgate_pid"; wait "$fedgate_pid" 2>/dev/null; fedgate_pid=""
wait $bob
bounced=$(tail -1 "$work/killed-bob.out")
lab_internal_prosody contoso contoso.test "${partner_domains[@]}" ||
  fail "killed: the internal server did not come back"
start_fedgate killed-restarted "$(partner fabrikam.test required required false)"
received=$(XMPP_CLIENT_TIMEOUT=15 lab_exec /usr/bin/python3 "$here/xmpp_client.py" collect alice@contoso.test \
  alicepass 127.0.0.10 "$work/pki/ca.crt" 200 2>"$work/killed-alice.err" | tail -1)
errors=$(echo "$bounced" | grep -o "=[0-9]*" | tr -d = | awk "{s += \$1} END {print s + 0}")
got=$(echo "$received" | grep -o "received=[0-9]*" | cut -d= -f2)
echo "   bob -> alice, 200 sent while contoso's server was down; fedgate held them and was killed"
echo "   what fabrikam's Prosody learnt and bounced to bob: $bounced"
echo "   alice received after the restart: $received"
echo "   200 sent: ${errors:-0} bounced by Prosody, ${got:-0} delivered, $((200 - ${errors:-0} - ${got:-0})) lost"
[ $(( ${errors:-0} + ${got:-0} )) -ge 200 ] || fail "killed: $((200 - ${errors:-0} - ${got:-0})) of bob's messages lost"
scenario "fedgate killed holding 200 of a Prosody user's messages: Prosody bounced what fedgate had not acknowledged"
fi

# s2s_connections PID: the established S2S connections (port 5269 or 5270 at
# either end; not c2s, not the component links) of process PID, as "local peer".
s2s_connections() {
  lab_exec ss -Htnp state established | awk -v pid="pid=$1," \
    'index($0, pid) && ($3 ~ /:52(69|70)$/ || $4 ~ /:52(69|70)$/) { print $3, $4 }'
}

# one_connection LABEL: wingtip's server (whose only S2S peer is fedgate) has
# exactly one S2S connection open now; prints it.
one_connection() {
  local pid lines; pid=$(cat "$work/wingtip/launcher.pid"); lines=$(s2s_connections "$pid")
  [ "$(printf '%s\n' "$lines" | grep -c .)" -eq 1 ] ||
    fail "$1: expected one connection, wingtip (pid $pid) has: $lines; all: $(lab_exec ss -Htnp state established)"
  echo "   $1: one connection, $lines"
}

# 4e. XEP-0288 with a real Prosody (wingtip, mod_s2s_bidi): whoever writes
# first opens the one connection that carries both directions. ejabberd 23.01
# has no bidi: two connections, as before (the negative case).
if wanted bidi; then
# northwind is a partner in every part: refused once (alice's presence to carol
# reaches it when she logs in), ejabberd keeps refusing contoso.test for a while.
start_fedgate bidi "$(partner wingtip.test required required false; partner northwind.test required required false)"
# frank writes first: wingtip's stream carries alice's echo back.
round_trip wingtip-first frank@wingtip.test frankpass 127.0.0.60
log="$work/fedgate-bidi.log"
grep -q "wingtip.test -> contoso.test authenticated by SASL over TLS" "$log" || fail "bidi: wingtip's stream not authenticated"
grep -q "contoso.test -> wingtip.test: on wingtip.test's stream, bidirectional (XEP-0288), with stream management" "$log" ||
  fail "bidi: our stanzas did not go on wingtip's stream"
grep -q "contoso.test -> wingtip.test authenticated" "$log" && fail "bidi: fedgate opened a stream of its own"
one_connection "wingtip wrote first"
scenario "bidi: wingtip (Prosody, mod_s2s_bidi) wrote first; its stream carried alice's echo back"

start_fedgate bidi-out "$(partner wingtip.test required required false; partner northwind.test required required false)"
reply=$(lab_round_trip alice-first alice@contoso.test alicepass 127.0.0.10 frank@wingtip.test frankpass 127.0.0.60)
[ "$reply" = "echo: hello from alice-first" ] || fail "bidi: alice got '$reply' instead of frank's echo"
log="$work/fedgate-bidi-out.log"
grep -q "contoso.test -> wingtip.test authenticated by SASL over TLS, with stream management, bidirectional (XEP-0288)" \
  "$log" || fail "bidi: our stream to wingtip is not bidirectional"
grep -q "wingtip.test -> contoso.test authenticated" "$log" && fail "bidi: wingtip opened a stream of its own"
one_connection "alice wrote first"
# ejabberd offers no bidi: a stream each way.
round_trip northwind-no-bidi carol@northwind.test carolpass 127.0.0.30
expect_method bidi-out northwind.test "SASL over TLS"
grep "northwind" "$log" | grep -q bidirectional && fail "bidi: northwind (ejabberd) is not expected to do bidi"
echo "   northwind (ejabberd 23.01): a stream each way"
scenario "bidi: alice wrote first; our stream to wingtip carried frank's echo; ejabberd without bidi: two streams"

# Over TLS dialback (answered at once, XEP-0344: wingtip's certificate is valid
# for it). Prosody does not enable XEP-0198 on dialback streams, so ours go
# uncounted after a second's wait for it.
start_fedgate bidi-dialback "$(partner wingtip.test required not_supported true
                              partner northwind.test required required false)"
round_trip wingtip-dialback frank@wingtip.test frankpass 127.0.0.60
log="$work/fedgate-bidi-dialback.log"
grep -q "wingtip.test -> contoso.test authenticated by TLS dialback" "$log" || fail "bidi: wingtip did not use TLS dialback"
grep -q "contoso.test -> wingtip.test: on wingtip.test's stream, bidirectional (XEP-0288)$" "$log" ||
  fail "bidi: our stanzas did not go on wingtip's dialback stream"
one_connection "over TLS dialback"
scenario "bidi over TLS dialback: one connection, ours uncounted (Prosody enables no XEP-0198 there)"
fi

# 5. The known trap: fedgate's certificate with an XmppAddr name (the lab's have
# DNS-IDs only). Prosody accepts it for SASL EXTERNAL. ejabberd 23.01 crashes on
# the EXTERNAL <auth/> of a peer whose certificate carries one (and, since the
# certificate is valid, will not use dialback with it either): alice's message to
# carol bounces. The operator's workaround (README): DNS-ID certificates only.
if wanted xmppaddr; then
mkdir -p "$work/pki-xmppaddr"
cp "$work/pki/ca.crt" "$work/pki/ca.key" "$work/pki-xmppaddr/"
bash "$here/../../scripts/make-demo-certs" "$work/pki-xmppaddr" contoso.test >/dev/null
openssl x509 -in "$work/pki-xmppaddr/contoso.test.crt" -noout -text | grep -q "othername" ||
  fail "the XmppAddr certificate has no otherName"
lab_fedgate_config "$work/fedgate-xmppaddr.toml" contoso.test 127.0.0.11 \
  "$(partner fabrikam.test required required false; partner northwind.test required optional true)"
sed -i "s|$work/pki/contoso.test|$work/pki-xmppaddr/contoso.test|" "$work/fedgate-xmppaddr.toml"
printf '[limits]\ndelivery_deadline_seconds = 5\n' >> "$work/fedgate-xmppaddr.toml"
lab_fedgate "$fedgate" "$work/fedgate-xmppaddr.toml" "$work/fedgate-xmppaddr.log" || fail "fedgate (xmppaddr) did not start"
fedgate_pid=$LAB_FEDGATE_PID
round_trip fabrikam-xmppaddr bob@fabrikam.test bobpass 127.0.0.20
expect_method xmppaddr fabrikam.test "SASL over TLS"
bounce=$(refused alice-to-carol-xmppaddr alice@contoso.test alicepass 127.0.0.10 carol@northwind.test)
grep -q "contoso.test -> northwind.test closed: peer-closed" "$work/fedgate-xmppaddr.log" ||
  fail "xmppaddr: ejabberd did not end our stream (has ejabberd's XmppAddr handling changed? update the README)"
echo "   alice -> carol@northwind.test with an XmppAddr certificate: $bounce (ejabberd ends the stream)"
scenario "a certificate with XmppAddr: Prosody by SASL EXTERNAL; ejabberd 23.01 fails as documented"
fi

# 6. The operator's blocklist ([blocklist], read again within refresh_seconds of
# a change) against a real Prosody partner. fabrikam.test federates; then its
# exact name goes into the file (a listed partner: only its exact name blocks
# it): within seconds fedgate closes both streams with <policy-violation/>,
# alice's messages to bob come back to her with <not-allowed/> and no stream is
# opened for them, and Prosody's new stream for bob's messages is refused before
# any negotiation, so Prosody bounces them to bob; neither receives a thing.
# Once the line is gone, federation works again both ways.
if wanted blocked; then
blocklist="$work/blocklist.txt"
printf '# nothing blocked yet\n' > "$blocklist"
start_fedgate blocked "$(partner fabrikam.test required required false
                         printf '[blocklist]\nfile = "%s"\nrefresh_seconds = 1\n' "$blocklist"
                         printf '[metrics]\nlisten = "127.0.0.11:9269"\n')"
log="$work/fedgate-blocked.log"
# blocked_total DIRECTION: fedgate_blocked_total{direction=DIRECTION} as scraped.
blocked_total() {
  lab_exec curl -sf "http://127.0.0.11:9269/metrics" |
    awk -v d="direction=\"$1\"" '/^fedgate_blocked_total\{/ && index($0, d) { print $NF + 0; found = 1 } END { if (!found) print "none" }'
}
# fabrikam_connections: the S2S connections fabrikam's server has established (its
# only S2S peer here is fedgate; it connects from 127.0.0.1, so counted at its end).
fabrikam_connections() { s2s_connections "$(cat "$work/fabrikam/launcher.pid")" | grep -c .; }
# silent_collector NAME JID PASSWORD ADDRESS: JID logged in, counting what reaches it
# (messages with ids burst0...) for 8 s; its PID in $client_pid.
silent_collector() {
  XMPP_CLIENT_TIMEOUT=8 client_bg "$1" collect "$2" "$3" "$4" 5
  for _ in $(seq 100); do grep -qs ready "$work/$1.out" && break; sleep 0.1; done
  grep -qs ready "$work/$1.out" || fail "blocked: $2 did not log in"
}

# 1. Before: federation works both ways (bob writes, alice's echo comes back).
round_trip fabrikam-before-block bob@fabrikam.test bobpass 127.0.0.20
expect_method blocked fabrikam.test "SASL over TLS"
[ "$(fabrikam_connections)" -ge 2 ] || fail "blocked: not a stream each way with fabrikam.test before the block"
[ "$(blocked_total in)/$(blocked_total out)" = 0/0 ] ||
  fail "blocked: fedgate_blocked_total is $(blocked_total in)/$(blocked_total out) (in/out) before the block"

# 2. fabrikam.test blocked by its exact name: the streams already up end.
printf '# blocked by the interop test\nfabrikam.test\n' > "$blocklist"
written=$(date +%s%N)
closed=""
for _ in $(seq 100); do
  if grep -q "blocklist $blocklist read again: 1 domains, 0 wildcards" "$log" &&
     [ "$(fabrikam_connections)" -eq 0 ]; then closed=$(date +%s%N); break; fi
  sleep 0.1
done
[ -n "$closed" ] || fail "blocked: streams with fabrikam.test still up 10 s after the block: $(s2s_connections "$(cat "$work/fabrikam/launcher.pid")")"
grep -q "stream contoso.test -> fabrikam.test stopped: fabrikam.test is blocked here (blocklist line 2: fabrikam.test)" "$log" ||
  fail "blocked: our stream to fabrikam.test was not stopped for the blocklist"
grep -q "contoso.test <- fabrikam.test closed: blocked: fabrikam.test is blocked here (blocklist line 2: fabrikam.test)" "$log" ||
  fail "blocked: fabrikam's stream to us was not closed for the blocklist"
in_at_block=$(blocked_total in)
[ "$in_at_block" -ge 1 ] 2>/dev/null || fail "blocked: fabrikam's stream to us not closed as blocked (fedgate_blocked_total{in} = $in_at_block)"
echo "   blocklist written: both streams with fabrikam.test closed within $(( (closed - written) / 1000000 )) ms"
outbound_streams=$(grep -c "contoso.test -> fabrikam.test authenticated by" "$log")
silent_collector bob-while-blocked bob@fabrikam.test bobpass 127.0.0.20
bob_listening=$client_pid
silent_collector alice-while-blocked alice@contoso.test alicepass 127.0.0.10
alice_listening=$client_pid
# alice writes 5 messages to bob: each comes back to her with <not-allowed/>.
alice_result=$(XMPP_CLIENT_TIMEOUT=10 run_client burst alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test 5)
echo "   alice -> bob while blocked: $alice_result"
[ "$alice_result" = "5 sent, 5 answered: not-allowed=5" ] || fail "blocked: alice's messages to bob got '$alice_result'"
[ "$(grep -c "contoso.test -> fabrikam.test authenticated by" "$log")" -eq "$outbound_streams" ] ||
  fail "blocked: fedgate opened a stream to the blocked fabrikam.test"
out=$(blocked_total out)
[ "$out" -ge 5 ] 2>/dev/null || fail "blocked: fedgate_blocked_total{direction=\"out\"} is $out after 5 refused messages"
# bob writes 5 to alice: Prosody's new stream is refused, and it bounces them to bob.
# (With the other scenarios' rosters, presence may have had a stream refused already.)
in_before=$(blocked_total in)
# in#N ADDRESS closed: blocked: ...: a stream refused at its header, before any negotiation.
refused_streams() { grep -c " in#[0-9]* [0-9.:]* closed: blocked: fabrikam.test is blocked here (blocklist line 2: fabrikam.test)" "$log"; }
refused_before=$(refused_streams)
bob_result=$(XMPP_CLIENT_TIMEOUT=15 run_client burst bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test 5)
echo "   bob -> alice while blocked: $bob_result"
case "$bob_result" in
  "5 sent, 5 answered: "*answered=*) fail "blocked: some of bob's messages were answered: '$bob_result'" ;;
  "5 sent, 5 answered: "*) ;;
  *) fail "blocked: bob's messages to alice got '$bob_result' instead of 5 errors" ;;
esac
in_after=$(blocked_total in)
[ "$in_after" -gt "$in_before" ] 2>/dev/null ||
  fail "blocked: Prosody's new stream was not refused (fedgate_blocked_total{direction=\"in\"} $in_before -> $in_after)"
refused_after=$(refused_streams)
[ "$refused_after" -gt "$refused_before" ] || fail "blocked: fedgate's log shows no stream of Prosody's refused at its header"
wait $bob_listening; wait $alice_listening
bob_got=$(tail -1 "$work/bob-while-blocked.out"); alice_got=$(tail -1 "$work/alice-while-blocked.out")
echo "   received meanwhile: bob: $bob_got; alice: $alice_got"
[ "$bob_got" = "timeout with 0 distinct, 0 duplicates: none" ] || fail "blocked: bob received '$bob_got'"
[ "$alice_got" = "timeout with 0 distinct, 0 duplicates: none" ] || fail "blocked: alice received '$alice_got'"
echo "   fedgate_blocked_total: in=$in_after out=$out; Prosody's streams refused at the header: $refused_after"

# 3. The line removed: federation works again, bob first, then alice first.
printf '# fabrikam.test unblocked again\n' > "$blocklist"
for _ in $(seq 100); do
  grep -q "blocklist $blocklist read again: 0 domains, 0 wildcards" "$log" && break
  sleep 0.1
done
grep -q "blocklist $blocklist read again: 0 domains, 0 wildcards" "$log" || fail "blocked: the emptied blocklist was not read again"
round_trip fabrikam-after-block bob@fabrikam.test bobpass 127.0.0.20
reply=$(lab_round_trip alice-after-block alice@contoso.test alicepass 127.0.0.10 bob@fabrikam.test bobpass 127.0.0.20)
[ "$reply" = "echo: hello from alice-after-block" ] || fail "blocked: alice got '$reply' from bob after the unblock"
scenario "blocked: fabrikam (Prosody) blocked by name, its streams closed, 5+5 messages bounced, none received; unblocked, both ways again"
fi

# 7. A partner's inbound rate limit against a real Prosody: fabrikam.test may
# send 10 stanzas a second (rate_limit_stanzas; a burst of 20, then 20 more in
# debt), northwind.test (ejabberd) has no limit. bob floods alice with 200
# messages. Over the burst, fedgate stops reading fabrikam's streams until the
# debt is paid (2 s at most); what Prosody wrote meanwhile sits in the socket
# buffers, and whatever one read brings beyond a burst of debt is refused with
# <policy-violation/>, which goes back to bob over fedgate's own stream to
# fabrikam.test. Every message reaches alice or comes back to bob, once, and
# Prosody keeps its streams. Meanwhile carol's 10 messages from the unlimited
# northwind.test arrive at once (to hana: alice counts ids burst0..., which
# carol's would share).
if wanted flood; then
flood_count=200
start_fedgate flood "$(partner fabrikam.test required required false; printf 'rate_limit_stanzas = 10\n'
                       partner northwind.test required optional true
                       printf '[metrics]\nlisten = "127.0.0.11:9269"\n')"
log="$work/fedgate-flood.log"
# rate_limited PARTNER ACTION: fedgate_rate_limited_total{partner=PARTNER,limit="stanzas",action=ACTION} (0 when absent).
rate_limited() {
  lab_exec curl -sf "http://127.0.0.11:9269/metrics" |
    awk -v p="partner=\"$1\"" -v a="action=\"$2\"" '/^fedgate_rate_limited_total\{/ && index($0, p) && index($0, a) &&
      index($0, "limit=\"stanzas\"") { n += $NF } END { print n + 0 }'
}
# rate_client NAME MODE JID PASSWORD ADDRESS [ARGS...]: client_bg, with slixmpp
# (1.8.3 knows RFC 3920's stanza error conditions only) taught <policy-violation/>,
# which it would read as '', and the text of each error it gets in $work/NAME.err.
rate_client() {
  local name=$1 mode=$2 jid=$3 password=$4 address=$5; shift 5
  lab_exec /usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv.pop(1))
from slixmpp.stanza.error import Error
Error.conditions.add("policy-violation")
import xmpp_client
handle = xmpp_client.client.on_message
def on_message(self, msg):
    if msg["type"] == "error":
        print("error %s %s: %s" % (msg["id"], msg["error"]["condition"], msg["error"]["text"]), file=sys.stderr, flush=True)
    handle(self, msg)
xmpp_client.client.on_message = on_message
sys.exit(xmpp_client.main())' "$here" "$mode" "$jid" "$password" "$address" "$work/pki/ca.crt" "$@" \
    > "$work/$name.out" 2>"$work/$name.err" &
  client_pid=$!
}
# handled_by_fedgate: how many of bob's burst messages fedgate relayed or refused.
handled_by_fedgate() {
  echo $(( $(grep -c "relayed in fabrikam.test: message from='bob@fabrikam.test/[^']*' to='alice@contoso.test' id='burst" "$log") +
           $(grep -c "stanza from bob@fabrikam.test/[^ ]* to alice@contoso.test refused: fabrikam.test sends more than its rate limit" "$log") ))
}
# Both partners' streams are up before the flood (a message each way).
round_trip fabrikam-before-flood bob@fabrikam.test bobpass 127.0.0.20
expect_method flood fabrikam.test "SASL over TLS"
round_trip northwind-before-flood carol@northwind.test carolpass 127.0.0.30
[ "$(rate_limited fabrikam.test slowed)/$(rate_limited fabrikam.test refused)" = 0/0 ] ||
  fail "flood: fabrikam.test rate limited before the flood"
streams=$(grep -c "fabrikam.test -> contoso.test authenticated by\|contoso.test -> fabrikam.test authenticated by" "$log")
# alice counts bob's messages (done early only if all arrive); bob floods, then
# counts the errors that come back. Prosody writes the flood in TLS records of
# some 40 messages, and after each hold fedgate reads one: 20 pass, the rest
# are refused, so all is over within 10 s or so. Were each message delivered,
# 40 at once and 160 at 10 a second would take 17 s: 20 s leave room for that.
XMPP_CLIENT_TIMEOUT=20 rate_client alice-flood collect alice@contoso.test alicepass 127.0.0.10 "$flood_count"
alice_collecting=$client_pid
for _ in $(seq 100); do grep -qs ready "$work/alice-flood.out" && break; sleep 0.1; done
grep -qs ready "$work/alice-flood.out" || fail "flood: alice did not log in"
started=$(date +%s%N)
XMPP_CLIENT_TIMEOUT=20 rate_client bob-flood flood bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test "$flood_count"
bob_flooding=$client_pid
slowed_at=""
for _ in $(seq 100); do
  [ "$(rate_limited fabrikam.test slowed)" -ge 1 ] && { slowed_at=$(date +%s%N); break; }
  sleep 0.1
done
[ -n "$slowed_at" ] || fail "flood: fabrikam.test not slowed 10 s into bob's flood"
echo "   bob's flood: fabrikam.test slowed $(( (slowed_at - started) / 1000000 )) ms after bob started (his login included)"
# While fabrikam's streams are held: carol (unlimited northwind.test) writes 10 to hana.
XMPP_CLIENT_TIMEOUT=10 rate_client hana-flood collect hana@contoso.test hanapass 127.0.0.10 10
hana_collecting=$client_pid
for _ in $(seq 100); do grep -qs ready "$work/hana-flood.out" && break; sleep 0.1; done
grep -qs ready "$work/hana-flood.out" || fail "flood: hana did not log in"
handled_before_carol=$(handled_by_fedgate)
carol_started=$(date +%s%N)
XMPP_CLIENT_TIMEOUT=5 rate_client carol-flood flood carol@northwind.test carolpass 127.0.0.30 hana@contoso.test 10
carol_sending=$client_pid
wait $hana_collecting
carol_ms=$(( ($(date +%s%N) - carol_started) / 1000000 ))
handled_after_carol=$(handled_by_fedgate)
hana_got=$(tail -1 "$work/hana-flood.out")
echo "   meanwhile carol@northwind.test -> hana, 10 messages: '$hana_got' in $carol_ms ms (carol's login included);" \
  "fedgate had handled $handled_before_carol, then $handled_after_carol of bob's $flood_count"
[ "$hana_got" = "10 distinct, 0 duplicates: received=10" ] || fail "flood: hana received '$hana_got' of carol's 10"
[ "$carol_ms" -le 5000 ] || fail "flood: carol's 10 messages took $carol_ms ms"
# carol's last message went through while fabrikam's stream was not being read.
fabrikam_in=$(grep -o "in#[0-9]* fabrikam.test -> contoso.test authenticated" "$log" | tail -1 | cut -d' ' -f1)
fabrikam_reading=$(awk -v c="$fabrikam_in" '$4 == c && $5 == "reading" { s = $6 }
  /relayed in northwind.test: message from=.carol@northwind.test[^ ]* to=.hana@contoso.test. id=.burst9. / { print s; exit }' "$log")
[ "$fabrikam_reading" = "paused:" ] ||
  fail "flood: carol's messages did not pass while fabrikam's stream ($fabrikam_in) was held (its reading: '$fabrikam_reading')"
wait $carol_sending
carol_errors=$(tail -1 "$work/carol-flood.out")
[ "$carol_errors" = "10 sent, errors: 0 distinct, 0 duplicates: none" ] || fail "flood: carol got errors: '$carol_errors'"
[ "$(rate_limited northwind.test slowed)/$(rate_limited northwind.test refused)" = 0/0 ] ||
  fail "flood: the unlimited northwind.test was rate limited"
wait $bob_flooding; wait $alice_collecting
bob_got=$(tail -1 "$work/bob-flood.out"); alice_got=$(tail -1 "$work/alice-flood.out")
handled=$(handled_by_fedgate)
echo "   bob -> alice, $flood_count as fast as slixmpp writes them; fedgate handled $handled"
echo "   alice: $alice_got"
echo "   bob: $bob_got"
received=$(echo "$alice_got" | grep -o "received=[0-9]*" | cut -d= -f2)
received_dups=$(echo "$alice_got" | grep -o "[0-9]* duplicates" | cut -d' ' -f1)
bounced=$(echo "$bob_got" | grep -o "policy-violation=[0-9]*" | cut -d= -f2)
bounced_all=$(echo "$bob_got" | grep -o "errors: [0-9]* distinct" | grep -o "[0-9][0-9]*")
bounced_dups=$(echo "$bob_got" | grep -o "[0-9]* duplicates" | cut -d' ' -f1)
slowed=$(rate_limited fabrikam.test slowed); refused=$(rate_limited fabrikam.test refused)
echo "   $flood_count sent: ${received:-0} delivered, ${bounced:-0} back to bob with policy-violation," \
  "$(( flood_count - ${received:-0} - ${bounced_all:-0} )) lost; fedgate_rate_limited_total{partner=\"fabrikam.test\"}: slowed=$slowed refused=$refused"
[ "${received_dups:-x}/${bounced_dups:-x}" = 0/0 ] || fail "flood: duplicates (alice: ${received_dups:-?}, bob: ${bounced_dups:-?})"
[ "${bounced_all:-0}" = "${bounced:-0}" ] || fail "flood: bob got errors other than policy-violation: '$bob_got'"
[ "$handled" -eq "$flood_count" ] || fail "flood: fedgate handled $handled of $flood_count within the clients' 20 s"
[ $(( ${received:-0} + ${bounced:-0} )) -eq "$flood_count" ] ||
  fail "flood: ${received:-0} delivered + ${bounced:-0} refused is not $flood_count"
[ "${received:-0}" -ge 40 ] || fail "flood: only ${received:-0} delivered (a burst and a burst of debt are 40)"
[ "$slowed" -ge 1 ] || fail "flood: fedgate_rate_limited_total{action=\"slowed\"} is $slowed"
# Each message refused is one error at bob; a presence of bob's (the earlier
# scenarios' rosters) sent during the flood may be refused too, and its error
# is no message error: a few more refusals than errors, never fewer.
[ "$refused" -ge "${bounced:-0}" ] && [ "$refused" -le $(( ${bounced:-0} + 5 )) ] ||
  fail "flood: fedgate refused $refused stanzas, bob got ${bounced:-0} policy-violation errors"
texts=$(grep -c "^error burst[0-9]* policy-violation: fabrikam.test sends more than its rate limit (10 stanzas a second) allows$" "$work/bob-flood.err")
[ "$texts" -eq "${bounced:-0}" ] || fail "flood: $texts of bob's ${bounced:-0} errors say why: $(grep -m1 "^error " "$work/bob-flood.err")"
[ "$(grep -c " warning in#[0-9]* stanza from bob@fabrikam.test/[^ ]* to alice@contoso.test refused: fabrikam.test sends more than its rate limit (10 stanzas a second) allows" "$log")" -ge 1 ] ||
  fail "flood: no warning for the rate limit in fedgate's log"
# Prosody kept both streams through the holds.
grep -q "fabrikam.test closed:" "$log" && fail "flood: a stream with fabrikam.test ended: $(grep "fabrikam.test closed:" "$log")"
[ "$(grep -c "fabrikam.test -> contoso.test authenticated by\|contoso.test -> fabrikam.test authenticated by" "$log")" -eq "$streams" ] ||
  fail "flood: Prosody or fedgate opened new streams during the flood"
scenario "flood: fabrikam (Prosody) at 10 stanzas a second: ${received:-0} of $flood_count delivered, ${bounced:-0} refused back to bob, none lost; northwind (unlimited) unaffected"
fi

echo "$passed passed, 0 failed"
exit 0
