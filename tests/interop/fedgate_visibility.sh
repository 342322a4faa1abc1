#!/usr/bin/env bash
# `fedgate probe` and `fedgate status` against real servers (issue 20): in the lab
# namespace, contoso.test is an internal Prosody behind fedgate, and the partners
# are real servers, healthy or each broken in one way an operator meets:
#   fabrikam.test  Prosody, healthy                      -> SASL EXTERNAL
#   northwind.test ejabberd, healthy                     -> SASL EXTERNAL
#   adatum.test    Prosody presenting fabrikam.test's certificate -> certificate, name_mismatch
#   tailspin.test  Prosody without TLS, policy tls = required      -> tls, tls-not-offered
#   lucerne.test   SRV record naming port 5299, where nothing listens -> tcp, refused
#   litware.test   Prosody with an expired certificate (same CA)   -> certificate, expired
# The probe explains each before any traffic; then users write across, and status
# reports each partner's health, method, and the stage, reason and advice of each
# failure. Needs root (network namespaces); FEDGATE_BINARY names the binary; the
# configurations, outputs and logs stay in $FEDGATE_LAB_DIR (default:
# ./fedgate-visibility-lab).
set -u
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the lab needs root for network namespaces"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
fedgate=${FEDGATE_BINARY:-$here/../../build/daemon/fedgate}
. "$here/lab.sh"
lab_scenario_run "${FEDGATE_LAB_DIR:-$PWD/fedgate-visibility-lab}"

lab_up "$work" contoso.test=127.0.0.11 fabrikam.test=127.0.0.20 northwind.test=127.0.0.30 tailspin.test=127.0.0.40 \
  adatum.test=127.0.0.50 lucerne.test=127.0.0.70:5299 litware.test=127.0.0.80 || fail "lab did not come up"
cp "$work/pki/fabrikam.test.crt" "$work/pki/adatum.test.crt"
cp "$work/pki/fabrikam.test.key" "$work/pki/adatum.test.key"

# expired_certificate DOMAIN: DOMAIN's certificate again, from the lab's CA, valid
# in 2024 only (`openssl x509 -req` cannot date a certificate in the past;
# `openssl ca` can).
expired_certificate() {
  local d=$1 ca="$work/expired-ca"
  mkdir -p "$ca" && : > "$ca/index.txt" && echo 1000 > "$ca/serial"
  cat > "$ca/ca.cnf" <<CNF
[ca]
default_ca = lab
[lab]
database = $ca/index.txt
new_certs_dir = $ca
serial = $ca/serial
default_md = sha256
policy = anything
[anything]
commonName = supplied
[server]
subjectAltName = DNS:$d
extendedKeyUsage = serverAuth,clientAuth
keyUsage = digitalSignature
CNF
  openssl req -new -key "$work/pki/$d.key" -subj "/CN=$d" -out "$ca/$d.csr" 2>/dev/null &&
    openssl ca -batch -notext -config "$ca/ca.cnf" -cert "$work/pki/ca.crt" -keyfile "$work/pki/ca.key" \
      -in "$ca/$d.csr" -out "$work/pki/$d.crt" -startdate 20240101000000Z -enddate 20250101000000Z \
      -extensions server 2>"$ca/openssl.err"
}
expired_certificate litware.test || fail "cannot make litware.test's expired certificate: $(cat "$work/expired-ca/openssl.err")"
openssl x509 -in "$work/pki/litware.test.crt" -noout -checkend 0 >/dev/null && fail "litware.test's certificate has not expired"

printf '%s\n' 's2s_require_encryption = false' 'modules_disabled = { "tls" }' > "$work/plaintext.cfg.lua"
partner_domains=(fabrikam.test northwind.test tailspin.test adatum.test lucerne.test litware.test)
lab_internal_prosody contoso contoso.test "${partner_domains[@]}" || fail "internal Prosody did not start"
lab_prosody fabrikam fabrikam.test 127.0.0.20 || fail "fabrikam Prosody did not start"
lab_prosody tailspin tailspin.test 127.0.0.40 "$work/plaintext.cfg.lua" || fail "tailspin Prosody did not start"
lab_prosody adatum adatum.test 127.0.0.50 || fail "adatum Prosody did not start"
lab_prosody litware litware.test 127.0.0.80 || fail "litware Prosody did not start"
lab_ejabberd northwind northwind.test 127.0.0.30 || fail "northwind ejabberd did not start"
lab_register contoso alice contoso.test alicepass >/dev/null 2>&1
lab_register fabrikam bob fabrikam.test bobpass >/dev/null 2>&1
lab_ejabberd_register northwind carol northwind.test carolpass >/dev/null || fail "cannot register carol"

