#!/usr/bin/env bash
# Under a flood of spoofed SMTP data (random sources, never verifiable),
# relayguardd keeps its other duties: it drains the ring buffer with a
# budget per wakeup, so a reload (signal) is applied and the metrics file
# (timer) is rewritten while the flood lasts, and a ban pushed by the
# operator meanwhile is swept on expiry. The flood leaves no ban.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
. "$(dirname "$0")/flood.sh"
ops_require
rg_require_cmds trafgen
ops_setup
M="$RG_TMP/metrics.prom"
metric() { rg_metric "$M" "$1"; }

ops_conf metrics_interval=1s
ops_start --metrics-file "$M"
rg_wait_for 10 test -s "$M" || fail "no metrics file"
gw_mac=$(ip -n "$OPS_NS" -j link show "$OPS_IF" | jq -r '.[0].address')
flood_start "$OPS_PEER_NS" "${RG_PREFIX}c0" "$gw_mac" 10.88.0.1
samples() { ops_ctl -j stats | jq -r .sample_records; }
s0=$(samples)
rg_wait_for 20 sh -c "[ \$('$RG_CTL' --pin-dir '$PIN' -j stats | jq -r .sample_records) -gt $((s0 + 100000)) ]" ||
	fail "the flood does not reach the data plane: $(cat "$RG_TMP/trafgen.log")"
ok "flood under way (sampled records growing)"

# A signal during the flood.
ops_ctl --pid-file "$OPS_PID" reload >/dev/null || fail "reload failed"
rg_wait_for 20 grep -q "reloaded" "$OPS_CUR_LOG" || fail "reload not applied during the flood"
ok "reload applied during the flood"
# The timer during the flood: the metrics file is rewritten.
before=$(stat -c %Y.%N "$M" 2>/dev/null)
rg_wait_for 20 sh -c "[ \"\$(stat -c %Y.%N '$M')\" != '$before' ]" ||
	fail "metrics file not rewritten during the flood"
ok "metrics file rewritten during the flood"
# Housekeeping during the flood: a 1 s ban is swept.
ops_ctl ban add 10.9.9.9 for 1s reason manual >/dev/null
rg_wait_for 20 grep -q '"unban"' "$OPS_EVENTS" || fail "a 1 s ban not swept during the flood"
ok "expired ban swept during the flood"
kill -0 "$FLOOD_PID" || fail "the flood ended early: $(cat "$RG_TMP/trafgen.log")"
ok "the flood lasted through the checks"
rg_wait_for 20 sh -c "[ \"\$(awk '\$1 == \"relayguard_ring_budget_spent_total\" {print \$2}' '$M')\" -gt 0 ]" ||
	fail "ring budget never spent: $(grep -E 'ring_budget|samples_total' "$M")"
ok "drains stopped at their budget (counted)"
flood_stop
assert_eq "$(ops_ctl -j ban list | jq '[.[] | select(.reason != "manual")] | length')" 0 \
	"the spoofed flood led to no ban"
ops_stop
rg_done
