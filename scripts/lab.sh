#!/usr/bin/env bash
# relayguard lab: a mail gateway and its clients in network namespaces.
#
#   scripts/lab.sh up     [PREFIX] [strict|open|none] [policy]
#                                                       build the lab, start Postfix
#                                                       (policy: it asks relayguardd)
#   scripts/lab.sh down   [PREFIX]                      remove everything `up` made
#   scripts/lab.sh status [PREFIX]                      what exists now
#   scripts/lab.sh conf   [PREFIX] [enforce|monitor]    print a relayguardd config for it
#   scripts/lab.sh env    [PREFIX]                      print the state file (shell vars)
#   scripts/lab.sh pool   [PREFIX] N                    give the attacker N more IPv4 addresses
#   scripts/lab.sh relink [PREFIX]                      delete and re-create the gateway's veth
#
# PREFIX (default $LAB_PREFIX, else "rgl-") starts every namespace and veth
# name, so several labs and the host never collide. `up` writes
# /run/relayguard-lab-PREFIX.env; `down` reads it, but also works from the
# prefix alone, after a failed `up` included.
#
# Topology (one L2 segment, a bridge in the "sw" namespace):
#
#   PREFIXgw   gateway   PREFIXgw0  10.77.0.1/24 10.77.1.1/24 fd77::1 fd77:0:0:1::1
#                        (the client-facing veth: relayguard's XDP + TC go here)
#              10.77.16.1/20 (on-link route to the attacker's address pool)
#   PREFIXat   attacker  10.77.0.66   fd77::66  fd77:0:0:1::66 (a second /64)
#                        + `pool N`: 10.77.16.2 ... (a fresh address per attempt)
#   PREFIXcl   client    10.77.0.10   fd77:0:0:10::10 (legitimate, delivers to example.test)
#   PREFIXtr   trusted   10.77.1.5    (the trusted network 10.77.1.0/24)
#   PREFIXsp   spoofer   10.77.0.77   fd77:0:0:77::77 (forges other hosts' addresses)
#
# Every host has its own IPv6 /64 (bans group IPv6 by /64), all inside
# fd77::/48, which is on-link for everyone (addresses carry /48).
#
# Postfix runs in PREFIXgw with its own config directory under
# /run/relayguard-lab-PREFIX/pf: gw.example.test, local domain example.test,
# trusted network 10.77.1.0/24, STARTTLS with a self-signed certificate,
# local mail to /run/relayguard-lab-PREFIX/mail/Maildir/, log in .../maillog.
# "open" is the misconfigured variant (mynetworks = 0.0.0.0/0 [::]/0); mail
# for other domains is parked in the queue in both variants, never sent.
# "policy": smtpd asks relayguardd's policy service (LAB_POLICY_SERVICE,
# inet:127.0.0.1:10040 in the gateway's namespace) first in
# smtpd_relay_restrictions, and carries on (DUNNO) when it does not answer;
# `conf` then prints the matching policy_service line.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab
HOSTS=(gw at cl tr sp)
POLICY_SERVICE=inet:127.0.0.1:10040
GW_ADDRS="10.77.0.1/24 10.77.1.1/24 10.77.16.1/20 fd77::1/48 fd77:0:0:1::1/48"

die() {
	echo "lab: $*" >&2
	exit 1
}

set_names() { # PREFIX
	P=$1
	[[ "$P" =~ ^[a-z0-9][a-z0-9-]{0,9}$ ]] ||
		die "bad prefix '$P': 1-10 characters of a-z, 0-9, '-'"
	STATE="/run/relayguard-lab-$P.env"
	RUN="/run/relayguard-lab-$P"
	NS_SW="${P}sw"
	NS_GW="${P}gw"
	NS_AT="${P}at"
	NS_CL="${P}cl"
	NS_TR="${P}tr"
	NS_SP="${P}sp"
	IF_GW="${P}gw0"
	PF_CONF="$RUN/pf"
}

