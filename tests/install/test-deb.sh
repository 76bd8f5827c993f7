#!/usr/bin/env bash
# The Debian package (make deb): dpkg installs it without starting or
# loading anything, it ships what it must (binaries, conffiles, the unit,
# man pages, completion, logrotate, the alert rules, /var/lib/relayguard,
# Depends from the shared libraries), relayguardd --check-config accepts
# the shipped config and rejects a broken one with FILE:LINE and pins
# nothing, its logrotate file rotates the event log, remove keeps the
# configuration, and purge leaves the machine as it was (logs included).
# Refuses to run where relayguard is installed or in use.
. "$(dirname "$0")/../lib.sh"
rg_require_root
rg_require_cmds dpkg-buildpackage dh lintian systemd-analyze logrotate

for p in /etc/relayguard /var/lib/relayguard /var/log/relayguard \
	/run/relayguard /sys/fs/bpf/relayguard; do
	if [ -e "$p" ]; then
		echo "SKIP: $p exists: relayguard is installed or in use here"
		exit 77
	fi
done
if dpkg-query -W -f='${Status}' relayguard 2>/dev/null | grep -q installed; then
	echo "SKIP: the relayguard package is installed here"
	exit 77
fi

# Every path that relayguard, its package or its maintainer scripts could
# make (they all carry its name), other tests' labs aside.
relayguard_paths() {
	find /etc /usr /lib/systemd /var/lib /var/log /run /sys/fs/bpf -xdev \
		-maxdepth 6 -path /var/lib/dpkg -prune -o -name '*relayguard*' \
		! -name 'relayguard-lab-*' -print 2>/dev/null | sort
}
# dpkg waits for nobody: poll while another dpkg or apt holds its lock.
dpkg_locked() {
	local deadline=$((SECONDS + 300)) out
	while :; do
		out=$(DEBIAN_FRONTEND=noninteractive dpkg "$@" 2>&1) && return 0
		if ! grep -q 'lock' <<<"$out" || ((SECONDS > deadline)); then
			echo "$out"
			return 1
		fi
		sleep 1
	done
}
# The daemon must never start here (it would not anyway: the package does
# not start it on install): deny every service action while dpkg runs.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	rg_on_exit "rm -f /usr/sbin/policy-rc.d"
fi

version=$(dpkg-parsechangelog -l "$RG_TOP/scripts/debian/changelog" -S Version)
deb="$BUILD/relayguard_${version}_$(dpkg --print-architecture).deb"
assert_ok "make deb (lintian-clean)" make -s -C "$RG_TOP" BUILD="$BUILD" deb
[ -s "$deb" ] || fail "no $deb"

before=$(relayguard_paths)
rg_on_exit "dpkg --purge relayguard"
assert_ok "dpkg -i" dpkg_locked -i "$deb"
assert_eq "$(dpkg-query -W -f='${Status}' relayguard)" "install ok installed" "installed"

for f in /usr/sbin/relayguardd /usr/sbin/relayguardctl \
	/usr/share/man/man8/relayguardd.8.gz /usr/share/man/man8/relayguardctl.8.gz \
	/usr/share/man/man5/relayguard.conf.5.gz \
	/usr/share/bash-completion/completions/relayguardctl \
	/usr/share/bash-completion/completions/relayguardd \
	/etc/relayguard/relayguard.conf /etc/logrotate.d/relayguard \
	/lib/systemd/system/relayguardd.service \
	/usr/share/relayguard/relayguard.rules.yml \
	/usr/share/doc/relayguard/README.Debian; do
	[ -s "$f" ] || fail "$f not installed"
done
[ -d /var/lib/relayguard ] || fail "/var/lib/relayguard not installed"
ok "binaries, man pages, completion, config, logrotate, unit, rules, state dir"
conffiles=$(dpkg-query -W -f='${Conffiles}' relayguard)
assert_match "$conffiles" "/etc/relayguard/relayguard.conf [0-9a-f]+" "relayguard.conf is a conffile"
assert_match "$conffiles" "/etc/logrotate.d/relayguard [0-9a-f]+" "the logrotate file is a conffile"
assert_match "$(dpkg-query -W -f='${Depends}' relayguard)" "libbpf1.*libc6" "Depends from the shared libraries"
assert_match "$(grep -A3 '^/var/log/relayguard/events.json' /etc/logrotate.d/relayguard; cat /etc/logrotate.d/relayguard)" \
	"--signal=USR1 relayguardd" "logrotate signals SIGUSR1"