sasl_only() { lab_partner "$1" required required false; }
config="$work/fedgate-visibility.toml"
lab_fedgate_config "$config" contoso.test 127.0.0.11 "$(for d in fabrikam.test northwind.test adatum.test \
  lucerne.test litware.test; do sasl_only "$d"; done
  lab_partner tailspin.test required optional true
  printf '[limits]\ndelivery_deadline_seconds = 5\n')"
lab_fedgate "$fedgate" "$config" "$work/fedgate-visibility.log" || fail "fedgate did not start"
fedgate_pid=$LAB_FEDGATE_PID

# json_holds FILE WHAT EXPRESSION: the Python EXPRESSION holds of the JSON document
# `d` in FILE; `steps(stage)` are a probe's steps of a stage, `partner(domain)` a
# status document's row; else the scenario fails with WHAT.
json_holds() {
  /usr/bin/python3 - "$1" "$3" <<'PY' || fail "$2 (see $1)"
import json, sys
d = json.load(open(sys.argv[1]))
def steps(stage): return [s for s in d.get("steps", []) if s["stage"] == stage]
def partner(domain): return next(p for p in d["partners"] if p["domain"] == domain)
def failed(stage, reason):
    return any(s["outcome"] == "failed" and s["reason"] == reason and s["advice"] for s in steps(stage))
try:
    holds = eval("(" + sys.argv[2] + ")")  # several lines: one expression
except Exception as e:
    print("the check raised %r" % e)
    holds = False
sys.exit(0 if holds else 1)
PY
}

# probe DOMAIN EXIT: `fedgate probe` of DOMAIN exits EXIT; its text and JSON are
# kept as probe-DOMAIN.txt / .json.
probe() {
  local rc=0
  lab_exec "$fedgate" probe -c "$config" "$1" > "$work/probe-$1.txt" 2>&1 || rc=$?
  [ "$rc" = "$2" ] || fail "probe $1 exited $rc, not $2: $(cat "$work/probe-$1.txt")"
  lab_exec "$fedgate" probe -c "$config" --json "$1" > "$work/probe-$1.json" 2>"$work/probe-$1.err"
}

# status EXIT LABEL: `fedgate status` exits EXIT; its text and JSON are kept as
# status-LABEL.txt / .json.
status() {
  local rc=0
  lab_exec "$fedgate" status -c "$config" > "$work/status-$2.txt" 2>&1 || rc=$?
  [ "$rc" = "$1" ] || fail "status ($2) exited $rc, not $1: $(cat "$work/status-$2.txt")"
  lab_exec "$fedgate" status -c "$config" --json > "$work/status-$2.json" 2>"$work/status-$2.err"
}

# 1. Before any traffic: every partner idle, exit 0.
status 0 idle
json_holds "$work/status-idle.json" "status: not every partner idle before any traffic" \
  'd["version"] == 1 and d["healthy"] and all(p["health"] == "idle" for p in d["partners"]) and len(d["partners"]) == 6'
echo "ok: status before any traffic: 6 partners, all idle, exit 0"
passed=$((passed + 1))

# 2. The probe, each partner as `fedgate run` would see it.
probe fabrikam.test 0
json_holds "$work/probe-fabrikam.test.json" "probe fabrikam.test: not SASL EXTERNAL with a valid certificate" \
  'd["negotiable"] and d["method"] == "sasl-over-tls" and steps("certificate")[0]["reason"] == "certificate-valid"
   and steps("authentication")[0]["reason"] == "sasl-over-tls"'
probe northwind.test 0
json_holds "$work/probe-northwind.test.json" "probe northwind.test (ejabberd): not SASL EXTERNAL" \
  'd["negotiable"] and d["method"] == "sasl-over-tls" and steps("certificate")[0]["reason"] == "certificate-valid"'
probe adatum.test 1
json_holds "$work/probe-adatum.test.json" "probe adatum.test: no certificate-name-mismatch with advice" \
  'not d["negotiable"] and failed("certificate", "certificate-name-mismatch")'
