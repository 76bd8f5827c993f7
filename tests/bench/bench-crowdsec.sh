#!/usr/bin/env bash
# A real CrowdSec startup stream: a LAPI private to the benchmark (see
# tests/fleet/fleet.sh) holding N (default 100,000) decisions imported with
# `cscli decisions import`; relayguardd started on a lab gateway as its
# bouncer. Measured: seconds from the daemon's start until all N bans are in
# bans4 (its BPF load, the LAPI building the answer, the transfer, parse,
# apply), and the daemon's peak RSS (VmHWM). Baseline in the same run, on
# the same gateway and maps: `relayguardctl ban import` of the same N
# addresses (process start to exit, and its peak RSS). The daemon's log
# line for the whole set splits its time into the LAPI's answer and
# relayguardd's parse + apply + reconcile, the part the 3 s target is for.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/../fleet/fleet.sh"
N=${N:-100000}
fleet_require

fleet_lapi
fleet_gw 1 none
fleet_use 1

# count_ge N: at least N entries in bans4 (a cheap look every 0.5 s: a
# walk of the maps competes with the daemon for the CPU)
count_ge() {
	[ "$(fleet_ctl -j status | jq '.maps[] | select(.name == "bans4") | .entries')" -ge "$1" ]
}
wait_count() { # SECONDS N
	local deadline=$((SECONDS + $1))
	while ((SECONDS <= deadline)); do
		count_ge "$2" && return 0
		sleep 0.5
	done
	return 1
}

# N addresses of 11.0.0.0/8, for the LAPI (CSV) and for the ctl (its format)
awk -v n="$N" 'BEGIN {
	print "duration,scope,value" > "/dev/stderr"
	for (i = 0; i < n; i++) {
		a = sprintf("11.%d.%d.%d", int(i / 65536), int(i / 256) % 256, i % 256)
		print a " 4h imported"
		print "4h,ip," a > "/dev/stderr"
	}
}' >"$RG_TMP/ctl-import.txt" 2>"$RG_TMP/decisions.csv"

t0=$(date +%s.%N)
for try in 1 2 3; do
	fleet_cscli decisions import -i "$RG_TMP/decisions.csv" \
		>"$RG_TMP/import.out" 2>&1 && break
	[ "$try" = 3 ] && fail "cscli decisions import: $(tail -2 "$RG_TMP/import.out")"
done
t_import=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
rss_mb() { awk -v k="$2:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# baseline: relayguardctl ban import into the daemon's maps (no LAPI)
fleet_daemon 1 crowdsec_lapi_url=
t0=$(date +%s.%N)
/usr/bin/time -f %M -o "$RG_TMP/ctl.rss" nsenter --net="/run/netns/$LAB_NS_GW" "$RG_CTL" \
	--pin-dir "$PIN" ban import "$RG_TMP/ctl-import.txt" >/dev/null ||
	fail "relayguardctl ban import failed"
t_ctl=$(elapsed "$t0")
rss_ctl=$(awk '{ printf "%.0f", $1 / 1024 }' "$RG_TMP/ctl.rss")
count_ge "$N" || fail "ban import did not write $N bans"
fleet_ctl ban flush >/dev/null
kill "$E2E_DAEMON_PID"
wait "$E2E_DAEMON_PID" 2>/dev/null

# relayguardd as the LAPI's bouncer: its startup stream
t0=$(date +%s.%N)
fleet_daemon 1
wait_count 120 "$N" || fail "relayguardd did not apply $N decisions: $(e2e_daemon_log)"
t_stream=$(elapsed "$t0")
rss_stream=$(rss_mb "$E2E_DAEMON_PID" VmHWM)
sleep 1
rss_after=$(rss_mb "$E2E_DAEMON_PID" VmRSS)
# the daemon's own account: answer time (the LAPI building it: CrowdSec's
# share) and parse + apply + reconcile (relayguard's)
line=$(grep -m1 'whole set: ' "$E2E_DAEMON_LOG")
t_answer=$(sed -n 's/.* in \([0-9.]*\) s, applied.*/\1/p' <<<"$line")
t_apply=$(sed -n 's/.*applied in \([0-9.]*\) s).*/\1/p' <<<"$line")

printf '%-52s %8s %9s %7s\n' "$N bans into bans4 (cscli import took ${t_import}s)" \
	seconds "peak RSS" ratio
printf '%-52s %8s %6s MB %7s\n' "baseline: relayguardctl ban import" "$t_ctl" "$rss_ctl" 1.00
printf '%-52s %8s %6s MB %7s\n' "relayguardd start -> LAPI startup stream applied" \
	"$t_stream" "$rss_stream" "$(awk -v a="$t_stream" -v b="$t_ctl" 'BEGIN { printf "%.2f", a / b }')"
printf '  of which: the LAPI answering %s s, relayguardd parse + apply + reconcile %s s;\n' \
	"$t_answer" "$t_apply"
printf '  relayguardd RSS %s MB once applied (peak %s MB while parsing)\n' \
	"$rss_after" "$rss_stream"
awk -v s="$t_apply" 'BEGIN { printf "target <= 3 s for applying the stream: %s\n", s <= 3 ? "met" : "MISSED" }'
exit 0
