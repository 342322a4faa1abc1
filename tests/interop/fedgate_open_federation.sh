#!/usr/bin/env bash
# Open federation ([default_partner], issue 23 §1) in s2s mode ([internal]
# mode = "s2s"): in the lab namespace, contoso.test is an internal Prosody that
# federates over S2S, its DNS (the internal view) sending every remote domain to
# fedgate's internal address 127.0.0.12; fedgate is contoso.test's public S2S
# edge at 127.0.0.11, its metrics at 127.0.0.11:9269. fabrikam.test is a listed
# Prosody partner; adatum.test and tailspin.test are real Prosody servers nobody
# lists, federating under [default_partner]. Real clients (slixmpp) on both sides.
# Scenarios (arguments select some; default all):
#   open          the default terms (public_unverified): nora@adatum.test refused
#                 until liam invited her, then both ways; fabrikam alongside
#   open-blocked  adatum.test on the blocklist: refused both ways, nothing reaches
#                 it; its line removed, a message crosses
#   open-flood    erin@adatum.test floods alice at 10 stanzas a second: each message
#                 delivered or refused back to erin, once; bob (listed) unaffected
#   open-lru      max_domains = 1: tailspin.test's first stream closes adatum.test's
#                 streams; adatum.test comes back on its next stanza
#   open-lru-burst max_domains = 1 under load: alice floods erin@adatum.test (100
#                 messages), then erin floods alice, and each time, in the middle of
#                 the burst, dave@tailspin.test's messages to hana close adatum.test's
#                 streams (and adatum.test's next ones tailspin.test's): each message
#                 of either delivered exactly once or bounced to its sender exactly once
# Needs root (network namespaces); FEDGATE_BINARY names the binary; the
# configurations and logs stay in $FEDGATE_LAB_DIR (default ./fedgate-open-federation-lab).
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
fedgate=${FEDGATE_BINARY:-$here/../../build/daemon/fedgate}
. "$here/lab.sh"
lab_scenario_run "${FEDGATE_LAB_DIR:-$PWD/fedgate-open-federation-lab}"
scenarios=("$@")

export LAB_FEDGATE_INTERNAL=127.0.0.12
lab_up "$work" contoso.test=127.0.0.11 fabrikam.test=127.0.0.20 adatum.test=127.0.0.50 tailspin.test=127.0.0.60 ||
  fail "lab did not come up"
# The internal server's DNS sends every remote domain, listed or not, to fedgate.
lab_internal_view "$LAB_FEDGATE_INTERNAL" fabrikam.test adatum.test tailspin.test || fail "the internal view did not start"
lab_internal_prosody_s2s contoso contoso.test || fail "internal Prosody did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
lab_prosody adatum adatum.test 127.0.0.50 || fail "adatum Prosody did not start"
lab_prosody tailspin tailspin.test 127.0.0.60 || fail "tailspin Prosody did not start"
for user in alice hana liam; do lab_register contoso "$user" contoso.test "${user}pass" >/dev/null 2>&1; done
lab_register fabrikam bob fabrikam.test bobpass >/dev/null 2>&1
for user in erin nora; do lab_register adatum "$user" adatum.test "${user}pass" >/dev/null 2>&1; done
lab_register tailspin dave tailspin.test davepass >/dev/null 2>&1

