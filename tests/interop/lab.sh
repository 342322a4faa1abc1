#!/usr/bin/env bash
# The interop lab: a network namespace of its own with loopback addresses for each
# server, a dnsmasq serving the lab domains' SRV and A records, a test CA, and real
# XMPP servers from Debian's packages, each with its own config, data and PID file.
# Everything is stopped by recorded PID and the namespace deleted, also on failure.
#
# Source it, then: lab_up DIR; lab_prosody NAME DOMAIN ADDRESS; ...; lab_down.
# Commands run inside the lab with: lab_exec COMMAND...

LAB_DNS=127.0.0.53

lab_exec() { ip netns exec "$LAB_NS" "$@"; }

lab_log() { echo "lab: $*" >&2; }

# lab_up DIR DOMAIN=ADDRESS[,ADDRESS...]... : creates the namespace, DNS records, CA and
# certificates (a domain with several addresses gets one SRV target per address).
# DOMAIN=ADDRESS:PORT publishes PORT in the SRV record instead of 5269.
lab_up() {
  LAB_DIR=$1; shift
  # LAB_NS_NAME: a fixed name (the demo's, so that the commands it prints still work
  # after it is restarted); tests run in a namespace of their own process's.
  LAB_NS=${LAB_NS_NAME:-fglab-$$}
  mkdir -p "$LAB_DIR"
  : > "$LAB_DIR/pids"
  ip netns add "$LAB_NS"
  ip -n "$LAB_NS" link set lo up
  mkdir -p "/etc/netns/$LAB_NS"
  echo "nameserver $LAB_DNS" > "/etc/netns/$LAB_NS/resolv.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' > "/etc/netns/$LAB_NS/hosts"

  local records=() domains=() addresses=() pair domain address
  for pair in "$@"; do
    domain=${pair%%=*}; address=${pair#*=}
    domains+=("$domain")
    if [[ $address != *,* ]]; then
      local port=5269
      [[ $address == *:* ]] && { port=${address#*:}; address=${address%%:*}; }
      records+=(--host-record="$domain,$address"
                --srv-host="_xmpp-server._tcp.$domain,$domain,$port,0,5")
      continue
    fi
    # Several addresses: one SRV target each (i1.DOMAIN, i2.DOMAIN, ...), tried
    # in this order (priorities 0, 10, ...), as several instances are published.
    local i=0 one
    IFS=, read -ra addresses <<< "$address"
    for one in "${addresses[@]}"; do
      i=$((i + 1))
      records+=(--host-record="i$i.$domain,$one"
                --srv-host="_xmpp-server._tcp.$domain,i$i.$domain,5269,$(( (i - 1) * 10 )),5")
    done
  done
  # Backgrounded directly (not through lab_exec): `ip netns exec` execs the server,
  # so $! is the server's own PID.
  ip netns exec "$LAB_NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
    --listen-address="$LAB_DNS" --bind-interfaces --port=53 --user=root \
    --local=/test/ --log-queries --log-facility="$LAB_DIR/dnsmasq.log" "${records[@]}" &
  echo $! >> "$LAB_DIR/pids"
  # No XmppAddr: ejabberd 23.01 crashes on a peer certificate carrying one
  # (xmpp_stream_pkix:get_cert_domains, badarg), so the lab's common CA leaves it out.
  bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/make-demo-certs" --no-xmpp-addr "$LAB_DIR/pki" \
    "${domains[@]}" >/dev/null
  lab_wait_port "$LAB_DNS" 53 udp
}

# lab_wait_port HOST PORT [udp]: waits up to 20 s for something to listen there.
lab_wait_port() {
  local flag=-ltn; [ "${3:-}" = udp ] && flag=-lun
  for _ in $(seq 200); do
    lab_exec ss $flag "( sport = :$2 )" | grep -q "$1:$2" && return 0
    sleep 0.1
  done
  lab_log "nothing listens on $1:$2"; return 1
}

# lab_prosody NAME DOMAIN ADDRESS [EXTRA_CONFIG_FILE [EXTRA_MODULES]]: a Prosody
# serving DOMAIN. The extra file may set s2s_require_encryption (the default here
# is true): an option set twice makes Prosody 0.12 fail while it warns about the
# duplicate. EXTRA_MODULES are more quoted names for modules_enabled, such as
# '"s2s_bidi"' (XEP-0288, commented out in Debian's default configuration).
# LAB_PROSODY_HOST_CONFIG, when set, are more lines of the VirtualHost (a host's
# own s2s_ssl, which its ssl would override at the global level).
# LAB_PROSODY_DNS, when set, names the DNS server it asks instead of the lab's
# (lab_internal_prosody_s2s: the internal view); unbound is set here, not in the
# extra file, for the same reason.
lab_prosody() {
  local name=$1 domain=$2 address=$3 extra=${4:-/dev/null} modules=${5:+, $5}
  local dir="$LAB_DIR/$name"
  mkdir -p "$dir/data"
  cat > "$dir/prosody.cfg.lua" <<CFG
run_as_root = true
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
log = { debug = "$dir/prosody.log" }
interfaces = { "$address" }
c2s_ports = { 5222 }
s2s_ports = { 5269 }
-- smacks: XEP-0198, which Prosody 0.12 also offers and uses on authenticated S2S streams
modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "presence", "smacks"$modules }
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
$(grep -q '^s2s_require_encryption' "$extra" || echo 's2s_require_encryption = true')
s2s_secure_auth = false
ssl = { cafile = "$LAB_DIR/pki/ca.crt" }
certificates = "$LAB_DIR/pki"
-- With lua-unbound installed (Debian's prosody recommends it), Prosody resolves through
-- libunbound, which answers NXDOMAIN for the special-use .test names (RFC 6761) by itself
-- unless their zone is transparent, and asks /etc/resolv.conf's servers: the lab's
-- dnsmasq is named here instead. Without lua-unbound (net.dns, which reads the
-- namespace's resolv.conf) nothing reads this setting.
unbound = { resolvconf = false, forward = "${LAB_PROSODY_DNS:-$LAB_DNS}", options = { ["local-zone"] = "test. transparent" } }
$(cat "$extra")
VirtualHost "$domain"
  ssl = { certificate = "$LAB_DIR/pki/$domain.crt", key = "$LAB_DIR/pki/$domain.key", cafile = "$LAB_DIR/pki/ca.crt" }
${LAB_PROSODY_HOST_CONFIG:-}
CFG
  ip netns exec "$LAB_NS" prosody -F --config "$dir/prosody.cfg.lua" > "$dir/stdout.log" 2>&1 &
  echo $! >> "$LAB_DIR/pids"
  echo $! > "$dir/launcher.pid"  # lab_kill NAME
  lab_wait_port "$address" 5222
}

# lab_kill NAME: ends the Prosody NAME at once (SIGKILL), as a crash would.
lab_kill() {
  local pid; pid=$(cat "$LAB_DIR/$1/launcher.pid")
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null  # our child: reaped without bash's "Killed" line
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# lab_pause NAME / lab_resume NAME: SIGSTOP / SIGCONT the Prosody NAME (it reads,
# writes and acknowledges nothing while paused).
lab_pause() { kill -STOP "$(cat "$LAB_DIR/$1/launcher.pid")"; }
lab_resume() { kill -CONT "$(cat "$LAB_DIR/$1/launcher.pid")"; }

# lab_register NAME USER DOMAIN PASSWORD
lab_register() {
  lab_exec prosodyctl --config "$LAB_DIR/$1/prosody.cfg.lua" register "$2" "$3" "$4"
}

# Stops the recorded servers, then whatever they left in the namespace (ejabberd's
# Erlang node and epmd are grandchildren of the recorded ejabberdctl), then deletes it.
lab_down() {
  [ -n "${LAB_NS:-}" ] || return 0
  local pid
  if [ -f "$LAB_DIR/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null; done < "$LAB_DIR/pids"
  fi
  for _ in $(seq 30); do
    [ -z "$(ip netns pids "$LAB_NS" 2>/dev/null)" ] && break
    ip netns pids "$LAB_NS" 2>/dev/null | xargs -r kill 2>/dev/null
    sleep 0.1
  done
  ip netns pids "$LAB_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$LAB_NS" 2>/dev/null
  rm -rf "/etc/netns/$LAB_NS"
}

# lab_ejabberd NAME DOMAIN ADDRESS: an ejabberd serving DOMAIN. ejabberdctl runs the
# node as the 'ejabberd' user, so its files are made readable to it. Its
# certificate is the lab's, or that of LAB_EJABBERD_PKI (a make-demo-certs folder).
lab_ejabberd() {
  local name=$1 domain=$2 address=$3
  local dir="$LAB_DIR/$name" pki=${LAB_EJABBERD_PKI:-$LAB_DIR/pki}
  mkdir -p "$dir/spool" "$dir/logs"
  cat "$pki/$domain.crt" "$pki/$domain.key" > "$dir/$domain.pem"
  cat > "$dir/ejabberd.yml" <<CFG
hosts: ["$domain"]
loglevel: debug
certfiles: ["$dir/$domain.pem"]
ca_file: "$LAB_DIR/pki/ca.crt"
listen:
  - {port: 5222, ip: "$address", module: ejabberd_c2s, starttls: true}
  - {port: 5269, ip: "$address", module: ejabberd_s2s_in}
s2s_use_starttls: required
outgoing_s2s_families: [ipv4]
# A refused stream makes ejabberd bounce everything to that domain for a random
# delay of up to this many seconds (default 300): one scenario's refusal would
# otherwise bounce the next scenario's stanzas.
s2s_max_retry_delay: 1
auth_method: internal
acl:
  local: {user_regexp: ""}
access_rules:
  local: {allow: local}
modules:
  mod_roster: {}
  mod_disco: {}
  mod_s2s_dialback: {}  # XEP-0220, for the dialback scenarios
CFG
  lab_ejabberd_start "$name" "$address"
}

# lab_ejabberd_start NAME ADDRESS: starts the ejabberd whose configuration is
# $LAB_DIR/NAME/ejabberd.yml (certificates in NAME's folder) and waits for its
# c2s port on ADDRESS.
lab_ejabberd_start() {
  local name=$1 address=$2
  local dir="$LAB_DIR/$name"
  # ejabberdctl sources its ctl config after reading its flags: without our own, the
  # system one would point the node back at /etc/ejabberd/ejabberd.yml.
  # An inetrc in NAME's folder (lab_internal_ejabberd_s2s) is the node's instead of
  # Debian's /etc/ejabberd/inetrc: ejabberdctl sets ERL_INETRC after sourcing this
  # file, and -kernel inetrc wins over it. ejabberdctl splits ERL_OPTIONS on spaces
  # without evaluating quotes, so the double quotes reach erl and make the value an
  # Erlang string.
  local inetrc=""
  [ -f "$dir/inetrc" ] && inetrc=" -kernel inetrc \\\"$dir/inetrc\\\""
  cat > "$dir/ejabberdctl.cfg" <<CTL
EJABBERD_CONFIG_PATH=$dir/ejabberd.yml
EJABBERD_PID_PATH=$dir/ejabberd.pid
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0$inetrc"
CTL
  chmod 755 "$LAB_DIR" "$LAB_DIR/pki"
  chmod 644 "$LAB_DIR/pki/ca.crt"
  chown -R ejabberd "$dir"
  LAB_EJABBERD_NODE="$name@localhost"
  ip netns exec "$LAB_NS" ejabberdctl --ctl-config "$dir/ejabberdctl.cfg" --spool "$dir/spool" \
    --logs "$dir/logs" --node "$LAB_EJABBERD_NODE" foreground > "$dir/stdout.log" 2>&1 &
  echo $! >> "$LAB_DIR/pids"
  echo $! > "$dir/launcher.pid"  # lab_ejabberd_stop NAME
  lab_wait_port "$address" 5222
}

# lab_ejabberd_stop NAME: stops the ejabberd NAME as its operator would
# (ejabberdctl stop) and waits until its launcher has exited.
lab_ejabberd_stop() {
  local dir="$LAB_DIR/$1" pid
  pid=$(cat "$dir/launcher.pid")
  lab_exec ejabberdctl --ctl-config "$dir/ejabberdctl.cfg" --spool "$dir/spool" --logs "$dir/logs" \
    --node "$1@localhost" stop >/dev/null
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid" 2>/dev/null
  ! kill -0 "$pid" 2>/dev/null
}

# lab_ejabberd_register NAME USER DOMAIN PASSWORD
lab_ejabberd_register() {
  local dir="$LAB_DIR/$1"
  lab_exec ejabberdctl --ctl-config "$dir/ejabberdctl.cfg" --spool "$dir/spool" --logs "$dir/logs" \
    --node "$1@localhost" register "$2" "$3" "$4"
}

# lab_internal_ejabberd NAME DOMAIN PARTNER_DOMAIN...: an ejabberd for DOMAIN at
# LAB_INTERNAL, as lab_internal_prosody but ejabberd: each partner domain is a host
# of one ejabberd_service (XEP-0114) listener with the secret in
# $LAB_DIR/component.secret. global_routes false: with ejabberd's default (true),
# each component connection registers a route for every host of its listener, and
# messages to fabrikam.test left on northwind.test's link (tried in the lab). No
# S2S listener, and s2s_access denies every outbound stream: fedgate is the only
# S2S here.
lab_internal_ejabberd() {
  local name=$1 domain=$2 d; shift 2
  local dir="$LAB_DIR/$name"
  [ -f "$LAB_DIR/component.secret" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$LAB_DIR/component.secret"
  [ -f "$LAB_DIR/dialback.secret" ] || head -c 32 /dev/urandom | base64 > "$LAB_DIR/dialback.secret"
  chmod 600 "$LAB_DIR/component.secret" "$LAB_DIR/dialback.secret"
  mkdir -p "$dir/spool" "$dir/logs"
  cat "$LAB_DIR/pki/$domain.crt" "$LAB_DIR/pki/$domain.key" > "$dir/$domain.pem"
  {
    cat <<CFG
hosts: ["$domain"]
loglevel: debug
certfiles: ["$dir/$domain.pem"]
ca_file: "$LAB_DIR/pki/ca.crt"
listen:
  - {port: 5222, ip: "$LAB_INTERNAL", module: ejabberd_c2s, starttls: true}
  - port: 5347
    ip: "$LAB_INTERNAL"
    module: ejabberd_service
    global_routes: false
    hosts:
CFG
    for d in "$@"; do
      printf '      "%s": {password: "%s"}\n' "$d" "$(cat "$LAB_DIR/component.secret")"
    done
    cat <<CFG
s2s_access: no_s2s
auth_method: internal
acl:
  local: {user_regexp: ""}
access_rules:
  local: {allow: local}
  no_s2s: {deny: all}
modules:
  mod_roster: {}
  mod_disco: {}
  mod_ping: {}  # in Debian's default configuration: fedgate's pings get results
CFG
  } > "$dir/ejabberd.yml"
  lab_ejabberd_start "$name" "$LAB_INTERNAL"
  lab_wait_port "$LAB_INTERNAL" 5347
}

# ---- fedgate in the lab ----------------------------------------------------------
# The internal server sits at LAB_INTERNAL, fedgate (the S2S edge of the internal
# domain, which its SRV record names) at the internal domain's lab address.
LAB_INTERNAL=127.0.0.10

# lab_internal_prosody NAME DOMAIN PARTNER_DOMAIN...: a Prosody for DOMAIN with no
# S2S of its own, knowing each partner domain as a XEP-0114 component with the
# secret in $LAB_DIR/component.secret (made here; also the dialback secret).
lab_internal_prosody() {
  local name=$1 domain=$2 d; shift 2
  [ -f "$LAB_DIR/component.secret" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$LAB_DIR/component.secret"
  [ -f "$LAB_DIR/dialback.secret" ] || head -c 32 /dev/urandom | base64 > "$LAB_DIR/dialback.secret"
  chmod 600 "$LAB_DIR/component.secret" "$LAB_DIR/dialback.secret"
  {
    echo 'modules_disabled = { "s2s" }  -- fedgate is the only S2S here'
    echo "component_ports = { 5347 }"
    echo "component_interface = \"$LAB_INTERNAL\""
    for d in "$@"; do
      printf 'Component "%s"\n  component_secret = "%s"\n' "$d" "$(cat "$LAB_DIR/component.secret")"
    done
  } > "$LAB_DIR/$name-components.cfg.lua"
  lab_prosody "$name" "$domain" "$LAB_INTERNAL" "$LAB_DIR/$name-components.cfg.lua"
}

# lab_partner DOMAIN TLS SASL DIALBACK [TYPE]: one [[partner]] section of fedgate's
# configuration.
lab_partner() {
  printf '[[partner]]\ndomain = "%s"\ntype = "%s"\ntls = "%s"\nsasl = "%s"\ndialback = %s\n' \
    "$1" "${5:-federated}" "$2" "$3" "$4"
}

# lab_fedgate_config FILE DOMAIN ADDRESS PARTNERS: fedgate for DOMAIN, listening on
# ADDRESS (5269 STARTTLS, 5270 direct TLS), with the lab's CA, DNS and internal server,
# and a state directory (relationship store) and a control socket (`fedgate status -c
# FILE`) of its own beside FILE, or in /tmp when that path is too long for a socket.
lab_fedgate_config() {
  mkdir -p "${1%.toml}-state"
  local socket="${1%.toml}.sock"
  [ ${#socket} -le 100 ] || socket="/tmp/$LAB_NS-$(basename "${1%.toml}").sock"
  cat > "$1" <<TOML
[gateway]
worker_threads = ${LAB_WORKER_THREADS:-2}
s2s_listen = ["$3:5269"]
direct_tls_listen = ["$3:5270"]
dialback_secret_file = "$LAB_DIR/dialback.secret"
state_dir = "${1%.toml}-state"
[[local_domain]]
name = "$2"
certificate = "$LAB_DIR/pki/$2.crt"
key = "$LAB_DIR/pki/$2.key"
$(lab_internal_section)
[tls]
ca_file = "$LAB_DIR/pki/ca.crt"
[dns]
servers = ["$LAB_DNS:53"]
[control]
socket = "$socket"
[log]
level = "debug"
$4
TOML
}

# lab_internal_section: fedgate's [internal] section. Component mode by default;
# with LAB_FEDGATE_INTERNAL=ADDRESS, s2s mode with fedgate's internal listener on
# ADDRESS:5269 (lab_internal_view points the remote domains there) and the
# internal leg's dialback secret in $LAB_DIR/internal-dialback.secret, and the
# lines of LAB_INTERNAL_SETTINGS (such as sasl = "not_supported"). Prosody's
# S2S streams leave from whatever source address the kernel picks (it binds only
# its listeners), so the whole loopback network may connect.
lab_internal_section() {
  if [ -z "${LAB_FEDGATE_INTERNAL:-}" ]; then
    printf '[internal]\nhost = "%s"\nport = 5347\nsecret_file = "%s"\n' "$LAB_INTERNAL" "$LAB_DIR/component.secret"
    return
  fi
  [ -f "$LAB_DIR/internal-dialback.secret" ] ||
    { head -c 32 /dev/urandom | base64 > "$LAB_DIR/internal-dialback.secret"; chmod 600 "$LAB_DIR/internal-dialback.secret"; }
  printf '[internal]\nmode = "s2s"\nhost = "%s"\nlisten = ["%s:5269"]\nallowed_addresses = ["127.0.0.0/8"]\nsecret_file = "%s"\n%s\n' \
    "$LAB_INTERNAL" "$LAB_FEDGATE_INTERNAL" "$LAB_DIR/internal-dialback.secret" "${LAB_INTERNAL_SETTINGS:-}"
}

# lab_fedgate BINARY CONFIG LOG: runs fedgate in the lab (its PID is recorded, and
# in LAB_FEDGATE_PID); waits until every partner's component link is ready (in
# s2s mode, until it is ready: there are no component links).
lab_fedgate() {
  ip netns exec "$LAB_NS" "$1" run -c "$2" > "$3" 2>&1 &
  LAB_FEDGATE_PID=$!
  echo "$LAB_FEDGATE_PID" >> "$LAB_DIR/pids"
  local partners
  partners=$(grep -c '^\[\[partner' "$2")
  for _ in $(seq 100); do
    if grep -q '^mode = "s2s"' "$2"; then
      grep -q ' info ready$' "$3" && return 0
    elif [ "$(grep -c 'component link for .* ready' "$3")" -ge "$partners" ]; then
      return 0
    fi
    kill -0 "$LAB_FEDGATE_PID" 2>/dev/null || { lab_log "fedgate exited: $(tail -5 "$3")"; return 1; }
    sleep 0.1
  done
  lab_log "fedgate did not link to the internal server"; return 1
}

# lab_round_trip LABEL JID PASSWORD ADDRESS TO TO_PASSWORD TO_ADDRESS: TO answers the
# first message with "echo: ..."; JID sends "hello from LABEL". Prints the reply.
# The clients trust the lab's CA, or the CA file LAB_CLIENT_CA names.
lab_round_trip() {
  local client ca=${LAB_CLIENT_CA:-$LAB_DIR/pki/ca.crt}
  client="$(dirname "${BASH_SOURCE[0]}")/xmpp_client.py"
  lab_exec /usr/bin/python3 "$client" echo "$5" "$6" "$7" "$ca" \
    > "$LAB_DIR/echo-$1.out" 2>"$LAB_DIR/echo-$1.err" &
  local echo_pid=$!
  for _ in $(seq 100); do grep -qs ready "$LAB_DIR/echo-$1.out" && break; sleep 0.1; done
  lab_exec /usr/bin/python3 "$client" send "$2" "$3" "$4" "$ca" "$5" "hello from $1" \
    2>"$LAB_DIR/send-$1.err" | tail -1
  wait $echo_pid
}

# For the scenario scripts (fedgate_federation.sh, fedgate_internal_*.sh), which
# set `scenarios` (the names asked for) and `fedgate` (the binary).
LAB_CLIENT="$(dirname "${BASH_SOURCE[0]}")/xmpp_client.py"
# lab_scenario_run WORKDIR: a fresh WORKDIR (`work`, kept after the run), no
# fedgate yet (`fedgate_pid`), none passed; on exit fedgate stops, the lab goes
# down, and where the logs are is said.
lab_scenario_run() {
  work=$1
  rm -rf "$work" && mkdir -p "$work"
  fedgate_pid=""
  passed=0
  trap 'stop_fedgate; lab_down; echo "logs: $work"' EXIT
}
# start_fedgate NAME PARTNERS: fedgate for contoso.test at 127.0.0.11 with the
# configuration $work/fedgate-NAME.toml (PARTNERS: [[partner]] sections), its log
# in $work/fedgate-NAME.log, its PID in fedgate_pid.
start_fedgate() {
  lab_fedgate_config "$work/fedgate-$1.toml" contoso.test 127.0.0.11 "$2"
  lab_fedgate "$fedgate" "$work/fedgate-$1.toml" "$work/fedgate-$1.log" || fail "fedgate ($1) did not start"
  fedgate_pid=$LAB_FEDGATE_PID
}
# scenario NAME: the checks passed; fedgate must then exit 0 on SIGTERM.
scenario() {
  stop_fedgate || fail "$1: fedgate did not exit 0 on SIGTERM"
  echo "ok: $1"
  passed=$((passed + 1))
}
# run_client MODE JID PASSWORD ADDRESS ARGS...: a client (xmpp_client.py) in the
# foreground, trusting the lab's CA or LAB_CLIENT_CA; prints its last line.
run_client() {
  local mode=$1 jid=$2 password=$3 address=$4; shift 4
  lab_exec /usr/bin/python3 "$LAB_CLIENT" "$mode" "$jid" "$password" "$address" "${LAB_CLIENT_CA:-$work/pki/ca.crt}" \
    "$@" 2>>"$work/clients.err" | tail -1
}
# client_bg NAME MODE JID PASSWORD ADDRESS [ARGS...]: a client in the background,
# its output in $work/NAME.out, its PID in $client_pid; waits until it is logged
# in when it announces that ("ready": echo, accept).
client_bg() {
  local name=$1 mode=$2 jid=$3 password=$4 address=$5; shift 5
  lab_exec /usr/bin/python3 "$LAB_CLIENT" "$mode" "$jid" "$password" "$address" "${LAB_CLIENT_CA:-$work/pki/ca.crt}" \
    "$@" > "$work/$name.out" 2>"$work/$name.err" &
  client_pid=$!
  case $mode in echo|accept)
    for _ in $(seq 100); do grep -qs ready "$work/$name.out" && break; sleep 0.1; done ;;
  esac
}
# subscription LABEL JID PASSWORD ADDRESS TO TO_PASSWORD TO_ADDRESS: TO accepts, JID
# subscribes; each must see the other's presence.
subscription() {
  client_bg "accept-$1" accept "$5" "$6" "$7"
  local accepting=$client_pid result
  result=$(run_client subscribe "$2" "$3" "$4" "$5")
  wait $accepting || fail "$1: $5 did not see $2's presence: $(tail -1 "$work/accept-$1.out")"
  [ "$result" = "subscribed, and presence received from $5" ] || fail "$1: $2 got '$result'"
}
# lab_unverified_checks: the public_unverified rules between lena@fabrikam.test
# (127.0.0.20) and kai@contoso.test (127.0.0.10), both registered, with fedgate's
# log in $work/fedgate-unverified.log: lena's subscription request nobody invited
# is refused (kai never sees it, fedgate logs it), and so is her message, with
# <forbidden/>; once kai invites lena, the subscription and a message work.
lab_unverified_checks() {
  lab_invitation_checks unverified kai@contoso.test 127.0.0.10 lena@fabrikam.test 127.0.0.20 fabrikam.test
}
# lab_invitation_checks NAME LOCAL LOCAL_ADDRESS STRANGER STRANGER_ADDRESS PARTNER:
# the public_unverified checks for any two users, both registered with the password
# USERpass (USER: the JID's local part), the public_unverified terms being those
# of PARTNER as fedgate's log names them (a domain, or * for [default_partner]),
# fedgate's log in $work/fedgate-NAME.log: STRANGER's subscription request to
# LOCAL nobody invited is refused (LOCAL never sees it, fedgate logs it), and so
# is the stranger's message, with <forbidden/>; once LOCAL invites STRANGER, the
# subscription and a message work.
lab_invitation_checks() {
  local name=$1 local_jid=$2 local_address=$3 stranger=$4 stranger_address=$5 partner=$6
  local local_pass="${2%%@*}pass" stranger_pass="${4%%@*}pass" log="$work/fedgate-$1.log" waiting result reply
  XMPP_CLIENT_TIMEOUT=6 client_bg "$name-uninvited" accept "$local_jid" "$local_pass" "$local_address"
  waiting=$client_pid
  result=$(XMPP_CLIENT_TIMEOUT=6 run_client subscribe "$stranger" "$stranger_pass" "$stranger_address" "$local_jid")
  wait $waiting && fail "$name: $local_jid saw $stranger without an invitation"
  [ "$result" = timeout ] || fail "$name: $stranger's uninvited request got '$result'"
  grep -F "refused presence subscribe from $stranger" "$log" |
    grep -qF " to $local_jid (partner $partner, public_unverified)" ||
    fail "$name: no refusal of $stranger's request in fedgate's log"
  reply=$(run_client send "$stranger" "$stranger_pass" "$stranger_address" "$local_jid" "hello from a stranger")
  [ "$reply" = "error: forbidden" ] || fail "$name: $stranger's uninvited message got '$reply'"
  subscription "$name-invites" "$local_jid" "$local_pass" "$local_address" "$stranger" "$stranger_pass" "$stranger_address"
  grep -qF "relationship $local_jid ~ $stranger: to=false from=false asked=true (committed)" "$log" ||
    fail "$name: the invitation was not recorded"
  reply=$(lab_round_trip "$name-invited" "$stranger" "$stranger_pass" "$stranger_address" "$local_jid" "$local_pass" "$local_address")
  [ "$reply" = "echo: hello from $name-invited" ] || fail "$name: $stranger got '$reply' after the invitation"
}
# lab_metric ADDRESS NAME [LABEL...]: the sum of the series NAME, scraped from
# fedgate's [metrics] listener at ADDRESS (HOST:PORT), whose labels contain every
# LABEL given (such as 'partner="*"'); "none" when no series matches.
lab_metric() {
  local address=$1 name=$2; shift 2
  lab_exec curl -sf "http://$address/metrics" | awk -v name="$name" -v wanted="$*" '
    BEGIN { n = split(wanted, labels, " ") }
    $1 == name || index($1, name "{") == 1 {
      for (i = 1; i <= n; i++) if (!index($1, labels[i])) next
      sum += $NF; found = 1
    }
    END { if (found) print sum + 0; else print "none" }'
}
# fail WHAT: the scenario failed: the tail of every fedgate and server log, exit 1.
fail() {
  echo "FAIL: $*"
  for f in "$work"/fedgate-*.log "$work"/*/prosody.log "$work"/*/logs/ejabberd.log; do
    [ -f "$f" ] && { echo "== $f"; tail -25 "$f"; }
  done
  exit 1
}
# wanted NAME: NAME was asked for, or none was (then all run).
wanted() {
  [ ${#scenarios[@]} -eq 0 ] && return 0
  local s; for s in "${scenarios[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}
# stop_fedgate: SIGTERM to the fedgate in $fedgate_pid, its exit status returned.
stop_fedgate() {
  [ -n "$fedgate_pid" ] || return 0
  kill -TERM "$fedgate_pid" 2>/dev/null
  local rc=0
  wait "$fedgate_pid" || rc=$?
  fedgate_pid=""
  return $rc
}

# ---- the internal server federating with fedgate over S2S ([internal] mode = "s2s") --
# The internal server must reach fedgate's internal address for every remote domain
# while fedgate, and everyone else, still sees the public records: the internal
# server gets a DNS of its own that overrides those domains' SRV records only.
LAB_INTERNAL_DNS=127.0.0.54

# lab_internal_view ADDRESS DOMAIN...: "the internal server's view of DNS", a second
# dnsmasq at LAB_INTERNAL_DNS: _xmpp-server._tcp.DOMAIN is an SRV record for
# fedgate-internal.test (ADDRESS) port 5269 for each DOMAIN, and the rest is asked
# of the lab's dnsmasq. _xmpps-server._tcp.DOMAIN (XEP-0368 direct TLS) is NXDOMAIN:
# Prosody 0.12 asks it first (mod_s2s chains an xmpps-server resolver before the
# xmpp-server one whenever it has a TLS context) and connects to whatever it names,
# so forwarding it would leak the public answer, and pointing it at ADDRESS would
# need direct TLS on fedgate's internal leg. NXDOMAIN, as for a domain that never
# published one, makes every server fall back to _xmpp-server. The domains' own A
# records stay public: a server only falls back to them with no SRV answer at all.
lab_internal_view() {
  local address=$1 domain; shift
  local records=(--host-record="fedgate-internal.test,$address")
  LAB_INTERNAL_VIEW_ADDRESS=$address  # lab_internal_ejabberd_s2s
  for domain in "$@"; do
    records+=(--srv-host="_xmpp-server._tcp.$domain,fedgate-internal.test,5269,0,5"
              --local="/_xmpps-server._tcp.$domain/")
  done
  ip netns exec "$LAB_NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
    --listen-address="$LAB_INTERNAL_DNS" --bind-interfaces --port=53 --user=root \
    --server="$LAB_DNS" --log-queries --log-facility="$LAB_DIR/dnsmasq-internal.log" "${records[@]}" &
  echo $! >> "$LAB_DIR/pids"
  lab_wait_port "$LAB_INTERNAL_DNS" 53 udp
}

# lab_internal_prosody_s2s NAME DOMAIN: a Prosody for DOMAIN at LAB_INTERNAL that
# federates over S2S (STARTTLS required, then dialback: lab_prosody's
# s2s_secure_auth = false lets dialback authenticate a peer whose certificate is not
# valid for its domain, as fedgate's internal-leg certificate is not for the remote
# domains) and resolves through the internal view (lab_internal_view), so that its
# S2S to the remote domains goes to fedgate's internal address.
lab_internal_prosody_s2s() {
  # fedgate's public dialback secret, which lab_internal_prosody makes in component mode.
  [ -f "$LAB_DIR/dialback.secret" ] ||
    { head -c 32 /dev/urandom | base64 > "$LAB_DIR/dialback.secret"; chmod 600 "$LAB_DIR/dialback.secret"; }
  LAB_PROSODY_DNS=$LAB_INTERNAL_DNS lab_prosody "$1" "$2" "$LAB_INTERNAL"
}

# lab_internal_ejabberd_s2s NAME DOMAIN: an ejabberd for DOMAIN at LAB_INTERNAL that
# federates over S2S (ejabberd_s2s_in on 5269, c2s on 5222, STARTTLS required,
# mod_s2s_dialback: its s2s_out_tls_verify hook leaves the peer certificate
# unchecked, and when SASL EXTERNAL is not possible ejabberd retries with dialback,
# as fedgate's internal-leg certificate is not valid for the remote domains), and
# that resolves through the internal view (lab_internal_view).
# LAB_EJABBERD_PKI (lab_ejabberd's), when set, is a folder of make-demo-certs whose DOMAIN
# certificate ejabberd presents instead of the lab's, on S2S and c2s alike: the
# clients must trust that folder's CA too (lab_round_trip: LAB_CLIENT_CA). It
# cannot be S2S only: a c2s listener's own certfile joins the certificates
# ejabberd 23.01 picks from for the domain, and it prefers the valid one (tried:
# the lab's on the c2s listener, the other in certfiles, and ejabberd's S2S
# presented the lab's, which fedgate took for SASL EXTERNAL).
# ejabberd 23.01 (xmpp 1.6.1 xmpp_stream_out) asks the SRV records with Erlang's own
# DNS client (inet_res), whose servers come from the node's inetrc: NAME/inetrc
# names only LAB_INTERNAL_DNS; {resolv_conf, ""} comes first, or inet_res reloads
# the namespace's resolv.conf (the lab's dnsmasq) at its first lookup. The SRV
# target's address is asked of the system resolver (net:getaddrinfo, libc), so
# fedgate-internal.test is also in the namespace's hosts file: it is the internal
# network's name for fedgate, which the lab's dnsmasq, the public DNS, must not
# know (and it is running already).
lab_internal_ejabberd_s2s() {
  local name=$1 domain=$2
  local dir="$LAB_DIR/$name"
  # fedgate's public dialback secret, which lab_internal_ejabberd makes in component mode.
  [ -f "$LAB_DIR/dialback.secret" ] ||
    { head -c 32 /dev/urandom | base64 > "$LAB_DIR/dialback.secret"; chmod 600 "$LAB_DIR/dialback.secret"; }
  [ -n "${LAB_INTERNAL_VIEW_ADDRESS:-}" ] || { lab_log "lab_internal_ejabberd_s2s: no lab_internal_view"; return 1; }
  grep -q ' fedgate-internal.test$' "/etc/netns/$LAB_NS/hosts" ||
    echo "$LAB_INTERNAL_VIEW_ADDRESS fedgate-internal.test" >> "/etc/netns/$LAB_NS/hosts"
  mkdir -p "$dir"
  printf '{resolv_conf, ""}.\n{nameserver, {%s}, 53}.\n' "${LAB_INTERNAL_DNS//./,}" > "$dir/inetrc"
  # Otherwise a partner's ejabberd (S2S with STARTTLS required, dialback), at the
  # internal address; lab_ejabberd_start finds the inetrc.
  lab_ejabberd "$name" "$domain" "$LAB_INTERNAL" && lab_wait_port "$LAB_INTERNAL" 5269
}