nsx() { # NS CMD...: plain programs in a namespace
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

make_ns() { # NS
	ip netns add "$1" || die "cannot create namespace $1"
	ip -n "$1" link set lo up
	nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.dad_transmits=0 \
		net.ipv6.conf.default.dad_transmits=0
}

# plug HOST: veth PREFIX<host>0 in the host's namespace, its peer in the
# switch's bridge.
plug() {
	local ns="${P}$1" ifn="${P}$1"0 port="${P}s$1"
	ip link add "$ifn" netns "$ns" type veth peer name "$port" netns "$NS_SW" ||
		die "cannot create veth $ifn/$port"
	ip -n "$NS_SW" link set "$port" master br0 up
	ip -n "$ns" link set "$ifn" up
}

addr() { # HOST ADDR/LEN...
	local ns="${P}$1" ifn="${P}$1"0 a
	shift
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$ifn" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$ifn" ;;
		esac
	done
}

write_state() {
	cat >"$STATE" <<-EOF
	LAB_PREFIX=$P
	LAB_RUN=$RUN
	LAB_NS_SW=$NS_SW
	LAB_NS_GW=$NS_GW
	LAB_NS_AT=$NS_AT
	LAB_NS_CL=$NS_CL
	LAB_NS_TR=$NS_TR
	LAB_NS_SP=$NS_SP
	LAB_IF_GW=$IF_GW
	LAB_PF_CONF=$PF_CONF
	LAB_POSTFIX=$1
	LAB_POLICY_SERVICE=${2:-}
	LAB_MAILLOG=$RUN/maillog
	LAB_MAILDIR=$RUN/mail/Maildir
	LAB_GW4=10.77.0.1
	LAB_GW6=fd77::1
	LAB_AT4=10.77.0.66
	LAB_AT6=fd77::66
	LAB_AT6B=fd77:0:0:1::66
	LAB_CL4=10.77.0.10
	LAB_CL6=fd77:0:0:10::10
	LAB_TR4=10.77.1.5
	LAB_SP4=10.77.0.77
	EOF
}

net_up() {
	local h
	make_ns "$NS_SW"
	ip -n "$NS_SW" link add br0 type bridge forward_delay 0 stp_state 0
	ip -n "$NS_SW" link set br0 up
	for h in "${HOSTS[@]}"; do
		make_ns "${P}$h"
		plug "$h"
	done
	addr gw $GW_ADDRS
	addr at 10.77.0.66/24 fd77::66/48 fd77:0:0:1::66/48
	addr cl 10.77.0.10/24 fd77:0:0:10::10/48
	addr tr 10.77.1.5/24
	addr sp 10.77.0.77/24 fd77:0:0:77::77/48
}

# Fill @NAME@ placeholders of a template.
render() { # TEMPLATE OUT VARIANT [POLICY_SERVICE]
	local mynet="127.0.0.0/8 10.77.1.0/24 [::1]/128" policy=""
	[ "$3" = open ] && mynet="0.0.0.0/0 [::]/0"
	[ -n "${4:-}" ] && policy="check_policy_service $4,"
	sed -e "s|@RUN@|$RUN|g" -e "s|@MYNETWORKS@|$mynet|g" \
		-e "s|@POLICY@|$policy|g" \
		-e "s|@VARIANT@|$3|g" \
		-e "s|@MAIL_UID@|$(id -u nobody)|g" \
		-e "s|@MAIL_GID@|$(id -g nobody)|g" "$1" >"$2"
}

# SASL for the lab's Postfix: one user in a private sasldb.
sasl_up() {
	mkdir -p "$PF_CONF/sasl"
	cat >"$PF_CONF/sasl/smtpd.conf" <<-EOF
	pwcheck_method: auxprop
	auxprop_plugin: sasldb
	mech_list: PLAIN LOGIN
	sasldb_path: $RUN/sasldb2
	EOF
	echo lab-secret | saslpasswd2 -p -c -f "$RUN/sasldb2" -u example.test relay ||
		die "saslpasswd2 failed (package sasl2-bin)"
	chown postfix: "$RUN/sasldb2"
	chmod 600 "$RUN/sasldb2"
}

postfix_up() { # strict|open [POLICY_SERVICE]
	mkdir -p "$PF_CONF" "$RUN/queue" "$RUN/data" "$RUN/tls" \
		"$RUN/mail/Maildir"/{new,cur,tmp}
	chmod 755 "$RUN"
	chown -R nobody: "$RUN/mail"
	chown postfix: "$RUN/data"
	render "$LAB_DIR/main.cf.in" "$PF_CONF/main.cf" "$1" "${2:-}"
	render "$LAB_DIR/master.cf.in" "$PF_CONF/master.cf" "$1"
	touch "$RUN/maillog"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 30 -subj /CN=gw.example.test \
		-keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" \
		>"$RUN/tls/openssl.log" 2>&1 ||
		die "cannot make the TLS certificate: $(cat "$RUN/tls/openssl.log")"
	chmod 600 "$RUN/tls/key.pem"
	sasl_up
	nsx "$NS_GW" postfix -c "$PF_CONF" check >"$RUN/postfix-start.log" 2>&1 &&
		nsx "$NS_GW" postfix -c "$PF_CONF" start >>"$RUN/postfix-start.log" 2>&1 ||
		die "postfix did not start: $(tail -n 5 "$RUN/postfix-start.log" "$RUN/maillog")"
	local i
	for ((i = 0; i < 100; i++)); do
		nsx "$NS_GW" ss -Hltn 'sport = :25' | grep -q 10.77.0.1 && return 0
		sleep 0.05
	done
	die "postfix is not listening on 10.77.0.1:25 after 5 s: $(tail -n 5 "$RUN/maillog")"
}

postfix_down() {
	local pid
	[ -f "$PF_CONF/main.cf" ] || return 0
	postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
	pid=$(cat "$RUN/queue/pid/master.pid" 2>/dev/null | tr -d ' ') || true
	if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
		sleep 0.3
		kill -9 "$pid" 2>/dev/null || true
	fi
}

# Stop whatever still runs in one of the lab's namespaces (swaks, daemons the
# tests left), by pid.
kill_ns_pids() {
	local ns pid
	for ns in "$NS_SW" "${HOSTS[@]/#/$P}"; do
		[ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
	done
}

cmd_up() { # VARIANT [policy]
	local variant=${1:-strict} policy=""
	case $variant in strict | open | none) ;; *) die "bad variant '$variant': strict, open or none" ;; esac
	case ${2:-} in
	"") ;;
	policy) policy=$POLICY_SERVICE ;;
	*) die "bad option '$2': policy or nothing" ;;
	esac
	[ "$(id -u)" = 0 ] || die "needs root"
	[ -e "$STATE" ] && die "a lab with prefix $P exists ($STATE): scripts/lab.sh down $P"
	ip netns list | grep -q "^${P}" && die "namespaces named ${P}* exist: scripts/lab.sh down $P"
	trap 'echo "lab: set-up failed, tearing down" >&2; cmd_down' EXIT
	mkdir -p "$RUN"
	write_state "$variant" "$policy"
	net_up
	[ "$variant" = none ] || postfix_up "$variant" "$policy"
	trap - EXIT
}