# fedgate's metrics, scraped from its [metrics] listener.
metrics_address=127.0.0.11:9269
# open_federation [LINE...]: a [default_partner] section with these lines, and
# the [metrics] listener.
open_federation() {
  printf '[default_partner]\n'
  [ $# -eq 0 ] || printf '%s\n' "$@"
  printf '[metrics]\nlisten = "%s"\n' "$metrics_address"
}
# metric NAME [LABEL...]: lab_metric at metrics_address.
metric() { lab_metric "$metrics_address" "$@"; }

# 1. Open federation: adatum.test, which nobody lists, federates under the
# default terms (public_unverified): nora's request and message to liam, whom
# nobody invited, are refused (liam never sees them); once liam invites nora, it
# works both ways, her domain's traffic counted under partner="*". fabrikam
# (listed) is served alongside.
if wanted open; then
start_fedgate open "$(lab_partner fabrikam.test required required false; open_federation)"
lab_invitation_checks open liam@contoso.test 127.0.0.10 nora@adatum.test 127.0.0.50 "*"
reply=$(lab_round_trip bob-beside-open bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from bob-beside-open" ] || fail "open: bob got '$reply' alongside"
log="$work/fedgate-open.log"
grep -qE " in#[0-9]+ adatum.test -> contoso.test authenticated by" "$log" || fail "open: adatum.test's stream to fedgate did not authenticate"
grep -qE " out#[0-9]+ contoso.test -> adatum.test authenticated by" "$log" || fail "open: fedgate's stream to adatum.test did not authenticate"
grep -q "adatum.test -> contoso.test (to the internal server)" "$log" || fail "open: no internal-leg stream for adatum.test"
stanzas_in=$(metric fedgate_stanzas_total 'direction="in"' 'partner="*"')
stanzas_out=$(metric fedgate_stanzas_total 'direction="out"' 'partner="*"')
unlisted=$(metric fedgate_unlisted_domains)
echo "   $(grep -oE "in#[0-9]+ adatum.test -> contoso.test authenticated by [^,]*" "$log" | head -1);" \
  "fedgate_stanzas_total{partner=\"*\"}: in=$stanzas_in out=$stanzas_out; fedgate_unlisted_domains=$unlisted"
[ "$stanzas_in" -gt 0 ] 2>/dev/null && [ "$stanzas_out" -gt 0 ] 2>/dev/null ||
  fail "open: fedgate_stanzas_total{partner=\"*\"} in=$stanzas_in out=$stanzas_out"
[ "$unlisted" -ge 1 ] 2>/dev/null || fail "open: fedgate_unlisted_domains is $unlisted"
scenario "open: adatum.test (unlisted, public_unverified) refused until liam invited nora, then both ways; fabrikam alongside"
fi

# 2. The blocklist applies to unlisted domains: adatum.test on it (federated
# default terms, so that only the blocklist refuses), erin's message to alice
# bounces, fedgate refusing adatum.test's stream at its header, before any
# negotiation; alice's message to erin bounces with <not-allowed/> at fedgate,
# and no stream goes to adatum.test. Once the line is gone (read again within
# refresh_seconds), a message and its reply cross.
if wanted open-blocked; then
blocklist="$work/open-blocklist.txt"
printf '# blocked by the interop test\nadatum.test\n' > "$blocklist"
start_fedgate open-blocked "$(lab_partner fabrikam.test required required false; open_federation 'type = "federated"'
                              printf '[blocklist]\nfile = "%s"\nrefresh_seconds = 1\n' "$blocklist")"
log="$work/fedgate-open-blocked.log"
adatum_lines=$(wc -l < "$work/adatum/prosody.log")
reply=$(run_client send erin@adatum.test erinpass 127.0.0.50 alice@contoso.test "hello while blocked")
echo "   erin -> alice while blocked: $reply"
case "$reply" in error:*) ;; *) fail "open-blocked: erin expected an error bounce, got '$reply'" ;; esac
grep -qE " in#[0-9]+ [0-9.:]+ closed: blocked: adatum.test is blocked here \(blocklist line 2: adatum.test\)" "$log" ||
  fail "open-blocked: adatum.test's stream was not refused at its header"
reply=$(run_client send alice@contoso.test alicepass 127.0.0.10 erin@adatum.test "hello to a blocked domain")
echo "   alice -> erin while blocked: $reply"
[ "$reply" = "error: not-allowed" ] || fail "open-blocked: alice's message to erin got '$reply'"
tail -n +$((adatum_lines + 1)) "$work/adatum/prosody.log" | grep -q "Incoming s2s connection" &&
  fail "open-blocked: something in contoso.test's network reached adatum.test"
