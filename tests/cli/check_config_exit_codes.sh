#!/usr/bin/env bash
# The command line's contract with operators and scripts: check-config exits 0 on a
# valid configuration (report on stdout), 1 on an invalid one (errors on stderr,
# nothing on stdout), 2 on a usage error.
#   check_config_exit_codes.sh FEDGATE_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

expect() {  # expect STATUS DESCRIPTION -- COMMAND...
  local want=$1 what=$2; shift 3
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want"; cat "$work/err"; failures=$((failures + 1))
  else
    echo "ok: $what (exit $got)"
  fi
}

bash "$src/scripts/make-demo-certs" "$work/demo" >/dev/null
cp "$src/conf/fedgate.example.toml" "$work/fedgate.toml"
cp "$src/tests/data/configs/key_mismatch.toml" "$work/broken.toml"
bash "$src/scripts/make-demo-certs" "$work/certs" contoso.test other.test >/dev/null

expect 0 "valid example" -- "$fedgate" check-config -c "$work/fedgate.toml"
grep -q "methods:            SASL over TLS, TLS dialback" "$work/out" || { echo "FAIL: report lacks methods"; failures=$((failures + 1)); }
expect 1 "broken configuration" -- "$fedgate" check-config -c "$work/broken.toml"
[ -s "$work/out" ] && { echo "FAIL: an invalid configuration printed a report"; failures=$((failures + 1)); }
grep -q "broken.toml:4: error: key file" "$work/err" || { echo "FAIL: error lacks file:line"; failures=$((failures + 1)); }
# A state_dir that `run` could not open its store in fails the check, not the start.
sed 's|^state_dir = .*|state_dir = "absent-state"|' "$work/fedgate.toml" > "$work/no-state.toml"
expect 1 "missing state_dir" -- "$fedgate" check-config -c "$work/no-state.toml"
grep -q 'no-state.toml:[0-9]*: error: state_dir ".*absent-state": No such file or directory; the relationship store lives there' "$work/err" ||
  { echo "FAIL: the missing state_dir is not named with its line"; cat "$work/err"; failures=$((failures + 1)); }
# s2s mode: the report names it; its internal listener may not share a public one.
python3 - "$work/fedgate.toml" "$work/s2s.toml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
internal = ('[internal]\nmode = "s2s"\nhost = "127.0.0.1"\nlisten = ["127.0.0.2:5269"]\n'
            'secret_file = "demo/component.secret"\n')
text = re.sub(r'\[internal\]\n(?:[a-z_]+ = .*\n)+', internal, text)
text = re.sub(r'(?m)^s2s_listen = .*$', 's2s_listen = ["127.0.0.1:5269"]', text)
text = re.sub(r'(?m)^direct_tls_listen = .*$', 'direct_tls_listen = ["127.0.0.1:5270"]', text)
open(sys.argv[2], "w").write(text)
PY
expect 0 "s2s mode" -- "$fedgate" check-config -c "$work/s2s.toml"
grep -q "internal server:    127.0.0.1:5269 (mode s2s: it federates with fedgate as with every remote domain)" "$work/out" &&
  grep -q "internal listen:    127.0.0.2:5269, from 127.0.0.1" "$work/out" ||
  { echo "FAIL: the report does not show s2s mode"; cat "$work/out"; failures=$((failures + 1)); }
sed 's|^s2s_listen = .*|s2s_listen = ["0.0.0.0:5269"]|' "$work/s2s.toml" > "$work/s2s-shared.toml"
expect 1 "s2s mode under a wildcard public listener" -- "$fedgate" check-config -c "$work/s2s-shared.toml"
grep -q "s2s-shared.toml:[0-9]*: error: 'listen' in \[internal\]: 127.0.0.2:5269 would share the public listener 0.0.0.0:5269" "$work/err" ||
  { echo "FAIL: the shared listener is not named with its line"; cat "$work/err"; failures=$((failures + 1)); }