probe tailspin.test 1
json_holds "$work/probe-tailspin.test.json" "probe tailspin.test: no tls-not-offered with advice" \
  'not d["negotiable"] and failed("tls", "tls-not-offered")'
probe lucerne.test 1
json_holds "$work/probe-lucerne.test.json" "probe lucerne.test: no refused connection to port 5299 with advice" \
  'not d["negotiable"] and steps("dns")[0]["reason"] == "srv-found" and failed("tcp", "connection-refused")
   and "5299" in json.dumps(steps("tcp"))'
probe litware.test 1
json_holds "$work/probe-litware.test.json" "probe litware.test: no certificate-expired with advice" \
  'not d["negotiable"] and failed("certificate", "certificate-expired")'
for d in fabrikam.test northwind.test adatum.test tailspin.test lucerne.test litware.test; do
  echo "   probe $d: $(tail -1 "$work/probe-$d.txt")"
  grep -E '^\[[a-z]+\] failed' "$work/probe-$d.txt" | sed 's/^/      /'
done
echo "ok: probe: SASL EXTERNAL with Prosody and ejabberd; name mismatch, no TLS, closed port, expired certificate"
passed=$((passed + 1))

# 3. Traffic, then status.
reply=$(lab_round_trip fabrikam bob@fabrikam.test bobpass 127.0.0.20 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from fabrikam" ] || fail "bob got '$reply' instead of alice's echo"
reply=$(lab_round_trip northwind carol@northwind.test carolpass 127.0.0.30 alice@contoso.test alicepass 127.0.0.10)
[ "$reply" = "echo: hello from northwind" ] || fail "carol got '$reply' instead of alice's echo"
for to in erin@adatum.test dave@tailspin.test gil@lucerne.test hal@litware.test; do
  reply=$(lab_exec /usr/bin/python3 "$here/xmpp_client.py" send alice@contoso.test alicepass 127.0.0.10 \
    "$work/pki/ca.crt" "$to" "hello $to" 2>"$work/send-$to.err" | tail -1)
  case "$reply" in error:*) ;; *) fail "alice -> $to: expected a bounce, got '$reply'" ;; esac
done
status 1 after
json_holds "$work/status-after.json" "status: fabrikam (Prosody) not up by SASL EXTERNAL both ways" \
  'partner("fabrikam.test")["health"] == "up" and partner("fabrikam.test")["inbound"]["method"] == "sasl-over-tls"
   and partner("fabrikam.test")["outbound"]["method"] == "sasl-over-tls"
   and partner("fabrikam.test")["certificate_expires"] is not None'
json_holds "$work/status-after.json" "status: northwind (ejabberd) not up by SASL EXTERNAL both ways" \
  'partner("northwind.test")["health"] == "up" and partner("northwind.test")["inbound"]["method"] == "sasl-over-tls"
   and partner("northwind.test")["outbound"]["method"] == "sasl-over-tls"'
# last_failure of PARTNER's outbound direction is at STAGE for REASON, with advice.
outbound_failure() {
  json_holds "$work/status-after.json" "status: $1 outbound did not fail at $2 ($3) with advice" \
    "partner('$1')['health'] == 'failing' and partner('$1')['outbound']['health'] == 'failing'
     and partner('$1')['outbound']['last_failure']['stage'] == '$2'
     and partner('$1')['outbound']['last_failure']['reason'] == '$3'
     and len(partner('$1')['outbound']['last_failure']['advice']) > 20"
}
outbound_failure adatum.test certificate name_mismatch
outbound_failure tailspin.test tls tls-not-offered
outbound_failure lucerne.test tcp connection_refused
outbound_failure litware.test certificate expired
json_holds "$work/status-after.json" "status: litware's expired certificate is not in its inventory" \
  'partner("litware.test")["certificate_expires"].startswith("2025-01-01")'
grep -q "^litware.test .*failing: certificate" "$work/status-after.txt" || fail "status: no litware row failing at certificate"
grep -q "litware.test outbound: failed at certificate (expired) .*renew" "$work/status-after.txt" ||
  fail "status: no advice line for litware's expired certificate"
sed 's/^/   /' "$work/status-after.txt"
echo "ok: status: fabrikam and northwind up by SASL EXTERNAL; each failure at its stage with advice; exit 1"
passed=$((passed + 1))

stop_fedgate || fail "fedgate did not exit 0 on SIGTERM"
echo "$passed passed, 0 failed"
exit 0
