# Sourced by the scripts in tests/cli, which all take FEDGATE_BINARY SOURCE_DIR:
# those two as $fedgate and $src, a scratch folder $work that goes on exit, and
# $failures for the script to count in.
set -u
fedgate=$1
src=$2
work=${FEDGATE_CLI_WORK:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT
failures=0

# contacts_config FILE STATE_DIR [MORE]: a configuration for contoso.test with a
# public_unverified partner fabrikam.test, its state in STATE_DIR, MORE (TOML)
# at the end; the certificates come from $work/certs (make-demo-certs).
contacts_config() {
  mkdir -p "$2"
  cat > "$1" <<TOML
[gateway]
state_dir = "$2"
[[local_domain]]
name = "contoso.test"
certificate = "certs/contoso.test.crt"
key = "certs/contoso.test.key"
[internal]
secret_file = "certs/component.secret"
[[partner]]
domain = "fabrikam.test"
type = "public_unverified"
${3:-}
TOML
}
