#!/usr/bin/env bash
# Proves the interop lab itself, before fedgate stands in it: two real Prosody
# servers in the lab namespace find each other through dnsmasq's SRV records,
# federate over TLS with certificates from the lab CA, and relay a chat message and
# its reply between two real clients (slixmpp). Needs root (network namespaces).
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
work=$(mktemp -d /tmp/fedgate-lab-XXXXXX)
trap "lab_down; [ -n \"${KEEP_LAB:-}\" ] || rm -rf \"$work\"" EXIT

fail() { echo "FAIL: $*"; for f in "$work"/*/prosody.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }

lab_up "$work" contoso.test=127.0.0.10 fabrikam.test=127.0.0.20 || fail "lab did not come up"
lab_prosody contoso contoso.test 127.0.0.10 || fail "contoso Prosody did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
lab_register contoso alice contoso.test alicepass
lab_register fabrikam bob fabrikam.test bobpass

lab_exec /usr/bin/python3 "$here/xmpp_client.py" echo alice@contoso.test alicepass 127.0.0.10 "$work/pki/ca.crt" \
  > "$work/alice.out" 2>"$work/alice.err" &
alice=$!
for _ in $(seq 100); do grep -q ready "$work/alice.out" && break; sleep 0.1; done
reply=$(lab_exec /usr/bin/python3 "$here/xmpp_client.py" send bob@fabrikam.test bobpass 127.0.0.20 "$work/pki/ca.crt" \
  alice@contoso.test "hello from fabrikam" 2>"$work/bob.err" | tail -1)
wait $alice
[ "$reply" = "echo: hello from fabrikam" ] || fail "bob got '$reply' instead of the echo"
grep -q "hello from fabrikam" "$work/alice.out" || fail "alice did not receive the message"
# The two servers authenticated each other with certificates (SASL EXTERNAL).
grep -qiE "s2s.*(authenticated|secure)" "$work/contoso/prosody.log" || fail "no authenticated s2s in contoso's log"
echo "ok: message and reply crossed a real S2S link found through SRV"
echo "1 passed, 0 failed"