grep -qE " out#[0-9]+ contoso.test -> adatum.test " "$log" && fail "open-blocked: fedgate opened a stream to adatum.test"
blocked_in=$(metric fedgate_blocked_total 'direction="in"'); blocked_out=$(metric fedgate_blocked_total 'direction="out"')
echo "   fedgate_blocked_total: in=$blocked_in out=$blocked_out"
[ "$blocked_in" -ge 1 ] 2>/dev/null && [ "$blocked_out" -ge 1 ] 2>/dev/null ||
  fail "open-blocked: fedgate_blocked_total in=$blocked_in out=$blocked_out"
printf '# adatum.test unblocked\n' > "$blocklist"
for _ in $(seq 50); do grep -q "blocklist $blocklist read again: 0 domains, 0 wildcards" "$log" && break; sleep 0.1; done
grep -q "blocklist $blocklist read again: 0 domains, 0 wildcards" "$log" || fail "open-blocked: the emptied blocklist was not read again"
reply=$(lab_round_trip alice-unblocked alice@contoso.test alicepass 127.0.0.10 erin@adatum.test erinpass 127.0.0.50)
[ "$reply" = "echo: hello from alice-unblocked" ] || fail "open-blocked: alice got '$reply' from erin after the unblock"
scenario "open-blocked: unlisted adatum.test blocked: refused at the stream header and bounced with not-allowed; unblocked, a round trip"
fi

# 3. An unlisted domain's rate limit ([default_partner] rate_limit_stanzas = 10,
# federated terms so that only the limit refuses): erin@adatum.test floods
# alice with 200 messages. Over the burst fedgate stops reading adatum.test's
# streams (slowed), and what one read brings beyond a burst of debt is refused
# with <policy-violation/> back to erin: each message reaches alice or comes
# back to erin, once. Meanwhile bob's 10 messages from the listed fabrikam.test
# arrive at once (to hana: alice counts ids burst0..., which bob's would share).
if wanted open-flood; then
flood_count=200
start_fedgate open-flood "$(lab_partner fabrikam.test required required false
                            open_federation 'type = "federated"' 'rate_limit_stanzas = 10')"
