# Sourced by the scripts in tests/cli, which all take FEDGATE_BINARY SOURCE_DIR:
# those two as $fedgate and $src, a scratch folder $work that goes on exit, and
# $failures for the script to count in.
set -u
fedgate=$1
src=$2
work=${FEDGATE_CLI_WORK:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT
failures=0
