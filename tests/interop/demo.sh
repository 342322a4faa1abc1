#!/usr/bin/env bash
# The README's demo: the interop lab's topology, left running for a person to use.
#   demo.sh up FEDGATE_BINARY   contoso.test (internal Prosody) behind fedgate, and
#                               fabrikam.test (an external Prosody partner) in a
#                               network namespace; a message is sent across and
#                               shown arriving; then it stays up
#   demo.sh down                stops everything by recorded PID, removes the namespace
# Needs root (network namespaces).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
state=/run/fedgate-demo.env

down() {
  [ -f "$state" ] || { echo "demo: nothing is running"; return 0; }
  # shellcheck disable=SC1090
  . "$state"
  LAB_NS=$DEMO_NS LAB_DIR=$DEMO_DIR lab_down
  rm -f "$state"
  echo "demo: stopped; logs are kept in $DEMO_DIR"
}

up() {
  local fedgate=$1
  if [ "$(id -u)" -ne 0 ]; then echo "demo: needs root (network namespaces)" >&2; return 1; fi
  [ -f "$state" ] && down
  local dir=/var/tmp/fedgate-demo
  rm -rf "$dir"
  lab_up "$dir" contoso.test=127.0.0.11 fabrikam.test=127.0.0.20 || return 1
  printf 'DEMO_NS=%s\nDEMO_DIR=%s\n' "$LAB_NS" "$dir" > "$state"
  lab_internal_prosody contoso contoso.test fabrikam.test || return 1
  lab_prosody fabrikam fabrikam.test 127.0.0.20 || return 1
  lab_register contoso alice contoso.test alicepass >/dev/null 2>&1
  lab_register fabrikam bob fabrikam.test bobpass >/dev/null 2>&1
  lab_fedgate_config "$dir/fedgate.toml" contoso.test 127.0.0.11 \
    "$(lab_partner fabrikam.test required optional true)"
  lab_fedgate "$fedgate" "$dir/fedgate.toml" "$dir/fedgate.log" || return 1
  echo
  grep -E "listening on|running" "$dir/fedgate.log" | sed 's/^/  fedgate: /'
  echo
  echo "demo: bob@fabrikam.test writes to alice@contoso.test (who answers), through fedgate:"
  local reply
  reply=$(lab_round_trip demo bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
  echo "  alice received: $(grep -h "hello from demo" "$dir/echo-demo.out")"
  echo "  bob received:   $reply"
  grep -E "authenticated by" "$dir/fedgate.log" | sed 's/^/  fedgate: /'
  cat <<TEXT

demo: running in network namespace $LAB_NS
  contoso.test  internal Prosody  c2s 127.0.0.10:5222  user alice / alicepass
  contoso.test  fedgate (S2S)     127.0.0.11:5269, 5270 (direct TLS)
  fabrikam.test Prosody (partner) c2s 127.0.0.20:5222  user bob / bobpass
  DNS (SRV records) at $LAB_DNS; CA certificate: $dir/pki/ca.crt
Log in with any XMPP client from inside the namespace, e.g.
  ip netns exec $LAB_NS <your client>    (as alice@contoso.test via 127.0.0.10)
fedgate's log: $dir/fedgate.log; configuration: $dir/fedgate.toml
Stop everything: scripts/demo stop
TEXT
}

case "${1:-}" in
  up) up "${2:?usage: demo.sh up FEDGATE_BINARY}" ;;
  down) down ;;
  *) echo "usage: demo.sh up FEDGATE_BINARY | down" >&2; exit 2 ;;
esac
