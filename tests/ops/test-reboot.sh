#!/usr/bin/env bash
# Bans survive a reboot: 10,000 IPv4 bans (and some IPv6 /64s) are written,
# relayguardd stops (snapshot to state_dir/bans.gz), the programs are
# detached and the maps unpinned (`relayguardctl detach --purge`: the state a
# reboot leaves), time passes, relayguardd starts again and must restore
# every ban with the same expiry instant (so its remaining time went down by
# the downtime) within 1 s; bans that expired meanwhile are not restored.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
ops_setup

N=10000
reasons=(relay_attempt relay_probe pregreet non_smtp auth_failure manual)
{
	for ((i = 0; i < N; i++)); do
		echo "10.$((100 + i / 62500)).$((i / 250 % 250)).$((i % 250 + 1)) $((3600 + i))s ${reasons[i % 6]}"
	done
	for ((i = 1; i <= 20; i++)); do
		printf 'fd00:%x:%x::/64 2h relay_attempt\n' $i $((i * 7))
	done
	echo "10.200.0.1 permanent manual"
	for ((i = 1; i <= 5; i++)); do echo "10.201.0.$i 2s pregreet"; done
} >"$RG_TMP/bans.txt"

ops_start
t_import=$(date +%s)
assert_ok "import $N bans" ops_ctl ban import "$RG_TMP/bans.txt"
ops_bans4 >"$RG_TMP/before"
assert_eq "$(wc -l <"$RG_TMP/before")" $((N + 6)) "bans4 holds every IPv4 ban"

t0=$(date +%s.%N)
ops_stop
t1=$(date +%s.%N)
[ -s "$OPS_STATE/bans.gz" ] || fail "no snapshot after stop"
ok "snapshot written on stop ($(stat -c %s "$OPS_STATE/bans.gz") bytes for $((N + 26)) bans)"
echo "# stop with snapshot: $(echo "$t1 - $t0" | bc) s"

assert_ok "detach --purge (what a reboot leaves)" ops_ctl detach "$OPS_IF" --purge
[ -e "$PIN/bans4" ] && fail "bans4 still pinned after --purge"
ops_attached && fail "XDP still attached after detach"
ok "maps unpinned and programs detached"
sleep 3 # downtime: the 2 s bans expire meanwhile

t0=$(date +%s.%N)
ops_start
t1=$(date +%s.%N)
echo "# start with restore: $(echo "$t1 - $t0" | bc) s"
assert_match "$(cat "$OPS_CUR_LOG")" "restored $((N + 21)) bans" "daemon restored the live bans"
rg_wait_for 5 ops_attached || fail "not attached after restart"
ok "attached again"
ops_bans4 >"$RG_TMP/after"

# Same keys, reasons, offences, hits; expiry within 1 s; the five 2 s
# bans gone.
awk 'NR == FNR { ex[$1] = $2; rest[$1] = $3 " " $4 " " $5; next }
     { if (!($1 in ex)) { print "extra " $0; bad++; next }
       d = $2 - ex[$1]; if (d < 0) d = -d
       if (d > maxd) maxd = d
       if (d > 1000000000 || (ex[$1] == 0) != ($2 == 0)) { print "expiry moved " $0 " was " ex[$1]; bad++ }
       if ($3 " " $4 " " $5 != rest[$1]) { print "fields " $0; bad++ }
       seen[$1] = 1; n++ }
     END { for (k in ex) if (!(k in seen)) missing++
           printf "# largest expiry change: %.6f s\n", maxd / 1e9
           printf "matched %d missing %d bad %d\n", n, missing, bad }' \
	"$RG_TMP/before" "$RG_TMP/after" >"$RG_TMP/cmp"
tail -n 3 "$RG_TMP/cmp"
assert_eq "$(tail -n 1 "$RG_TMP/cmp")" "matched $((N + 1)) missing 5 bad 0" \
	"every live IPv4 ban back with its expiry within 1 s, expired ones dropped"
assert_eq "$(ops_ctl -j ban list | jq '[.[] | select(.source | contains(":"))] | length')" 20 \
	"the 20 IPv6 /64 bans are back"
# A ban of ~1 h + i s must now show about 3 s less time left than at import.
left=$(ops_ctl -j ban list | jq '.[] | select(.source == "10.100.0.1") | .time_left')
# Bounds from this run's own clock, not from how fast the machine is.
min_left=$((3600 - ($(date +%s) - t_import) - 1))
if [ "$left" -gt 3598 ] || [ "$left" -lt "$min_left" ]; then
	fail "time left $left, expected $min_left..3598"
fi
ok "remaining time went down by the downtime ($left s left of 3600)"
ops_stop
rg_done