log="$work/fedgate-open-flood.log"
# flood_client NAME MODE JID PASSWORD ADDRESS [ARGS...]: client_bg, knowing
# <policy-violation/>; a flood or collect ends early once the number written to
# $work/NAME.expect came back.
flood_client() { XMPP_CLIENT_CONDITIONS=policy-violation XMPP_CLIENT_EXPECT_FILE="$work/$1.expect" client_bg "$@"; }
# relayed_count / refused_count: how many of erin's burst messages fedgate relayed to alice, or refused.
relayed_count() { grep -c "relayed in adatum.test: message from='erin@adatum.test/[^']*' to='alice@contoso.test' id='burst" "$log"; }
refused_count() { grep -c "stanza from erin@adatum.test/[^ ]* to alice@contoso.test refused: adatum.test sends more than its rate limit" "$log"; }
# Both domains' streams up before the flood (a message each way).
reply=$(lab_round_trip erin-before-flood erin@adatum.test erinpass 127.0.0.50 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from erin-before-flood" ] || fail "open-flood: erin got '$reply' before the flood"
reply=$(lab_round_trip bob-before-flood bob@fabrikam.test bobpass 127.0.0.20 hana@contoso.test hanapass 127.0.0.10)
[ "$reply" = "echo: hello from bob-before-flood" ] || fail "open-flood: bob got '$reply' before the flood"
limited() { metric fedgate_rate_limited_total 'partner="*"' 'limit="stanzas"' "action=\"$1\""; }
[ "$(limited slowed)/$(limited refused)" = 0/0 ] || fail "open-flood: adatum.test rate limited before the flood"
XMPP_CLIENT_TIMEOUT=30 flood_client alice-flood collect alice@contoso.test alicepass 127.0.0.10 "$flood_count"
alice_collecting=$client_pid
for _ in $(seq 100); do grep -qs ready "$work/alice-flood.out" && break; sleep 0.1; done
grep -qs ready "$work/alice-flood.out" || fail "open-flood: alice did not log in"
started=$(date +%s%N)
XMPP_CLIENT_TIMEOUT=30 flood_client erin-flood flood erin@adatum.test erinpass 127.0.0.50 alice@contoso.test "$flood_count"
erin_flooding=$client_pid
slowed_at=""
for _ in $(seq 100); do
  [ "$(limited slowed)" -ge 1 ] 2>/dev/null && { slowed_at=$(date +%s%N); break; }
  sleep 0.1
done
[ -n "$slowed_at" ] || fail "open-flood: adatum.test not slowed 10 s into erin's flood"
echo "   erin's flood: adatum.test slowed $(( (slowed_at - started) / 1000000 )) ms after erin started (her login included)"
# While adatum.test is held: bob (listed fabrikam.test) writes 10 to hana.
adatum_in=$(grep -o "in#[0-9]* adatum.test -> contoso.test authenticated" "$log" | tail -1 | cut -d' ' -f1)
XMPP_CLIENT_TIMEOUT=10 flood_client hana-flood collect hana@contoso.test hanapass 127.0.0.10 10
hana_collecting=$client_pid
for _ in $(seq 100); do grep -qs ready "$work/hana-flood.out" && break; sleep 0.1; done
grep -qs ready "$work/hana-flood.out" || fail "open-flood: hana did not log in"
bob_started=$(date +%s%N)
XMPP_CLIENT_TIMEOUT=5 flood_client bob-flood flood bob@fabrikam.test bobpass 127.0.0.20 hana@contoso.test 10
bob_sending=$client_pid
wait $hana_collecting
bob_ms=$(( ($(date +%s%N) - bob_started) / 1000000 ))
hana_got=$(tail -1 "$work/hana-flood.out")
echo "   meanwhile bob@fabrikam.test -> hana, 10 messages: '$hana_got' in $bob_ms ms (bob's login included)"
[ "$hana_got" = "10 distinct, 0 duplicates: received=10" ] || fail "open-flood: hana received '$hana_got' of bob's 10"
[ "$bob_ms" -le 5000 ] || fail "open-flood: bob's 10 messages took $bob_ms ms"
# adatum.test's stream's state when bob's last message passed (his stream is read meanwhile).
adatum_reading=$(awk -v c="$adatum_in" '$4 == c && $5 == "reading" { s = $6 }
  /relayed in fabrikam.test: message from=.bob@fabrikam.test[^ ]* to=.hana@contoso.test. id=.burst9. / { print s; exit }' "$log")
echo "   adatum.test's stream ($adatum_in) when bob's last message passed: reading ${adatum_reading%:}"
echo 0 > "$work/bob-flood.expect"
wait $bob_sending
bob_errors=$(tail -1 "$work/bob-flood.out")
[ "$bob_errors" = "10 sent, errors: 0 distinct, 0 duplicates: none" ] || fail "open-flood: bob got errors: '$bob_errors'"
case $(metric fedgate_rate_limited_total 'partner="fabrikam.test"') in 0|none) ;; *) fail "open-flood: the unlimited fabrikam.test was rate limited" ;; esac
# Once fedgate has relayed or refused all of erin's messages, alice and erin
# expect as many: they end once those came (or at their timeout).
for _ in $(seq 280); do [ $(( $(relayed_count) + $(refused_count) )) -ge "$flood_count" ] && break; sleep 0.1; done
handled_ms=$(( ($(date +%s%N) - started) / 1000000 ))
relayed_count > "$work/alice-flood.expect"; refused_count > "$work/erin-flood.expect"
wait $erin_flooding; wait $alice_collecting
[ $(( $(relayed_count) + $(refused_count) )) -eq "$flood_count" ] ||
  fail "open-flood: fedgate relayed $(relayed_count) and refused $(refused_count) of erin's $flood_count"
echo "   fedgate relayed $(relayed_count) and refused $(refused_count) of erin's $flood_count within $handled_ms ms of her start;" \
  "the clients had counted at $(( ($(date +%s%N) - started) / 1000000 )) ms"
