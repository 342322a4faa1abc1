#!/usr/bin/env bash
# The man pages format without a single groff warning, and fedgate(8)'s
# synopsis names every command and contacts action the command line has
# (read from `fedgate --help` and `fedgate contacts --help`, not from a list here).
# Usage: man_pages.sh FEDGATE_BINARY PAGE...
set -uo pipefail

fedgate=$1
shift
fail=0

if ! command -v groff >/dev/null; then
  echo "man_pages: groff is missing; install groff-base (scripts/setup-deps)" >&2
  exit 1
fi

# Every warning (-ww), formatted as man(1) would on a terminal, output thrown away (-z).
warnings_of() { groff -ww -man -Tutf8 -z "$1" 2>&1 >/dev/null; }

# The check itself must see a broken page: a request groff does not know.
broken=$(mktemp)
trap 'rm -f "$broken"' EXIT
printf '.TH X 5\n.SH NAME\nx\n.NOSUCHREQUEST\n' >"$broken"
if [ -z "$(warnings_of "$broken")" ]; then
  echo "man_pages: groff -ww reported nothing for a page with an unknown request; the check cannot fail" >&2
  exit 1
fi

for page in "$@"; do
  out=$(warnings_of "$page")
  if [ -n "$out" ]; then
    echo "man_pages: $page: groff warnings:" >&2
    echo "$out" >&2
    fail=1
  fi
  if command -v man >/dev/null; then
    out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    if [ -n "$out" ]; then
      echo "man_pages: $page: man --warnings:" >&2
      echo "$out" >&2
      fail=1
    fi
  fi
done

# The commands of a --help text: the lines under "Subcommands:".
commands_of() { "$fedgate" "$@" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NF && !/:$/ {print $1}'; }

page8=""
for page in "$@"; do case $page in *.8) page8=$page ;; esac; done
synopsis=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$page8")
commands=$(commands_of)
[ -n "$commands" ] || { echo "man_pages: no commands in fedgate --help" >&2; exit 1; }
for c in $commands; do
  grep -qx "\.B fedgate $c" <<<"$synopsis" || { echo "man_pages: $page8: SYNOPSIS lacks '.B fedgate $c'" >&2; fail=1; }
  grep -qx "\.B $c" <(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$page8") ||
    { echo "man_pages: $page8: COMMANDS lacks '.B $c'" >&2; fail=1; }
done
for a in $(commands_of contacts); do
  grep -Eqx "\.B $a|\.BI $a .*" <<<"$synopsis" || { echo "man_pages: $page8: SYNOPSIS lacks contacts $a" >&2; fail=1; }
done
# Every option of every command and action.
for where in "" $commands $(for a in $(commands_of contacts); do echo "contacts:$a"; done); do
  for option in $("$fedgate" ${where//:/ } --help | grep -Eo '^ +-[-a-z,]+' | tr ',' ' '); do
    grep -q -- "${option//-/\\\\-}" "$page8" || { echo "man_pages: $page8 does not mention $option" >&2; fail=1; }
  done
done

exit $fail
