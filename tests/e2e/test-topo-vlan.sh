#!/usr/bin/env bash
# A VLAN trunk (issue 19, item 5b): SMTP arrives 802.1Q-tagged on the
# gateway's physical link, Postfix listens on the VLAN sub-interface, and
# relayguard is attached to the physical link (the trunk). The relay attempt
# is banned in-session, the attacker's next SYN dropped at XDP, legitimate
# mail delivered. veth offloads VLAN tags both ways, as most NICs do: the
# tag travels in the skb's metadata, so XDP and TC egress see untagged
# frames there; a SYN whose tag is in the frame (a trunk port that does not
# offload, forged from the switch) is dropped as well, XDP walking the tag.
# Needs a kernel with 802.1Q (CONFIG_VLAN_8021Q) and VLAN-aware bridges
# (CONFIG_BRIDGE_VLAN_FILTERING); skipped without.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
. "$(dirname "$0")/topo.sh"
e2e_require
e2e_require_scapy
topo_require_link "VLAN sub-interfaces" CONFIG_VLAN_8021Q link probe0 name probe0.5 type vlan id 5
topo_require_link "VLAN-aware bridges" CONFIG_BRIDGE_VLAN_FILTERING probe2 type bridge vlan_filtering 1
e2e_lab strict vlan
e2e_daemon enforce

assert_match "$(ip -n "$LAB_NS_GW" -br addr show "${LAB_IF_GW}v")" "$LAB_GW4/" \
	"the MTA's address is on the VLAN sub-interface"
assert_ok "relayguard is on the trunk" e2e_attached

topo_scenario

# tagged SYN DIRECTION SRC: one SYN from SRC with the 802.1Q tag in the
# frame, sent into the trunk from the switch's port.
tagged_syn() {
	ip netns exec "$LAB_NS_SW" "$SYS_PY" "$E2E_DIR/fragsyn.py" dot1q "$1" \
		"$LAB_GW4" "$(e2e_gw_mac)" "${LAB_PREFIX}sgw" || echo "fragsyn.py failed"
}
assert_eq "$(tagged_syn "$LAB_CL4")" synack \
	"a SYN tagged in the frame from an unbanned source is answered through VLAN 100"
drops0=$(e2e_stat drop_ban)
assert_eq "$(tagged_syn "$LAB_AT4")" none \
	"the banned attacker's SYN tagged in the frame gets no SYN-ACK"
assert_gt "$(e2e_stat drop_ban)" "$drops0" "drop_ban rose: XDP walked the tag"
rg_done
