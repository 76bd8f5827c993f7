#!/usr/bin/env bash
# make install puts binaries, man pages, completion, the example config,
# the logrotate file, the alert rules, the state dir and the systemd unit
# under DESTDIR/PREFIX, points the unit at the installed daemon, and never
# overwrites an operator's config.
. "$(dirname "$0")/../lib.sh"
rg_require_built

root="$RG_TMP/root"
inst() { make -s -C "$RG_TOP" BUILD="$BUILD" DESTDIR="$root" PREFIX=/usr install; }

assert_ok "make install into DESTDIR" inst
for f in usr/sbin/relayguardd usr/sbin/relayguardctl \
	usr/share/man/man8/relayguardd.8 usr/share/man/man8/relayguardctl.8 \
	usr/share/man/man5/relayguard.conf.5 \
	usr/share/bash-completion/completions/relayguardctl \
	usr/share/bash-completion/completions/relayguardd \
	usr/share/relayguard/relayguard.rules.yml etc/logrotate.d/relayguard \
	etc/relayguard/relayguard.conf lib/systemd/system/relayguardd.service; do
	[ -s "$root/$f" ] || fail "$f not installed"
done
[ -d "$root/var/lib/relayguard" ] || fail "var/lib/relayguard not installed"
ok "every file installed"
assert_ok "installed ctl runs" "$root/usr/sbin/relayguardctl" help
assert_match "$(grep '^ExecStart=' "$root/lib/systemd/system/relayguardd.service")" \
	'^ExecStart=/usr/sbin/relayguardd ' "the unit starts the installed daemon"
grep -q /usr/local "$root/lib/systemd/system/relayguardd.service" &&
	fail "the unit still names /usr/local"
ok "every command of the unit is the installed one"
man -l "$root/usr/share/man/man8/relayguardctl.8" >/dev/null 2>&1 ||
	groff -man -Tutf8 "$root/usr/share/man/man8/relayguardctl.8" >/dev/null ||
	fail "man page does not render"
ok "man page renders"

echo "interfaces = mine0" >"$root/etc/relayguard/relayguard.conf"
assert_ok "second install" inst
assert_eq "$(cat "$root/etc/relayguard/relayguard.conf")" "interfaces = mine0" \
	"an existing config is kept"
rg_done
