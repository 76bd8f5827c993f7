#!/usr/bin/env bash
# The periodic ban snapshot is written by a child process (a million bans
# take ~0.7 s to walk and compress; the daemon keeps reading samples): with
# snapshot_interval = 1s the snapshot counter rises while the daemon runs,
# no temporary file is left, and after a SIGKILL and a purge of the maps
# (nothing left but the snapshot) the next start restores every ban from it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
ops_setup
M="$RG_TMP/relayguard.prom"

metric() { rg_metric "$M" "$1"; }

ops_conf snapshot_interval=1s metrics_interval=1s
ops_start --metrics-file "$M"
for i in 1 2 3 4 5; do ops_ctl ban add 10.9.0.$i for 1h reason relay_probe >/dev/null; done
ops_bans4 | cut -d' ' -f1,3 >"$RG_TMP/before"
assert_eq "$(wc -l <"$RG_TMP/before")" 5 "five bans in bans4"
rg_wait_for 10 sh -c "awk '\$1 == \"relayguard_snapshots_total\" && \$2 >= 3' '$M' | grep -q ." ||
	fail "periodic snapshots not counted: $(grep snapshot "$M")"
ok "periodic snapshots written while the daemon runs"
assert_eq "$(metric relayguard_snapshot_errors_total)" 0 "no snapshot failed"
kill -0 "$OPS_DAEMON" || fail "relayguardd died"
# A snapshot begun after the bans were added: count n in a file written
# after them (its timestamp is taken before its counters), then wait for
# two more (the first may have begun before the count).
metric_ge() { [ "$(metric "$1")" -ge "$2" ]; }
t=$(($(date +%s) + 1))
rg_wait_for 10 metric_ge relayguard_metrics_timestamp_seconds "$t" ||
	fail "metrics file not rewritten: $(grep timestamp "$M")"
n=$(metric relayguard_snapshots_total)
rg_wait_for 10 metric_ge relayguard_snapshots_total $((n + 2)) ||
	fail "no snapshot after the bans: $(grep snapshot "$M")"
# A write under way has its temporary file (named for the writer's pid);
# one that outlives its writer is left behind.
tmps=$(ls "$OPS_STATE"/bans.gz.tmp* 2>/dev/null)
gone() { for f in $tmps; do [ ! -e "$f" ] || return 1; done; }
rg_wait_for 10 gone || fail "temporary snapshot file left behind: $tmps"
ok "no temporary snapshot file left"

kill -KILL "$OPS_DAEMON"
wait "$OPS_DAEMON" 2>/dev/null
assert_ok "detach --purge: only the snapshot is left" ops_ctl detach "$OPS_IF" --purge
ops_conf
ops_start
ops_bans4 | cut -d' ' -f1,3 >"$RG_TMP/after"
assert_eq "$(cat "$RG_TMP/after")" "$(cat "$RG_TMP/before")" \
	"every ban restored from the periodic snapshot"
ops_stop
rg_done
