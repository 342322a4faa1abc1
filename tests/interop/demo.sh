#!/usr/bin/env bash
# The README's demo: the interop lab's topology, left running for a person to use.
#   demo.sh up FEDGATE_BINARY   contoso.test (internal Prosody) behind fedgate, and
#                               fabrikam.test (an external Prosody partner) in the
#                               network namespace fedgate-demo; a message is sent
#                               across and shown arriving; then it stays up
#   demo.sh down                stops fedgate, then the partner, then the internal
#                               server (by recorded PID), removes the namespace
# Needs root (network namespaces). The namespace and the directory keep their names
# from one run to the next, so the commands printed stay valid; the previous run's
# directory (logs, configuration) is kept as $dir.previous.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
state=/run/fedgate-demo.env
ns="fedgate-demo"
dir=/var/tmp/fedgate-demo
metrics=127.0.0.1:9269  # the namespace's own loopback

# stop_pid FILE NAME: SIGTERM to the PID in FILE if that process is in the demo's
# namespace (not a reused PID), then waits up to 20 s for it to end.
stop_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ "$(ip netns identify "$pid" 2>/dev/null)" = "$DEMO_NS" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "demo: $2 (PID $pid) did not stop within 20 s"
}

down() {
  if [ ! -f "$state" ]; then
    # A namespace left without its record (the machine's /run was cleared, a crash).
    ip netns list | grep -q "^$ns\b" && { LAB_NS=$ns LAB_DIR=$dir lab_down; echo "demo: removed a stale $ns"; }
    echo "demo: nothing is running"; return 0
  fi
  # shellcheck disable=SC1090
  . "$state"
  # fedgate first: it closes its partner streams and its component links itself,
  # and logs its account; then the partner; the internal server last, so that no
  # component link is cut under a running fedgate.
  stop_pid "$DEMO_DIR/fedgate.pid" fedgate
  { grep -E "stopped cleanly" "$DEMO_DIR/fedgate.log" || tail -n 1 "$DEMO_DIR/fedgate.log"; } | sed 's/^/  fedgate: /'
  stop_pid "$DEMO_DIR/fabrikam/launcher.pid" "fabrikam.test's Prosody"
  stop_pid "$DEMO_DIR/contoso/launcher.pid" "contoso.test's Prosody"
  LAB_NS=$DEMO_NS LAB_DIR=$DEMO_DIR lab_down  # dnsmasq, and anything left
  rm -f "$state"
  echo "demo: stopped; logs are kept in $DEMO_DIR (until the next run moves them to $DEMO_DIR.previous)"
}

up() {
  local fedgate=$1
  if [ "$(id -u)" -ne 0 ]; then echo "demo: needs root (network namespaces)" >&2; return 1; fi
  [ -f "$state" ] && { echo "demo: stopping the demo that runs"; down; }
  down >/dev/null  # a stale namespace
  if [ -d "$dir" ]; then
    rm -rf "$dir.previous" && mv "$dir" "$dir.previous"
    echo "demo: the previous run's logs and configuration are in $dir.previous"
  fi
  LAB_NS_NAME=$ns lab_up "$dir" contoso.test=127.0.0.11 fabrikam.test=127.0.0.20 || return 1
  printf 'DEMO_NS=%s\nDEMO_DIR=%s\n' "$LAB_NS" "$dir" > "$state"
  lab_internal_prosody contoso contoso.test fabrikam.test || return 1
  lab_prosody fabrikam fabrikam.test 127.0.0.20 || return 1
  lab_register contoso alice contoso.test alicepass >/dev/null 2>&1
  lab_register fabrikam bob fabrikam.test bobpass >/dev/null 2>&1
  lab_fedgate_config "$dir/fedgate.toml" contoso.test 127.0.0.11 \
    "$(lab_partner fabrikam.test required optional true)
[metrics]
listen = \"$metrics\""
  echo
  echo "demo: runs $fedgate ($("$fedgate" --version))"
  echo "  with $dir/fedgate.toml, written for this lab (conf/fedgate.example.toml was only"
  echo "  checked): one partner, fabrikam.test, where the example has three; fedgate listens on"
  echo "  contoso.test's lab address only, trusts the lab's CA, asks the lab's DNS server, reaches"
  echo "  the internal Prosody at $LAB_INTERNAL:5347, logs at debug level and serves metrics:"
  sed 's/^/    /' "$dir/fedgate.toml"
  lab_fedgate "$fedgate" "$dir/fedgate.toml" "$dir/fedgate.log" || return 1
  echo "$LAB_FEDGATE_PID" > "$dir/fedgate.pid"
  echo
  grep -E "listening on|running" "$dir/fedgate.log" | sed 's/^/  fedgate: /'
  echo
  echo "demo: bob@fabrikam.test writes to alice@contoso.test (who answers), through fedgate:"
  local reply
  reply=$(lab_round_trip demo bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
  echo "  alice received: $(grep -h "hello from demo" "$dir/echo-demo.out")"
  echo "  bob received:   $reply"
  grep -E "authenticated by" "$dir/fedgate.log" | sed 's/^/  fedgate: /'
  local chat="ip netns exec $ns /usr/bin/python3 $here/demo_chat.py"
  cat <<TEXT

demo: running in network namespace $ns
  contoso.test  internal Prosody  c2s 127.0.0.10:5222  user alice / alicepass
  contoso.test  fedgate (S2S)     127.0.0.11:5269, 5270 (direct TLS); metrics at $metrics
  fabrikam.test Prosody (partner) c2s 127.0.0.20:5222  user bob / bobpass
  DNS (SRV records) at $LAB_DNS; CA certificate: $dir/pki/ca.crt
Chat (each line typed goes to the other user, what arrives is printed; Ctrl-D ends):
  $chat alice
  $chat bob
  $chat bob 'hello alice'    (one message, waits for the answer)
fedgate's metrics:
  ip netns exec $ns curl -s http://$metrics/metrics
Every partner's state (the daemon's control socket), and why federation with a domain works or not:
  $fedgate status -c $dir/fedgate.toml
  ip netns exec $ns $fedgate probe -c $dir/fedgate.toml fabrikam.test
Any other XMPP client works from inside the namespace: ip netns exec $ns <your client>
Logs: $dir/fedgate.log, $dir/*/prosody.log; fedgate's configuration: $dir/fedgate.toml
Stop everything (fedgate first, the internal server last): scripts/demo stop
TEXT
}

case "${1:-}" in
  up) up "${2:?usage: demo.sh up FEDGATE_BINARY}" || { echo "demo: failed; stopping what started"; down; exit 1; } ;;
  down) down ;;
  *) echo "usage: demo.sh up FEDGATE_BINARY | down" >&2; exit 2 ;;
esac
