#!/usr/bin/env bash
# The Debian package as a packager builds it and an operator installs it (issue 21):
# dpkg-buildpackage in a copy of the tree (Debian's dpkg-buildflags, no compiler
# warning allowed), lintian without errors, `apt-get install ./fedgate_*.deb`, then
# what it installed, the user and folders it made, the first-run note, check-config
# on the shipped example as the fedgate user, systemd-analyze verify on the installed
# unit; then a purge, and what is left. Root on Debian 12 (it installs and purges the
# package and its build dependencies, via scripts/setup-deps). About 5 min on 2 cores.
#   tests/package/package_test.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "package_test: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root: it installs and purges the fedgate package"
# Never clobber a real installation or an operator's configuration.
if dpkg-query -W -f='${Status}' fedgate 2>/dev/null | grep -q 'ok installed'; then
  die "the fedgate package is installed here already; this test would purge it (apt-get purge fedgate first)"
fi
for d in /etc/fedgate /var/lib/fedgate; do
  [ ! -e "$d" ] || die "$d exists already (another installation's?); this test makes and purges it: move it away first"
done
bash "$repo/scripts/setup-deps" || die "scripts/setup-deps failed"
# The user outlives a purge (Debian's rule); one this test made is removed at the end.
user_before=$(getent passwd fedgate)

work=$(mktemp -d /tmp/fedgate-package-XXXXXX)
installed=0
# On any exit, the machine as it was: no package, folders or user of this test's.
cleanup() {
  if [ "$installed" = 1 ]; then apt-get purge -y -q fedgate > /dev/null 2>&1; rm -rf /etc/fedgate /var/lib/fedgate; fi
  if [ -z "$user_before" ] && getent passwd fedgate > /dev/null; then userdel fedgate; fi
  if [ -z "$user_before" ] && getent group fedgate > /dev/null; then groupdel fedgate; fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok: $what"; return 0; fi
  echo "FAIL: $what"; failures=$((failures + 1)); return 1
}