erin_got=$(tail -1 "$work/erin-flood.out"); alice_got=$(tail -1 "$work/alice-flood.out")
echo "   alice: $alice_got"
echo "   erin: $erin_got"
received=$(echo "$alice_got" | grep -o "received=[0-9]*" | cut -d= -f2)
received_dups=$(echo "$alice_got" | grep -o "[0-9]* duplicates" | cut -d' ' -f1)
bounced=$(echo "$erin_got" | grep -o "policy-violation=[0-9]*" | cut -d= -f2)
bounced_all=$(echo "$erin_got" | grep -o "errors: [0-9]* distinct" | grep -o "[0-9][0-9]*")
bounced_dups=$(echo "$erin_got" | grep -o "[0-9]* duplicates" | cut -d' ' -f1)
slowed=$(limited slowed); refused=$(limited refused)
echo "   $flood_count sent: ${received:-0} delivered, ${bounced:-0} back to erin with policy-violation," \
  "$(( flood_count - ${received:-0} - ${bounced_all:-0} )) lost; fedgate_rate_limited_total{partner=\"*\"}: slowed=$slowed refused=$refused"
[ "${received_dups:-x}/${bounced_dups:-x}" = 0/0 ] || fail "open-flood: duplicates (alice: ${received_dups:-?}, erin: ${bounced_dups:-?})"
[ "${bounced_all:-0}" = "${bounced:-0}" ] || fail "open-flood: erin got errors other than policy-violation: '$erin_got'"
[ $(( ${received:-0} + ${bounced:-0} )) -eq "$flood_count" ] ||
  fail "open-flood: ${received:-0} delivered + ${bounced:-0} refused is not $flood_count"
[ "${received:-0}" -ge 40 ] || fail "open-flood: only ${received:-0} delivered (a burst and a burst of debt are 40)"
# Each message refused is one error at erin (a stanza of adatum.test's own,
# refused during the flood, would be one more refusal than errors, never fewer).
[ "$slowed" -ge 1 ] && [ "$refused" -ge "${bounced:-0}" ] && [ "$refused" -le $(( ${bounced:-0} + 5 )) ] ||
  fail "open-flood: fedgate_rate_limited_total{partner=\"*\"} slowed=$slowed refused=$refused, erin got ${bounced:-0} policy-violation errors"
grep -qE " warning in#[0-9]+ stanza from erin@adatum.test/[^ ]* to alice@contoso.test refused: adatum.test sends more than" "$log" ||
  fail "open-flood: no warning for adatum.test's rate limit in fedgate's log"
scenario "open-flood: unlisted adatum.test at 10 stanzas a second: ${received:-0} of $flood_count delivered, ${bounced:-0} refused back to erin, none lost; fabrikam unaffected"
fi

# 4. At most max_domains unlisted domains have streams ([default_partner]
# max_domains = 1; federated terms): alice and erin@adatum.test exchange a message
# and its echo; then alice and dave@tailspin.test, another unlisted domain, and
# fedgate closes adatum.test's streams, the least recently used, to make room;
# adatum.test comes back on alice's next message to erin.
if wanted open-lru; then
start_fedgate open-lru "$(lab_partner fabrikam.test required required false
                          open_federation 'type = "federated"' 'max_domains = 1')"
log="$work/fedgate-open-lru.log"
reply=$(lab_round_trip alice-to-erin alice@contoso.test alicepass 127.0.0.10 erin@adatum.test erinpass 127.0.0.50)
[ "$reply" = "echo: hello from alice-to-erin" ] || fail "open-lru: alice got '$reply' from erin"
[ "$(metric fedgate_unlisted_domains)/$(metric fedgate_unlisted_domains_closed_total)" = 1/0 ] ||
  fail "open-lru: fedgate_unlisted_domains/fedgate_unlisted_domains_closed_total are" \
    "$(metric fedgate_unlisted_domains)/$(metric fedgate_unlisted_domains_closed_total) with adatum.test's streams up"
