#!/usr/bin/env bash
# VLAN tags as XDP meets them on the gateway's link, on any kernel (the
# trunk test with Postfix on a VLAN sub-interface, test-topo-vlan.sh, needs
# 802.1Q support): a banned source's SYN is dropped at XDP whether its tags
# are in the frame (sent straight into the gateway from the switch's port,
# as a trunk port that does not offload tags delivers them: one 802.1Q tag,
# or 802.1ad + 802.1Q) or the outer one was taken into the packet's metadata
# on the way (sent by the attacker through the switch, whose veth port
# offloads it, as a NIC's rx VLAN offload does): of a three-tag frame XDP
# then sees two and parses it. Three tags in the frame are past the parser:
# passed (fail open) as not SMTP. On egress, a server's reply with its
# tags in the frame (sent from a packet socket on the gateway's link) is
# parsed by TC egress (egress_smtp), up to two tags.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require_scapy
e2e_start strict enforce

banned=10.77.0.99 # forged: no session of its own adds to the counters
e2e_ctl ban add "$banned" for 1h reason manual >/dev/null || fail "ban add $banned"
n=5

# send NS IFACE TPIDS: n SYNs from the banned source, tagged so in the frame.
send() {
	ip netns exec "$1" "$SYS_PY" "$E2E_DIR/tagged.py" "$banned" "$LAB_GW4" \
		"$(e2e_gw_mac)" "$2" "$3" "$n" || fail "tagged.py failed"
}

stat_ge() { # NAME MIN
	[ "$(e2e_stat "$1")" -ge "$2" ]
}

# expect WHAT NS IFACE TPIDS dropped|passed
expect() {
	local drops0 notsmtp0 drops notsmtp
	drops0=$(e2e_stat drop_ban)
	notsmtp0=$(e2e_stat pass_not_smtp)
	send "$2" "$3" "$4"
	if [ "$5" = dropped ]; then
		rg_wait_for 5 stat_ge drop_ban $((drops0 + n))
		assert_eq "$(($(e2e_stat drop_ban) - drops0))" "$n" "$1: dropped at XDP"
	else
		rg_wait_for 5 stat_ge pass_not_smtp $((notsmtp0 + n))
		drops=$(($(e2e_stat drop_ban) - drops0))
		notsmtp=$(($(e2e_stat pass_not_smtp) - notsmtp0))
		assert_eq "$drops" 0 "$1: not dropped"
		assert_ok "$1: passed as not SMTP ($notsmtp)" test "$notsmtp" -ge "$n"
	fi
}
sw_port="${LAB_PREFIX}sgw"
at_if="${LAB_PREFIX}at0"
expect "802.1Q tag in the frame" "$LAB_NS_SW" "$sw_port" 8100 dropped
expect "802.1ad + 802.1Q tags in the frame" "$LAB_NS_SW" "$sw_port" 88a8,8100 dropped
expect "802.1Q tag offloaded by the switch's port" "$LAB_NS_AT" "$at_if" 8100 dropped
expect "three tags, the outer offloaded by the switch's port" "$LAB_NS_AT" "$at_if" \
	88a8,8100,8100 dropped
expect "three tags in the frame" "$LAB_NS_SW" "$sw_port" 88a8,8100,8100 passed

# reply TPIDS WANT: n SYN-ACKs from the gateway's port 25 leave its link with
# TPIDS in the frame; WANT of them are parsed as SMTP by TC egress.
reply() {
	local smtp0 got
	smtp0=$(e2e_stat egress_smtp)
	ip netns exec "$LAB_NS_GW" "$SYS_PY" "$E2E_DIR/tagged.py" "$LAB_GW4" "$banned" \
		"$(e2e_gw_mac)" "$LAB_IF_GW" "$1" "$n" reply || fail "tagged.py failed"
	rg_wait_for 5 stat_ge egress_smtp $((smtp0 + n))
	got=$(($(e2e_stat egress_smtp) - smtp0))
	assert_eq "$got" "$2" "TC egress parses $2 of $n replies tagged $1 in the frame"
}
reply 8100 "$n"
reply 88a8,8100 "$n"
reply 88a8,8100,8100 0
rg_done
