#!/usr/bin/env bash
# relayguard lab: a mail gateway and its clients in network namespaces.
#
#   scripts/lab.sh up     [PREFIX] [strict|open|none] [policy] [bond|vlan|router]
#                                                       build the lab, start Postfix
#                                                       (policy: it asks relayguardd;
#                                                       bond|vlan|router: see Topologies)
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
# Topologies (the last word of `up`; without one, the gateway's addresses
# are on PREFIXgw0 as above). relayguard always goes on PREFIXgw0
# (LAB_IF_GW), and SMTP clients always connect to LAB_GW4 / LAB_GW6:
#   bond    PREFIXgw0 is an active-backup bond (miimon 50) of PREFIXgw1
#           (primary) and PREFIXgw2, each plugged into the switch (ports
#           PREFIXsgw1, PREFIXsgw2); the gateway's addresses on the bond
#   vlan    the switch is VLAN-aware: every host on an access port of VLAN
#           100, the gateway's PREFIXgw0 a trunk carrying VLAN 100 tagged
#           (switch port PREFIXsgw); the gateway's addresses on PREFIXgw0v,
#           VLAN 100 on PREFIXgw0
#   router  PREFIXgw routes between the hosts (PREFIXgw0, addresses as
#           above) and Postfix in its own namespace PREFIXmx, 10.77.2.25/24
#           fd78::25/64 on PREFIXmx0, behind PREFIXgw1 (10.77.2.1, fd78::1);
#           the hosts route 10.77.2.0/24 and fd78::/64 through the gateway,
#           and LAB_GW4 / LAB_GW6 are the MTA's addresses
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
GW_LISTEN="10.77.0.1, 10.77.1.1, [fd77::1], [fd77:0:0:1::1]"
VLAN_ID=100
# The router topology's MTA, behind the gateway.
MX4=10.77.2.25
MX6=fd78::25
# The other hosts' addresses.
AT4=10.77.0.66 AT6=fd77::66 AT6B=fd77:0:0:1::66
CL4=10.77.0.10 CL6=fd77:0:0:10::10
TR4=10.77.1.5
SP4=10.77.0.77 SP6=fd77:0:0:77::77
# What the state file holds: each NAME here as LAB_NAME=value.
STATE_VARS=(PREFIX TOPO NS_MTA RUN NS_SW NS_GW NS_AT NS_CL NS_TR NS_SP IF_GW
	PF_CONF POSTFIX POLICY_SERVICE MAILLOG MAILDIR GW4 GW6 AT4 AT6 AT6B CL4
	CL6 TR4 SP4)

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
	NS_MX="${P}mx"
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

# plug HOST [IFNAME PORT]: veth IFNAME (default PREFIX<host>0) in the
# host's namespace, its peer PORT (default PREFIXs<host>) in the switch's
# bridge; on the VLAN switch, an access port of VLAN_ID, except the
# gateway's (a trunk).
plug() {
	local ns="${P}$1" ifn=${2:-"${P}$1"0} port=${3:-"${P}s$1"}
	ip link add "$ifn" netns "$ns" type veth peer name "$port" netns "$NS_SW" ||
		die "cannot create veth $ifn/$port"
	ip -n "$NS_SW" link set "$port" master br0 up
	ip -n "$ns" link set "$ifn" up
	[ "$TOPO" = vlan ] || return 0
	bridge -n "$NS_SW" vlan del dev "$port" vid 1
	if [ "$1" = gw ]; then
		bridge -n "$NS_SW" vlan add dev "$port" vid "$VLAN_ID"
	else
		bridge -n "$NS_SW" vlan add dev "$port" vid "$VLAN_ID" pvid untagged
	fi
}

addr_dev() { # NS IFNAME ADDR/LEN...
	local ns=$1 ifn=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$ifn" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$ifn" ;;
		esac
	done
}

addr() { # HOST ADDR/LEN...
	local h=$1
	shift
	addr_dev "${P}$h" "${P}$h"0 "$@"
}

write_state() { # VARIANT POLICY_SERVICE
	# The state's own values; POLICY_SERVICE: the one Postfix asks, if any.
	local PREFIX=$P NS_MTA=$NS_GW GW4=10.77.0.1 GW6=fd77::1 \
		POSTFIX=$1 POLICY_SERVICE=${2:-} MAILLOG=$RUN/maillog \
		MAILDIR=$RUN/mail/Maildir v
	[ "$TOPO" = router ] && { NS_MTA=$NS_MX GW4=$MX4 GW6=$MX6; }
	for v in "${STATE_VARS[@]}"; do
		printf 'LAB_%s=%s\n' "$v" "${!v}"
	done >"$STATE"
}

# The gateway's side of each topology.
gw_plain() {
	plug gw
	addr gw $GW_ADDRS
}

gw_bond() {
	local s
	ip -n "$NS_GW" link add "$IF_GW" type bond mode active-backup miimon 50 ||
		die "cannot create bond $IF_GW"
	for s in 1 2; do
		plug gw "${P}gw$s" "${P}sgw$s"
		ip -n "$NS_GW" link set "${P}gw$s" down
		ip -n "$NS_GW" link set "${P}gw$s" master "$IF_GW"
	done
	ip -n "$NS_GW" link set "$IF_GW" type bond primary "${P}gw1"
	ip -n "$NS_GW" link set "$IF_GW" up
	addr_dev "$NS_GW" "$IF_GW" $GW_ADDRS
}

