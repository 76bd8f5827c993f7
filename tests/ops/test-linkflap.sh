#!/usr/bin/env bash
# A configured interface that goes away and comes back (driver reload, veth
# re-created) is re-attached by relayguardd within 2 s through its rtnetlink
# watch, with no restart; an interface that is not configured is left
# alone. Bans are untouched throughout.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
ops_setup

attaches_ge() { # N: the daemon logged N attaches (it logs once XDP and TC are on)
	[ "$(grep -c 'attached to' "$OPS_CUR_LOG")" -ge "$1" ]
}

ops_start
rg_wait_for 5 ops_attached || fail "not attached at start"
# XDP comes first, then TC: a link del must not cut the attach between them.
rg_wait_for 10 attaches_ge 1 || fail "attach not logged at start: $(tail -n 5 "$OPS_CUR_LOG")"
ok "attached at start"
assert_ok "a ban" ops_ctl ban add 10.5.0.1 for 1h reason manual

for round in 1 2 3; do
	ip -n "$OPS_NS" link del "$OPS_IF" || fail "link del"
	ops_attached && fail "still attached to a deleted link?"
	sleep 0.3
	rg_veth "$OPS_NS" "$OPS_IF" "$OPS_PEER_NS" "${RG_PREFIX}c0"
	t0=$(date +%s%N)
	rg_wait_for 10 ops_attached || fail "round $round: not re-attached within 10 s: $(tail -n 5 "$OPS_CUR_LOG")"
	rg_wait_for 10 attaches_ge $((round + 1)) ||
		fail "round $round: re-attach not logged within 10 s: $(tail -n 5 "$OPS_CUR_LOG")"
	t1=$(date +%s%N)
	ok "round $round: re-attached after $(((t1 - t0) / 1000000)) ms"
done
ip -n "$OPS_NS" -d link show "$OPS_IF" | grep -q 'prog/xdp' || fail "no XDP"
tc -n "$OPS_NS" filter show dev "$OPS_IF" egress | grep -q 'rg_tc_egress' ||
	fail "TC egress program not re-attached: $(tc -n "$OPS_NS" filter show dev "$OPS_IF" egress)"
ok "TC egress re-attached too"
assert_eq "$(grep -c 'attached to' "$OPS_CUR_LOG")" 4 "one attach at start and one per return"

# Not configured: a new veth is not touched. The configured one flaps
# after it: once that is re-attached, the daemon has read the new veth's
# events (rtnetlink delivers them in order).
rg_veth "$OPS_NS" "${RG_PREFIX}x0" "$OPS_PEER_NS" "${RG_PREFIX}x1"
ip -n "$OPS_NS" link del "$OPS_IF" || fail "link del"
rg_veth "$OPS_NS" "$OPS_IF" "$OPS_PEER_NS" "${RG_PREFIX}c0"
rg_wait_for 10 attaches_ge 5 || fail "not re-attached after the new veth: $(tail -n 5 "$OPS_CUR_LOG")"
ip -n "$OPS_NS" -d link show "${RG_PREFIX}x0" | grep -q 'prog/xdp' &&
	fail "an interface outside the config got a program"
ok "unconfigured interface left alone"
assert_eq "$(ops_ctl -j ban list | jq length)" 1 "ban still there"
kill -0 "$OPS_DAEMON" || fail "daemon died"
ops_stop
rg_done