reply=$(lab_round_trip alice-to-dave alice@contoso.test alicepass 127.0.0.10 dave@tailspin.test davepass 127.0.0.60)
[ "$reply" = "echo: hello from alice-to-dave" ] || fail "open-lru: alice got '$reply' from dave"
grep -q "closing the streams of unlisted domain adatum.test: " "$log" || fail "open-lru: adatum.test's streams were not closed"
grep -qE " in#[0-9]+ contoso.test <- adatum.test closed: unlisted-domains-full" "$log" || fail "open-lru: no stream of adatum.test's closed for max_domains"
closed=$(metric fedgate_unlisted_domains_closed_total); unlisted=$(metric fedgate_unlisted_domains)
echo "   $(grep -o "closing the streams of unlisted domain adatum.test: .*" "$log" | head -1)"
echo "   after dave's echo: fedgate_unlisted_domains=$unlisted fedgate_unlisted_domains_closed_total=$closed"
[ "$closed" -ge 1 ] 2>/dev/null || fail "open-lru: fedgate_unlisted_domains_closed_total is $closed"
[ "$unlisted" = 1 ] || fail "open-lru: fedgate_unlisted_domains is $unlisted with max_domains = 1"
reply=$(lab_round_trip alice-to-erin-again alice@contoso.test alicepass 127.0.0.10 erin@adatum.test erinpass 127.0.0.50)
[ "$reply" = "echo: hello from alice-to-erin-again" ] || fail "open-lru: alice got '$reply' from erin when adatum.test came back"
grep -q "closing the streams of unlisted domain tailspin.test: " "$log" || fail "open-lru: tailspin.test's streams were not closed for adatum.test's"
scenario "open-lru: max_domains = 1: tailspin.test's streams closed adatum.test's ($closed closed), adatum.test back on the next message"
fi

# 5. max_domains under load ([default_partner] max_domains = 1, federated terms,
# no rate limit, so that only the bound refuses): alice floods erin@adatum.test
# with 100 messages, 20 ms apart; once the first crossed fedgate,
# dave@tailspin.test sends hana 5 messages, 250 ms apart, each of which needs
# tailspin.test's streams and so closes adatum.test's in the middle of the burst
# (what follows of the burst closes tailspin.test's in turn). Then the same with
# erin flooding alice. Each message, of the burst and dave's, must reach its
# recipient exactly once or come back to its sender as an error exactly once
# (the clients write what came for each id: XMPP_CLIENT_ANSWERS_FILE). A message
# Prosody bounced (recipient-unavailable: what its stream management had not
# seen acknowledged when fedgate closed the stream) is an answer too; fedgate's
# own are resource-constraint. fedgate must count the closes, and say in its
# log and metrics what it did not deliver.
if wanted open-lru-burst; then
burst_count=100 dave_count=5
start_fedgate open-lru-burst "$(lab_partner fabrikam.test required required false
                                open_federation 'type = "federated"' 'max_domains = 1' 'rate_limit_stanzas = 0' 'rate_limit_bytes = 0')"
