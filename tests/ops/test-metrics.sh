#!/usr/bin/env bash
# --metrics-file: a Prometheus textfile rewritten every metrics_interval,
# atomically, that `promtool check metrics` accepts, with the data-plane
# counters, bans by reason (current map contents), flows and the
# reaction-time histogram.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
command -v promtool >/dev/null || fail "promtool is not installed: make deps"
ops_setup
M="$RG_TMP/relayguard.prom"

metric() { # NAME{LABELS}: its value
	awk -v m="$1" '$1 == m { print $2 }' "$M"
}

ops_conf metrics_interval=1s
ops_start --metrics-file "$M"
rg_wait_for 5 test -s "$M" || fail "no metrics file"
ok "metrics file written"
assert_ok "promtool check metrics" sh -c "promtool check metrics <'$M'"

for i in 1 2 3; do ops_ctl ban add 10.6.0.$i for 1h reason relay_attempt >/dev/null; done
ops_ctl ban add 10.6.1.1 for 1h reason manual >/dev/null
# A few TCP connection attempts to port 25 (refused: nothing listens).
for i in 1 2 3; do
	ip netns exec "$OPS_PEER_NS" timeout 2 bash -c 'echo >/dev/tcp/10.88.0.1/25' 2>/dev/null
done
rg_wait_for 10 sh -c "awk '\$1 == \"relayguard_bans{reason=\\\"relay_attempt\\\"}\" && \$2 == 3' '$M' | grep -q ." ||
	fail "bans by reason not in the metrics: $(grep relayguard_bans "$M")"
ok "bans by reason: relay_attempt 3"
assert_eq "$(metric 'relayguard_bans{reason="manual"}')" 1 "bans by reason: manual 1"
assert_gt "$(metric relayguard_packets_total)" 2 "data-plane packet counter counts the SYNs"
assert_eq "$(metric relayguard_reaction_seconds_count)" 0 "reaction histogram present (no ban by the daemon yet)"
assert_eq "$(metric 'relayguard_reaction_seconds_bucket{le="+Inf"}')" 0 "+Inf bucket present"
[ -n "$(metric relayguard_flows_active)" ] || fail "no flows gauge"
ok "flows gauge present"
[ -n "$(metric relayguard_parser_findings_total)" ] || fail "no findings counter"
ok "parser findings counter present"
grep -q 'ringbuf_full' "$M" || fail "no ring-buffer loss counter"
ok "ring-buffer loss counters present"
assert_ok "promtool check metrics (with values)" sh -c "promtool check metrics <'$M'"
ls "$RG_TMP"/relayguard.prom.tmp 2>/dev/null && fail "temporary file left behind"
ok "no temporary file left"
ops_stop
rg_done
