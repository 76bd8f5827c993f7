#!/usr/bin/env bash
# Helpers for the tests of where gateways run (tests/e2e/test-topo-*.sh):
# the kernel checks that skip a topology this kernel cannot build, a SYN
# probe, and the scenario every topology must pass. Source after
# tests/lib.sh and tests/e2e/e2e.sh; the lab comes from
# `e2e_lab strict bond|vlan|router` (scripts/lab.sh's topologies).

# topo_require_link WHAT CONFIG IP-LINK-ADD-ARGS...: skip (77) unless this
# kernel makes such a link (in a scratch namespace of the test's own).
topo_require_link() {
	local what=$1 cfg=$2 ns
	shift 2
	ns=$(rg_netns probe)
	ip -n "$ns" link add probe0 type veth peer name probe1 ||
		fail "cannot create a veth in $ns"
	if ! ip -n "$ns" link add "$@" 2>"$RG_TMP/probe.err"; then
		echo "SKIP: this kernel cannot make $what ($cfg): $(cat "$RG_TMP/probe.err")"
		exit 77
	fi
	ip netns del "$ns"
}

# topo_syn NS SRC IFACE: one SYN from SRC (out of IFACE in NS) to the MTA,
# at layer 2 to the gateway's MAC; prints "synack" or "none".
topo_syn() {
	ip netns exec "$1" "$SYS_PY" "$E2E_DIR/fragsyn.py" plain "$2" "$LAB_GW4" \
		"$(e2e_gw_mac)" "$3" || echo "fragsyn.py failed"
}

# topo_attacker_syn WANT WHAT: the attacker's next SYN is answered (synack)
# or not (none, and drop_ban rises: dropped at XDP).
topo_attacker_syn() {
	local drops0
	drops0=$(e2e_stat drop_ban)
	assert_eq "$(topo_syn "$LAB_NS_AT" "$LAB_AT4" "${LAB_PREFIX}at0")" "$1" "$2"
	[ "$1" = none ] || return 0
	assert_gt "$(e2e_stat drop_ban)" "$drops0" "drop_ban rose: the SYN was dropped at XDP"
}

# topo_scenario: on the topology under test, with relayguardd running: the
# legitimate client delivers; the attacker's relay attempt (two foreign
# recipients, relay_attempts_ban = 2) is banned inside its session, which
# takes the server's replies seen on TC egress; its next SYN gets no SYN-ACK
# and is counted as dropped at XDP; Postfix never sees it again; the client
# delivers while the attacker is banned and is never banned itself.
topo_scenario() {
	local n0 egress0 out="$RG_TMP/attack.out"
	n0=$(e2e_maildir_count)
	assert_ok "the legitimate client delivers" e2e_legit_delivery before
	topo_attacker_syn synack "the attacker's SYN is answered before its ban (the probe works)"
	egress0=$(e2e_stat egress_smtp)
	e2e_relay_banned_in_session "$out"
	assert_gt "$(e2e_stat egress_smtp)" "$egress0" "TC egress saw the server's replies"
	assert_ok "the event log has the ban" rg_wait_for 10 e2e_has_event \
		".action == \"ban\" and .source == \"$LAB_AT4\" and .reason == \"relay_attempt\""
	topo_attacker_syn none "the banned attacker's next SYN gets no SYN-ACK"
	e2e_assert_dropped "the banned attacker cannot connect" "drop_ban rose again"
	assert_eq "$(grep -c ": connect from unknown\[$LAB_AT4\]" "$LAB_MAILLOG")" 1 \
		"Postfix saw the attacker's first connection only"
	assert_ok "the legitimate client delivers while the attacker is banned" \
		e2e_legit_delivery during
	assert_ok "both legitimate messages are in the maildir" \
		rg_wait_for 10 e2e_maildir_ge $((n0 + 2))
	assert_fails "the client was never banned" e2e_ban4 "$LAB_CL4"
}
