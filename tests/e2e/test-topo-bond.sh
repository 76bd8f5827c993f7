#!/usr/bin/env bash
# XDP on a bond (issue 19, item 5a): the MTA's addresses on an
# active-backup bond of two links, relayguard attached to the bond. Native
# XDP: the bond installs the program on each slave (veth supports it), so
# the ban holds on whichever link carries the traffic: the relay attempt is
# banned in-session and the attacker's next SYN dropped at XDP on the first
# link, and again after a failover to the second. Generic XDP (the
# program runs on the bond, after the bond's receive handler) drops the
# banned attacker too and bans a new attempt in-session. Needs a kernel
# with bonding (CONFIG_BONDING); skipped without.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
. "$(dirname "$0")/topo.sh"
e2e_require
e2e_require_scapy
topo_require_link "bonds" CONFIG_BONDING probe2 type bond mode active-backup
e2e_lab strict bond
e2e_daemon enforce xdp_mode=native

# xdp (native) or xdpgeneric: how the bond's XDP program is attached.
xdp_mode_of_bond() {
	ip -n "$LAB_NS_GW" link show "$LAB_IF_GW" | head -n 1 | grep -o ' xdp[a-z]* ' | tr -d ' '
}
active_slave() {
	ip netns exec "$LAB_NS_GW" cat "/proc/net/bonding/$LAB_IF_GW" |
		sed -n 's/^Currently Active Slave: //p'
}
active_is() { [ "$(active_slave)" = "$1" ]; }

assert_eq "$(xdp_mode_of_bond)" xdp "native XDP on the bond"
assert_eq "$(active_slave)" "${LAB_PREFIX}gw1" "the first link carries the traffic"

topo_scenario

# The first link's cable pulled at the switch: the bond fails over.
ip -n "$LAB_NS_SW" link set "${LAB_PREFIX}sgw1" down
assert_ok "the bond fails over to the second link" rg_wait_for 10 active_is "${LAB_PREFIX}gw2"
topo_attacker_syn none "on the second link, the banned attacker's SYN gets no SYN-ACK"
assert_ok "the legitimate client delivers over the second link" e2e_legit_delivery failover

kill "$E2E_DAEMON_PID"
rg_wait_for 10 sh -c "! kill -0 $E2E_DAEMON_PID" || fail "relayguardd did not stop"
e2e_daemon enforce xdp_mode=generic
assert_ok "generic XDP on the bond" rg_wait_for 10 sh -c \
	"ip -n '$LAB_NS_GW' link show '$LAB_IF_GW' | head -n 1 | grep -q ' xdpgeneric '"
topo_attacker_syn none "generic: the banned attacker's SYN gets no SYN-ACK"
src=$("$LAB" pool "$LAB_PREFIX" 1)
e2e_session "$LAB_NS_AT" --src "$src" --server "$LAB_GW4" --pause 0.3 --timeout 2 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com --rcpt victim3@gmail.com \
	>"$RG_TMP/generic.out"
assert_eq "$(grep '^RCPT' "$RG_TMP/generic.out" | tail -n 1)" "RCPT timeout" \
	"generic: a new relay attempt ($src) is cut off in-session"
assert_ok "generic: $src is banned" e2e_ban4 "$src"
assert_ok "generic: the legitimate client delivers" e2e_legit_delivery generic
rg_done