unit=$(cat /lib/systemd/system/relayguardd.service)
assert_match "$unit" $'\nExecStartPre=/usr/sbin/relayguardd --check-config ' "the unit checks the config before a start"
assert_match "$unit" $'\nExecReload=/usr/sbin/relayguardd --check-config .*\nExecReload=/bin/kill -HUP' \
	"and before a reload"
assert_match "$unit" $'\nExecStart=/usr/sbin/relayguardd ' "the unit starts the installed daemon"
assert_ok "systemd-analyze verify" systemd-analyze verify /lib/systemd/system/relayguardd.service
[ -L /etc/systemd/system/multi-user.target.wants/relayguardd.service ] || fail "unit not enabled"
ok "unit enabled"
[ -e /sys/fs/bpf/relayguard ] || [ -e /run/relayguard/relayguardd.pid ] &&
	fail "the install started relayguardd"
ok "the install started nothing"
assert_ok "installed relayguardctl runs" /usr/sbin/relayguardctl help

# --check-config on the shipped file (interfaces unset) and broken ones.
pins_before=$(ls /sys/fs/bpf)
out=$(/usr/sbin/relayguardd --check-config 2>&1) || fail "shipped config refused: $out"
assert_match "$out" $'BPF programs: accepted by the verifier\ninterfaces: none set' "the shipped config leaves interfaces unset"
assert_match "$out" $'\nconfiguration ok$' "check-config: the shipped config is ok"
maps=$(sed -n 's/^#define RG_MAP_[A-Z0-9_]*[[:space:]]*"\(.*\)"$/\1/p' "$RG_TOP/headers/relayguard.h")
for m in $maps; do
	[ -e "/sys/fs/bpf/$m" ] && ! grep -qx "$m" <<<"$pins_before" && fail "check-config pinned /sys/fs/bpf/$m"
done
[ -e /sys/fs/bpf/relayguard ] && fail "check-config made /sys/fs/bpf/relayguard"
ok "check-config pinned nothing"
cp /etc/relayguard/relayguard.conf "$RG_TMP/bad.conf"
echo "ban_tiem = 2h" >>"$RG_TMP/bad.conf"
line=$(wc -l <"$RG_TMP/bad.conf")
out=$(/usr/sbin/relayguardd -t -c "$RG_TMP/bad.conf" 2>&1)
assert_eq "$?" 1 "check-config: a broken file exits 1"
assert_match "$out" "^relayguardd: $RG_TMP/bad.conf:$line: unknown key 'ban_tiem'" "and names FILE:LINE"
[[ $out == *"configuration ok"* ]] && fail "a broken file reported ok"
printf 'interfaces = lo %s\n' "${RG_PREFIX}none" >"$RG_TMP/ifs.conf"
out=$(/usr/sbin/relayguardd -t -c "$RG_TMP/ifs.conf" 2>&1) || fail "missing interface refused: $out"
assert_match "$out" $'interface lo: present \\(index [0-9]+\\)\ninterface '"${RG_PREFIX}none: not found" \
	"check-config says which interfaces exist"

# The packaged logrotate file rotates the event log (its postrotate signal
# finds no daemon here: relayguardd's reopen on SIGUSR1 is test-reload.sh's).
mkdir -p /var/log/relayguard
echo '{"action":"ban"}' >/var/log/relayguard/events.json
assert_ok "logrotate with the packaged file" logrotate -f -s "$RG_TMP/logrotate.state" /etc/logrotate.d/relayguard
[ -s /var/log/relayguard/events.json.1 ] || fail "events.json not rotated: $(ls /var/log/relayguard)"
ok "the event log rotated to events.json.1"

# remove keeps the configuration; purge leaves the machine as it was.
echo "# edited" >>/etc/relayguard/relayguard.conf
assert_ok "dpkg --remove" dpkg_locked --remove relayguard
[ -e /usr/sbin/relayguardd ] && fail "remove left the daemon"
assert_match "$(tail -n 1 /etc/relayguard/relayguard.conf)" "# edited" "remove keeps the edited config"
[ -e /sys/fs/bpf/relayguard ] && fail "remove left pinned maps"
ok "no pinned maps after remove"
assert_ok "dpkg --purge" dpkg_locked --purge relayguard
dpkg-query -W relayguard >/dev/null 2>&1 && fail "dpkg still knows relayguard after purge"
ok "dpkg forgot relayguard"
after=$(relayguard_paths)
[ "$before" == "$after" ] ||
	fail "purge left the machine changed: $(diff <(echo "$before") <(echo "$after"))"
ok "after purge, every relayguard path is as before (config, state, unit links gone)"
rg_done
