#!/usr/bin/env bash
# --metrics-file: a Prometheus textfile rewritten every metrics_interval,
# atomically, that `promtool check metrics` accepts, with the data-plane
# counters, bans by reason (current map contents), flows, the
# reaction-time histogram, and what the alert rules read: the write time
# and interval, the programs on each configured interface, the ban maps'
# fill.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
command -v promtool >/dev/null || fail "promtool is not installed: make deps"
ops_setup
M="$RG_TMP/relayguard.prom"

metric() { rg_metric "$M" "$1"; }

ops_conf metrics_interval=1s "interfaces=$OPS_IF ${RG_PREFIX}gone"
ops_start --metrics-file "$M"
rg_wait_for 5 test -s "$M" || fail "no metrics file"
ok "metrics file written"
assert_ok "promtool check metrics" sh -c "promtool check metrics <'$M'"

ops_ctl ban add 10.6.1.1 for 1h reason manual >/dev/null
# A few TCP connection attempts to port 25 (refused: nothing listens).
for i in 1 2 3; do
	ip netns exec "$OPS_PEER_NS" timeout 2 bash -c 'echo >/dev/tcp/10.88.0.1/25' 2>/dev/null
done
# The relay bans last: the sweep (every 5 s) that counts all three ran
# after the manual ban and the SYNs, so a file showing 3 reflects them too.
for i in 1 2 3; do ops_ctl ban add 10.6.0.$i for 1h reason relay_attempt >/dev/null; done
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
# What the alert rules (user/dist/relayguard.rules.yml) read.
ts=$(metric relayguard_metrics_timestamp_seconds)
[ -n "$ts" ] || fail "no relayguard_metrics_timestamp_seconds"
age=$(($(date +%s) - ts))
((age >= 0 && age <= 5)) || fail "metrics timestamp $age s old"
ok "the file carries its write time"
assert_eq "$(metric relayguard_metrics_interval_seconds)" 1 "and its interval"
assert_eq "$(metric "relayguard_interface_attached{interface=\"$OPS_IF\",program=\"xdp\"}")" 1 "XDP attached: 1"
assert_eq "$(metric "relayguard_interface_attached{interface=\"$OPS_IF\",program=\"tc\"}")" 1 "TC attached: 1"
cap=$(rg_in "$OPS_NS" bpftool -j map show pinned "$PIN/bans4" | jq .max_entries)
assert_eq "$(metric 'relayguard_ban_map_capacity{map="bans4"}')" "$cap" "bans4 capacity is its max_entries"
rg_wait_for 15 sh -c "awk '\$1 == \"relayguard_ban_map_entries{map=\\\"bans4\\\"}\" && \$2 == 4' '$M' | grep -q ." ||
	fail "bans4 entries not 4: $(grep ban_map "$M")"
ok "bans4 entries: 4 (after a sweep)"
assert_eq "$(metric 'relayguard_ban_map_entries{map="bans6"}')" 0 "bans6 entries: 0"
gone="${RG_PREFIX}gone" # configured, absent: nothing attached
assert_eq "$(metric "relayguard_interface_attached{interface=\"$gone\",program=\"xdp\"}")" 0 "absent interface: XDP 0"
assert_eq "$(metric "relayguard_interface_attached{interface=\"$gone\",program=\"tc\"}")" 0 "absent interface: TC 0"
assert_ok "promtool check metrics (with values)" sh -c "promtool check metrics <'$M'"
ops_stop
# Only once stopped: a running daemon has the temporary file for a moment
# every second.
ls "$RG_TMP"/relayguard.prom.tmp 2>/dev/null && fail "temporary file left behind"
ok "no temporary file left"
rg_done
