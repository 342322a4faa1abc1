#!/usr/bin/env bash
# Proves the interop lab itself, before fedgate stands in it: real servers in the
# lab namespace (Prosody for contoso.test and fabrikam.test, ejabberd for
# northwind.test) find each other through dnsmasq's SRV records, federate over TLS
# with certificates from the lab CA, and relay a chat message and its reply between
# real clients (slixmpp). Needs root (network namespaces).
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
work=$(mktemp -d /tmp/fedgate-lab-XXXXXX)
trap "lab_down; [ -n \"${KEEP_LAB:-}\" ] || rm -rf \"$work\"" EXIT

fail() { echo "FAIL: $*"; for f in "$work"/*/prosody.log "$work"/*/logs/error.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }

lab_up "$work" contoso.test=127.0.0.10 fabrikam.test=127.0.0.20 northwind.test=127.0.0.30 ||
  fail "lab did not come up"
lab_prosody contoso contoso.test 127.0.0.10 || fail "contoso Prosody did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
lab_register contoso alice contoso.test alicepass
lab_register fabrikam bob fabrikam.test bobpass
lab_ejabberd northwind northwind.test 127.0.0.30 || fail "northwind ejabberd did not start"
lab_ejabberd_register northwind carol northwind.test carolpass >/dev/null || fail "cannot register carol"

# round_trip NAME JID PASSWORD ADDRESS: JID writes to alice@contoso.test, who echoes.
round_trip() {
  local reply
  reply=$(lab_round_trip "$1" "$2" "$3" "$4" alice@contoso.test alicepass 127.0.0.10)
  [ "$reply" = "echo: hello from $1" ] || fail "$1 got '$reply' instead of the echo"
  grep -q "hello from $1" "$work/echo-$1.out" || fail "alice did not receive $1's message"
  echo "ok: $1 and contoso.test exchanged a message and its reply over S2S found through SRV"
}

round_trip fabrikam bob@fabrikam.test bobpass 127.0.0.20
round_trip northwind carol@northwind.test carolpass 127.0.0.30
# The servers authenticated each other with certificates.
grep -q "is now authenticated for fabrikam.test" "$work/contoso/prosody.log" ||
  fail "contoso did not authenticate fabrikam.test"
grep -qE "northwind.test.*(authenticated|secure)|(authenticated|secure).*northwind.test" "$work/contoso/prosody.log" ||
  fail "contoso did not authenticate northwind.test"
echo "2 passed, 0 failed"
exit 0