gw_vlan() {
	plug gw
	ip -n "$NS_GW" link add link "$IF_GW" name "${IF_GW}v" type vlan id "$VLAN_ID" ||
		die "cannot create VLAN ${IF_GW}v"
	ip -n "$NS_GW" link set "${IF_GW}v" up
	addr_dev "$NS_GW" "${IF_GW}v" $GW_ADDRS
}

# The gateway routes for the MTA in NS_MX; the hosts route to it through
# the gateway.
gw_router() {
	local h
	gw_plain
	make_ns "$NS_MX"
	ip link add "${P}gw1" netns "$NS_GW" type veth peer name "${P}mx0" netns "$NS_MX" ||
		die "cannot create veth ${P}gw1/${P}mx0"
	ip -n "$NS_GW" link set "${P}gw1" up
	ip -n "$NS_MX" link set "${P}mx0" up
	addr_dev "$NS_GW" "${P}gw1" 10.77.2.1/24 fd78::1/64
	addr_dev "$NS_MX" "${P}mx0" "$MX4/24" "$MX6/64"
	ip -n "$NS_MX" route add default via 10.77.2.1
	ip -n "$NS_MX" -6 route add default via fd78::1
	nsx "$NS_GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for h in at cl sp; do
		ip -n "${P}$h" route add 10.77.2.0/24 via 10.77.0.1
	done
	ip -n "$NS_TR" route add 10.77.2.0/24 via 10.77.1.1
	for h in at cl sp; do
		ip -n "${P}$h" -6 route add fd78::/64 via fd77::1
	done
}

net_up() {
	local h vlan=()
	[ "$TOPO" = vlan ] && vlan=(vlan_filtering 1)
	make_ns "$NS_SW"
	ip -n "$NS_SW" link add br0 type bridge forward_delay 0 stp_state 0 "${vlan[@]}" ||
		die "cannot create the switch's bridge${vlan:+ with VLAN filtering}"
	ip -n "$NS_SW" link set br0 up
	for h in "${HOSTS[@]}"; do
		make_ns "${P}$h"
		[ "$h" = gw ] || plug "$h"
	done
	addr at "$AT4/24" "$AT6/48" "$AT6B/48"
	addr cl "$CL4/24" "$CL6/48"
	addr tr "$TR4/24"
	addr sp "$SP4/24" "$SP6/48"
	"gw_${TOPO:-plain}"
}

# Fill @NAME@ placeholders of a template.
render() { # TEMPLATE OUT VARIANT [POLICY_SERVICE]
	local mynet="127.0.0.0/8 10.77.1.0/24 [::1]/128" policy="" listen=$GW_LISTEN
	[ "$3" = open ] && mynet="0.0.0.0/0 [::]/0"
	[ -n "${4:-}" ] && policy="check_policy_service $4,"
	[ "$TOPO" = router ] && listen="$MX4, [$MX6]"
	sed -e "s|@RUN@|$RUN|g" -e "s|@MYNETWORKS@|$mynet|g" \
		-e "s|@INET_INTERFACES@|$listen|g" \
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
	local ns addr4 i
	ns=$(sed -n 's/^LAB_NS_MTA=//p' "$STATE")
	addr4=$(sed -n 's/^LAB_GW4=//p' "$STATE")
	nsx "$ns" postfix -c "$PF_CONF" check >"$RUN/postfix-start.log" 2>&1 &&
		nsx "$ns" postfix -c "$PF_CONF" start >>"$RUN/postfix-start.log" 2>&1 ||
		die "postfix did not start: $(tail -n 5 "$RUN/postfix-start.log" "$RUN/maillog")"
	for ((i = 0; i < 100; i++)); do
		nsx "$ns" ss -Hltn 'sport = :25' | grep -qF "$addr4:25" && return 0
		sleep 0.05
	done
	die "postfix is not listening on $addr4:25 after 5 s: $(tail -n 5 "$RUN/maillog")"
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
	for ns in "$NS_SW" "${HOSTS[@]/#/$P}" "$NS_MX"; do
		[ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
	done
}

cmd_up() { # VARIANT [policy] [bond|vlan|router]
	local variant=${1:-strict} policy="" opt
	case $variant in strict | open | none) ;; *) die "bad variant '$variant': strict, open or none" ;; esac
	for opt in "${@:2}"; do
		case $opt in
		policy) policy=$POLICY_SERVICE ;;
		bond | vlan | router) TOPO=$opt ;;
		*) die "bad option '$opt': policy, bond, vlan or router" ;;
		esac
	done
	# relayguardd's policy service listens on the gateway's loopback.
	[ -n "$policy" ] && [ "$TOPO" = router ] &&
		die "policy: Postfix and relayguardd are in different namespaces in the router topology"
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
	for ns in "${HOSTS[@]/#/$P}" "$NS_MX" "$NS_SW"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
	rm -rf "$RUN" "$STATE"
	return 0
}

cmd_status() {
	local ns any=0
	for ns in "$NS_SW" "${HOSTS[@]/#/$P}" "$NS_MX"; do
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
	grep -q '^LAB_TOPO=$' "$STATE" || die "relink: only without a topology option"
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
	TOPO=
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
	*) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
}

main "$@"