# Open federation: [default_partner] in s2s mode is shown after the partners,
# refused in component mode with the reason; matrix -c shows its combination.
printf '\n[default_partner]\ndescription = "anyone else"\nmax_domains = 40\n' > "$work/open-section"
cat "$work/s2s.toml" "$work/open-section" > "$work/open.toml"
expect 0 "[default_partner] in s2s mode" -- "$fedgate" check-config -c "$work/open.toml"
grep -A8 "^Default partner" "$work/out" | grep -q "every domain not listed  (public_unverified)" &&
  grep -q "rate limit:         20 stanzas, 131072 bytes a second" "$work/out" &&
  grep -q "open streams:       to at most 40 unlisted domains at once" "$work/out" ||
  { echo "FAIL: the report does not show [default_partner]"; cat "$work/out"; failures=$((failures + 1)); }
grep -q "none: every domain not listed above is refused" "$work/out" &&
  { echo "FAIL: the open configuration reported closed federation"; failures=$((failures + 1)); }
cat "$work/fedgate.toml" "$work/open-section" > "$work/open-component.toml"
expect 1 "[default_partner] in component mode" -- "$fedgate" check-config -c "$work/open-component.toml"
line=$(grep -n '^\[default_partner\]' "$work/open-component.toml" | cut -d: -f1)
grep -q "open-component.toml:$line: error: \[default_partner\] needs \[internal\] mode = \"s2s\": in component mode" "$work/err" ||
  { echo "FAIL: component mode does not refuse [default_partner] at line $line"; cat "$work/err"; failures=$((failures + 1)); }
expect 0 "matrix -c" -- "$fedgate" matrix -c "$work/open.toml"
grep -qE "^  \[default_partner\] \(unlisted\) +required +optional +true +SASL over TLS, TLS dialback$" "$work/out" &&
  grep -qE "^  fabrikam.test +required +required +false +SASL over TLS$" "$work/out" ||
  { echo "FAIL: matrix -c does not show the configured combinations"; cat "$work/out"; failures=$((failures + 1)); }
expect 1 "matrix -c of an invalid configuration" -- "$fedgate" matrix -c "$work/open-component.toml"
expect 1 "missing file" -- "$fedgate" check-config -c "$work/none.toml"
expect 2 "unknown option" -- "$fedgate" check-config --bogus
expect 2 "no subcommand" -- "$fedgate"
expect 2 "unknown subcommand" -- "$fedgate" frobnicate
grep -q "^fedgate: unknown command 'frobnicate'; the commands are check-config, run, contacts, status, probe, matrix" "$work/err" ||
  { echo "FAIL: the unknown command is not named"; cat "$work/err"; failures=$((failures + 1)); }
expect 2 "unknown contacts subcommand" -- "$fedgate" contacts frob
grep -q "^fedgate contacts: unknown command 'frob'; the commands are list, show, import, export, migrate" "$work/err" ||
  { echo "FAIL: the unknown contacts command is not named"; cat "$work/err"; failures=$((failures + 1)); }
expect 2 "an extra argument" -- "$fedgate" check-config stray
grep -q "^fedgate check-config: unexpected argument 'stray'" "$work/err" ||
  { echo "FAIL: the extra argument is not named"; cat "$work/err"; failures=$((failures + 1)); }
expect 0 "--help" -- "$fedgate" --help
expect 0 "check-config --help" -- "$fedgate" check-config --help
expect 0 "--version" -- "$fedgate" --version
grep -q "^fedgate [0-9]" "$work/out" || { echo "FAIL: --version output"; failures=$((failures + 1)); }
expect 0 "matrix" -- "$fedgate" matrix
[ "$(wc -l < "$work/out")" -eq 19 ] || { echo "FAIL: matrix has $(wc -l < "$work/out") lines, expected 19"; failures=$((failures + 1)); }

# status with nobody on the control socket: 2, and the socket named.
sed 's|^\[metrics\]|[control]\nsocket = "'"$work"'/control.sock"\n[metrics]|' "$work/fedgate.toml" > "$work/status.toml"
expect 2 "status without a daemon" -- "$fedgate" status -c "$work/status.toml"
grep -q "no fedgate answers on $work/control.sock" "$work/err" ||
  { echo "FAIL: status does not name the socket"; cat "$work/err"; failures=$((failures + 1)); }
echo "$failures failed"
[ "$failures" -eq 0 ]
