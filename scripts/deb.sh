#!/usr/bin/env bash
# make deb: the Debian package, built by dpkg-buildpackage (debhelper) from
# the packaging in scripts/debian, then checked by lintian (an error, a
# warning or even an info tag, such as a binary built without Debian's
# hardening flags, fails the build; overrides, each with its reason, are in
# scripts/debian/relayguard.lintian-overrides).
# The staging tree BUILD/deb/src links to this tree's sources and keeps its
# own build folder (Debian's build flags), so a rebuild is incremental.
# Usage: scripts/deb.sh BUILD OUTPUT.deb
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1 out=$2
mkdir -p "$build/deb/src"
deb_dir=$(cd "$build/deb" && pwd)
stage="$deb_dir/src"

for f in Makefile bpf headers user; do
	ln -sfn "$top/$f" "$stage/$f"
done
rm -rf "$stage/debian" "$deb_dir"/*.deb "$deb_dir"/*.changes "$deb_dir"/*.buildinfo
cp -r "$top/scripts/debian" "$stage/debian"

# The variables of the make that called this one (BUILD=... on its command
# line is exported) stay out of the package's own build: it builds in the
# staging tree with Debian's flags.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES BUILD PREFIX DESTDIR CC \
	CFLAGS CPPFLAGS LDFLAGS
log="$deb_dir/dpkg-buildpackage.log"
if ! (cd "$stage" && dpkg-buildpackage -b -us -uc -nc -jauto) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "make deb: dpkg-buildpackage failed (log: $log)" >&2
	exit 1
fi
built=$(ls "$deb_dir"/relayguard_*.deb)
lintian --display-info --fail-on error,warning,info "$built" >&2 || {
	echo "make deb: lintian rejects $built" >&2
	exit 1
}
cp "$built" "$out"