cmd_down() {
	postfix_down
	kill_ns_pids
	local ns
	for ns in "${HOSTS[@]/#/$P}" "$NS_SW"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
	rm -rf "$RUN" "$STATE"
	return 0
}

cmd_status() {
	local ns any=0
	for ns in "$NS_SW" "${HOSTS[@]/#/$P}"; do
		[ -e "/run/netns/$ns" ] || continue
		any=1
		echo "namespace $ns: $(ip -n "$ns" -br addr show | grep -v '^lo ' | tr -s ' ' | paste -sd ';')"
	done
	if [ -f "$RUN/queue/pid/master.pid" ] &&
		kill -0 "$(tr -d ' ' <"$RUN/queue/pid/master.pid")" 2>/dev/null; then
		echo "postfix: running (config $PF_CONF, log $RUN/maillog)"
	else
		echo "postfix: not running"
	fi
	((any)) || { echo "no lab with prefix $P"; return 1; }
}

# pool N: add N addresses of 10.77.16.0/20 to the attacker; prints them.
cmd_pool() {
	local n=${1:-}
	[[ "$n" =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 4000)) || die "pool: N must be 1..4000"
	[ -e "/run/netns/$NS_AT" ] || die "no lab with prefix $P"
	local i a batch=()
	for ((i = 0; i < n; i++)); do
		a="10.77.$((16 + (i + 2) / 256)).$(((i + 2) % 256))"
		echo "$a"
		batch+=("address add $a/32 dev ${P}at0")
	done
	printf '%s\n' "${batch[@]}" | ip -n "$NS_AT" -batch - 2>/dev/null || true
	ip -n "$NS_AT" route replace 10.77.16.0/20 dev "${P}at0" 2>/dev/null || true
}

# relink: the gateway's client-facing veth deleted and made again with the
# same name and addresses (a link flap, a NIC driver reload).
cmd_relink() {
	[ -e "/run/netns/$NS_GW" ] || die "no lab with prefix $P"
	local mac
	mac=$(cat "/sys/class/net/$IF_GW/address" 2>/dev/null) ||
		mac=$(ip -n "$NS_GW" -br link show "$IF_GW" | awk '{print $3}')
	ip -n "$NS_GW" link del "$IF_GW"
	plug gw
	# The same MAC, as after a driver reload: the neighbours' caches stay valid.
	ip -n "$NS_GW" link set "$IF_GW" address "$mac"
	addr gw $GW_ADDRS
}

# A relayguardd config for the lab; the caller adds or overrides keys.
cmd_conf() { # MODE
	cat <<-EOF
	# relayguardd config for the lab $P (scripts/lab.sh conf)
	interfaces       = $IF_GW
	smtp_ports       = 25
	local_domains    = example.test
	trusted_networks = 127.0.0.0/8, ::1/128, 10.77.1.0/24
	mode             = ${1:-enforce}
	xdp_mode         = auto
	ban_time         = 10m
	ipv6_prefix      = 64
	state_dir        = $RUN/rg-state
	event_log        = $RUN/events.json
	EOF
	local svc
	svc=$(sed -n 's/^LAB_POLICY_SERVICE=//p' "$STATE" 2>/dev/null) || true
	[ -z "$svc" ] || echo "policy_service   = $svc"
}

main() {
	local cmd=${1:-}
	shift || true
	set_names "${1:-${LAB_PREFIX:-rgl-}}"
	shift || true
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down ;;
	status) cmd_status ;;
	conf) cmd_conf "$@" ;;
	env) [ -f "$STATE" ] && cat "$STATE" || die "no lab with prefix $P" ;;
	pool) cmd_pool "$@" ;;
	relink) cmd_relink ;;
	*) sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
}

main "$@"