log="$work/fedgate-open-lru-burst.log"
# lru_client NAME MODE JID PASSWORD ADDRESS [ARGS...]: client_bg, writing what came
# for each id to $work/NAME.answers, ending early once $work/NAME.expect's count came.
lru_client() {
  XMPP_CLIENT_ANSWERS_FILE="$work/$1.answers" XMPP_CLIENT_EXPECT_FILE="$work/$1.expect" \
    XMPP_CLIENT_CONDITIONS=policy-violation client_bg "$@"
}
# wait_ready NAME: until the client NAME logged in ("ready": collect).
wait_ready() {
  for _ in $(seq 100); do grep -qs ready "$work/$1.out" && break; sleep 0.1; done
  grep -qs ready "$work/$1.out" || fail "open-lru-burst: $1 did not log in"
}
# since MARK PATTERN: fedgate's log lines after line MARK matching PATTERN (ERE).
since() { tail -n +$(( $1 + 1 )) "$log" | grep -E "$2"; }
# outcomes COUNT SENDER_ANSWERS RECIPIENT_ANSWERS: per id burst0..COUNT-1, what came
# back to the sender and to the recipient; prints "ok N" and a line per id that
# did not come back exactly once (lost, duplicated, or delivered and bounced too).
outcomes() {
  awk -v count="$1" '
    FNR == 1 { file++ }
    { for (i = 2; i <= NF; i++) { got[$1] = got[$1] (got[$1] == "" ? "" : ",") (file == 1 ? "error:" $i : $i); n[$1]++ } }
    END {
      ok = 0
      for (i = 0; i < count; i++) {
        id = "burst" i
        if (n[id] == 1) ok++; else bad = bad sprintf("   %s: %s\n", id, n[id] ? got[id] : "nothing (lost)")
      }
      printf "ok %d\n%s", ok, bad
    }' "$2" "$3"
}
# lru_burst LABEL SENDER ADDRESS RECIPIENT ADDRESS RELAYED: the burst from SENDER to
# RECIPIENT with dave's messages in its middle; RELAYED is the ERE of fedgate's
# log line relaying one of the burst.
lru_burst() {
  local label=$1 sender=$2 sender_address=$3 recipient=$4 recipient_address=$5 relayed=$6 mark reply
  local sender_pass="${2%%@*}pass" recipient_pass="${4%%@*}pass" started evicted_at quiet count_now last
  local closed_before bounced_before dropped_before lost_before
  # adatum.test's streams up both ways, the most recently used.
  reply=$(lab_round_trip "$label-before" "$sender" "$sender_pass" "$sender_address" "$recipient" "$recipient_pass" "$recipient_address")
  [ "$reply" = "echo: hello from $label-before" ] || fail "open-lru-burst: $sender got '$reply' before the burst"
  closed_before=$(metric fedgate_unlisted_domains_closed_total); bounced_before=$(metric fedgate_bounces_total)
  dropped_before=$(metric fedgate_error_stanzas_dropped_total); lost_before=$(metric fedgate_stanzas_possibly_lost_total)
  mark=$(wc -l < "$log")
  XMPP_CLIENT_TIMEOUT=15 lru_client "$label-recipient" collect "$recipient" "$recipient_pass" "$recipient_address" "$burst_count"
  local collecting=$client_pid
  XMPP_CLIENT_TIMEOUT=15 lru_client "$label-hana" collect hana@contoso.test hanapass 127.0.0.10 "$dave_count"
  local hana_collecting=$client_pid
  wait_ready "$label-recipient"; wait_ready "$label-hana"
  started=$(date +%s%N)
  XMPP_CLIENT_TIMEOUT=12 XMPP_CLIENT_FLOOD_INTERVAL=0.02 \
    lru_client "$label-sender" flood "$sender" "$sender_pass" "$sender_address" "$recipient" "$burst_count"
  local flooding=$client_pid
  for _ in $(seq 200); do since "$mark" "$relayed" >/dev/null && break; sleep 0.02; done
  since "$mark" "$relayed" >/dev/null || fail "open-lru-burst: nothing of $sender's burst crossed fedgate in 4 s"
  XMPP_CLIENT_TIMEOUT=12 XMPP_CLIENT_FLOOD_INTERVAL=0.25 \
    lru_client "$label-dave" flood dave@tailspin.test davepass 127.0.0.60 hana@contoso.test "$dave_count"
  local dave_sending=$client_pid
  for _ in $(seq 500); do
    since "$mark" "closing the streams of unlisted domain adatum.test" >/dev/null && break
    sleep 0.01
  done
  # evicted_at: how many of the burst fedgate had relayed when it first closed adatum.test's streams.
  evicted_at=$(tail -n +$(( mark + 1 )) "$log" | awk -v re="$relayed" '
    /closing the streams of unlisted domain adatum.test/ { print n + 0; exit } $0 ~ re { n++ }')
  [ -n "$evicted_at" ] || fail "open-lru-burst: adatum.test's streams were not closed during $sender's burst"
  # Once the burst and dave's messages are out (4 s after the burst began) and
  # fedgate's log has been quiet for 3 s (a stopped link waits 2 s at most for
  # its last acknowledgement), the recipients expect what fedgate relayed to
  # them, distinct ids; the senders then the rest.
  last=-1 quiet=0
  for _ in $(seq 150); do
    count_now=$(wc -l < "$log")
    if [ "$count_now" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0 last=$count_now; fi
    [ $quiet -ge 30 ] && [ $(( ($(date +%s%N) - started) / 1000000 )) -ge 4000 ] && break
    sleep 0.1
  done
  since "$mark" "$relayed" | grep -oE "id='burst[0-9]+'" | sort -u | wc -l > "$work/$label-recipient.expect"
  since "$mark" "relayed in tailspin.test: message from='dave@tailspin.test/[^']*' to='hana@contoso.test' id='burst" |
    grep -oE "id='burst[0-9]+'" | sort -u | wc -l > "$work/$label-hana.expect"
  wait $collecting; wait $hana_collecting
  local received hana_received
  received=$(grep -c " received" "$work/$label-recipient.answers" 2>/dev/null); received=${received:-0}
  hana_received=$(grep -c " received" "$work/$label-hana.answers" 2>/dev/null); hana_received=${hana_received:-0}
  echo $(( burst_count - received )) > "$work/$label-sender.expect"
  echo $(( dave_count - hana_received )) > "$work/$label-dave.expect"
  wait $flooding; wait $dave_sending
  local burst_result dave_result
  burst_result=$(outcomes "$burst_count" "$work/$label-sender.answers" "$work/$label-recipient.answers")
  dave_result=$(outcomes "$dave_count" "$work/$label-dave.answers" "$work/$label-hana.answers")
  echo "   $label: $sender -> $recipient, $burst_count messages 20 ms apart; adatum.test's streams first closed after $evicted_at of them had crossed;" \
    "fedgate meanwhile: $(( $(metric fedgate_unlisted_domains_closed_total) - closed_before )) closes (fedgate_unlisted_domains_closed_total)," \
    "$(( $(metric fedgate_bounces_total) - bounced_before )) bounces (fedgate_bounces_total)," \
    "$(( $(metric fedgate_error_stanzas_dropped_total) - dropped_before )) of them dropped (fedgate_error_stanzas_dropped_total)," \
    "$(( $(metric fedgate_stanzas_possibly_lost_total) - lost_before )) possibly lost"
  echo "   $recipient: $(tail -1 "$work/$label-recipient.out")"
  echo "   $sender: $(tail -1 "$work/$label-sender.out")"
  echo "   dave -> hana: hana: $(tail -1 "$work/$label-hana.out"); dave: $(tail -1 "$work/$label-dave.out")"
  echo "   exactly once: burst ${burst_result%%$'\n'*} of $burst_count, dave's ${dave_result%%$'\n'*} of $dave_count"
  [ "$burst_result" = "ok $burst_count" ] || { echo "$burst_result" | tail -n +2
    lru_burst_failed+=" $label: $(( burst_count - $(echo "$burst_result" | head -1 | cut -d' ' -f2) )) of the burst not answered exactly once;"; }
  [ "$dave_result" = "ok $dave_count" ] || { echo "$dave_result" | tail -n +2
    lru_burst_failed+=" $label: $(( dave_count - $(echo "$dave_result" | head -1 | cut -d' ' -f2) )) of dave's not answered exactly once;"; }
}
lru_burst_failed=""
lru_burst lru-out alice@contoso.test 127.0.0.10 erin@adatum.test 127.0.0.50 \
  "relayed out adatum.test: message from='alice@contoso.test/[^']*' to='erin@adatum.test' id='burst"
lru_burst lru-in erin@adatum.test 127.0.0.50 alice@contoso.test 127.0.0.10 \
  "relayed in adatum.test: message from='erin@adatum.test/[^']*' to='alice@contoso.test' id='burst"
closed=$(metric fedgate_unlisted_domains_closed_total)
[ -z "$lru_burst_failed" ] || fail "open-lru-burst:$lru_burst_failed"
scenario "open-lru-burst: max_domains = 1 closing adatum.test's streams in the middle of a burst each way ($closed closes): each message delivered or bounced exactly once"
fi

echo "$passed scenarios passed"
