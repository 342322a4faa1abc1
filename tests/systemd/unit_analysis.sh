#!/usr/bin/env bash
# The unit as systemd sees it: `systemd-analyze verify` is clean and `security
# --offline` rates the sandbox OK or better (exposure at most 2.0), and the
# install puts every file where Debian expects it.
#   unit_analysis.sh FEDGATE_BINARY SOURCE_DIR
set -u
fedgate=$1
src=$2
command -v systemd-analyze >/dev/null || { echo "skipped: no systemd-analyze (apt-get install systemd)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi; }

# verify resolves ExecStart: point it at the binary under test.
sed "s|/usr/sbin/fedgate|$fedgate|g" "$src/systemd/fedgate.service" > "$work/fedgate.service"
systemd-analyze verify --man=no "$work/fedgate.service" > "$work/verify" 2>&1
check "systemd-analyze verify exits 0" [ $? -eq 0 ]
check "and says nothing" [ ! -s "$work/verify" ]
if [ -s "$work/verify" ]; then cat "$work/verify"; fi  # check itself always returns 0

systemd-analyze security --offline=yes --no-pager "$work/fedgate.service" > "$work/security" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for fedgate.service: \([0-9.]*\).*/\1/p' "$work/security")
echo "exposure: $exposure"
check "exposure at most 2.0" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'

# cmake --install of a build tree.
cmake --install "$(dirname "$(dirname "$fedgate")")" --prefix "$work/root/usr" > /dev/null
for f in usr/sbin/fedgate usr/lib/systemd/system/fedgate.service usr/lib/sysusers.d/fedgate.conf \
         usr/lib/tmpfiles.d/fedgate.conf usr/share/man/man8/fedgate.8 usr/share/man/man5/fedgate.toml.5 usr/share/doc/fedgate/examples/fedgate.example.toml; do
  check "installs /$f" [ -f "$work/root/$f" ]
done
check "the man page renders" sh -c "man -l '$work/root/usr/share/man/man8/fedgate.8' 2>/dev/null | grep -q 'federation edge gateway' || ! command -v man >/dev/null"

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
echo "all passed"