# One version: debian/changelog's upstream part is CMake's project(VERSION).
cmake_version=$(sed -n 's/^project(fedgate VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
deb_version=$(cd "$repo" && dpkg-parsechangelog -S Version)
check "debian/changelog's version $deb_version is CMake's $cmake_version" [ "${deb_version%-*}" = "$cmake_version" ]

# Build in a copy: dpkg-buildpackage writes its results into the parent folder.
mkdir "$work/src"
(cd "$repo" && git ls-files -co --exclude-standard -z | tar -cf - --null -T -) | tar -xf - -C "$work/src" ||
  die "cannot copy the tree (git ls-files) to $work/src"
echo "building the package (log: $work/build.log) ..."
if ! (cd "$work/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1; then
  tail -40 "$work/build.log"
  die "dpkg-buildpackage failed"
fi
deb=$(ls "$work"/fedgate_"$deb_version"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || die "dpkg-buildpackage made no fedgate_${deb_version}_*.deb in $work"
grep -F ': warning:' "$work/build.log" > "$work/warnings"
check "the build with dpkg-buildflags shows no warning (compiler, linker, dpkg)" [ ! -s "$work/warnings" ] || head -20 "$work/warnings"
grep -q -- '-D_FORTIFY_SOURCE=2' "$work/build.log"
check "and it compiled with Debian's hardening flags" [ $? -eq 0 ]

lintian --fail-on error --tag-display-limit 0 "$deb" > "$work/lintian" 2>&1
check "lintian reports no error" [ $? -eq 0 ]
sed 's/^/  lintian: /' "$work/lintian"

# Install as an operator would; nothing may start (not enabled, and no configuration).
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "$deb" > "$work/install.log" 2>&1 || {
  cat "$work/install.log"; die "apt-get install $deb failed"; }
installed=1
check "the first-run note says where the example is" \
  grep -q 'cp /usr/share/doc/fedgate/examples/fedgate.example.toml /etc/fedgate/fedgate.toml' "$work/install.log"
dpkg -L fedgate > "$work/files"
for f in /usr/sbin/fedgate /lib/systemd/system/fedgate.service /usr/lib/sysusers.d/fedgate.conf \
         /usr/lib/tmpfiles.d/fedgate.conf /usr/share/doc/fedgate/examples/fedgate.example.toml \
         /usr/share/doc/fedgate/README.Debian /usr/share/doc/fedgate/copyright; do
  check "installs $f" grep -qx "$f" "$work/files"
done
# Every man page in the tree, so that one added without its install line is caught.
while read -r page; do
  name=$(basename "$page"); section=${name##*.}
  check "installs the man page $name" grep -qx "/usr/share/man/man$section/$name.gz" "$work/files"
done < <(cd "$repo" && git ls-files -co --exclude-standard '*.[1-8]')
check "fedgate --version says $cmake_version" sh -c "fedgate --version | grep -qF '$cmake_version'"
check "the fedgate user exists${user_before:+ (it did before)}, home /var/lib/fedgate" sh -c "getent passwd fedgate | cut -d: -f6 | grep -qx /var/lib/fedgate"
check "/etc/fedgate is root:fedgate 750" [ "$(stat -c '%U:%G %a' /etc/fedgate 2>&1)" = "root:fedgate 750" ]
check "/var/lib/fedgate is fedgate:fedgate 750" [ "$(stat -c '%U:%G %a' /var/lib/fedgate 2>&1)" = "fedgate:fedgate 750" ]
check "no /etc/fedgate/fedgate.toml is shipped" [ ! -e /etc/fedgate/fedgate.toml ]
check "the service is not enabled" [ "$(systemctl is-enabled fedgate.service 2>&1)" = disabled ]

# The shipped example, with the files it names made beside it and the package's
# state_dir, as /etc/fedgate/fedgate.toml, set up as README.Debian says: the fedgate
# user must accept it without a warning.
cp /usr/share/doc/fedgate/examples/fedgate.example.toml /etc/fedgate/fedgate.toml
sed -i 's|^state_dir = .*|state_dir = "/var/lib/fedgate"|' /etc/fedgate/fedgate.toml
chgrp fedgate /etc/fedgate/fedgate.toml; chmod 640 /etc/fedgate/fedgate.toml
bash "$repo/scripts/make-demo-certs" /etc/fedgate/demo > /dev/null
chown -R fedgate:fedgate /etc/fedgate/demo  # made with umask 077: keys and secrets 600
runuser -u fedgate -- fedgate check-config > "$work/check.out" 2> "$work/check.err"
check "runuser -u fedgate -- fedgate check-config accepts the shipped example" [ $? -eq 0 ] || cat "$work/check.err"
check "and warns about nothing" [ ! -s "$work/check.err" ] || cat "$work/check.err"
systemd-analyze verify --man=no /lib/systemd/system/fedgate.service > "$work/verify" 2>&1
check "systemd-analyze verify accepts the installed unit" [ $? -eq 0 ]
check "and says nothing" [ ! -s "$work/verify" ] || cat "$work/verify"

# Purge: the operator's configuration stays, the package's files and state go.
rm -rf /etc/fedgate/demo
apt-get purge -y -q fedgate > "$work/purge.log" 2>&1
check "apt-get purge fedgate succeeds" [ $? -eq 0 ] || cat "$work/purge.log"
installed=0
status=$(dpkg-query -W -f='${Status}' fedgate 2>/dev/null)
check "dpkg knows nothing of it (status: ${status:-none})" [ -z "$status" -o "$status" = "unknown ok not-installed" ]
left=$(while read -r f; do [ -f "$f" ] && echo "$f"; done < "$work/files")
check "none of its files is left" [ -z "$left" ] || echo "$left"
check "/var/lib/fedgate is removed" [ ! -e /var/lib/fedgate ]
check "the operator's /etc/fedgate/fedgate.toml is kept" [ -f /etc/fedgate/fedgate.toml ]
rm -rf /etc/fedgate  # the operator's
check "no enablement symlink is left" sh -c "! find /etc/systemd -name 'fedgate*' | grep -q ."
check "the fedgate user stays (Debian leaves system users)" sh -c "getent passwd fedgate > /dev/null"

[ "$failures" -eq 0 ] || { echo "package_test: $failures failed"; exit 1; }
echo "package_test: all passed"
