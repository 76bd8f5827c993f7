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
#
# Then the reaction while whole sets are applied: the lab's Postfix is an
# open relay 20 ms from the attacker (tests/tools/nfq_delay), which makes a
# relay attempt every 100 ms from fresh addresses (tests/fleet/
# relay_attempts.py), PHASE_S seconds without whole sets (deltas pulled
# every second), then while CYCLES whole sets of N are pulled back to back
# (each after a short LAPI outage). Measured: the daemon's reaction_us
# (reply sample -> ban in the map, from its event log) p50/p99/max, without
# whole sets, during the pull phase, and for the attempts whose reply was
# sampled while a whole set was being applied (from the daemon's log:
# received at, applied in); and whether any message got queued.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/../fleet/fleet.sh"
N=${N:-100000}
PHASE_S=${PHASE_S:-20}
CYCLES=${CYCLES:-5}
fleet_require

fleet_open_relay

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
t_answer=$(sed -n 's/.* from the LAPI in \([0-9.]*\) s,.*/\1/p' <<<"$line")
t_apply=$(sed -n 's/.*applied in \([0-9.]*\) s:.*/\1/p' <<<"$line")
t_work=$(sed -n 's/.*: \([0-9.]*\) s of work in \([0-9]*\) slices.*/\1 s of CPU, \2 slices/p' <<<"$line")

printf '%-52s %8s %9s %7s\n' "$N bans into bans4 (cscli import took ${t_import}s)" \
	seconds "peak RSS" ratio
printf '%-52s %8s %6s MB %7s\n' "baseline: relayguardctl ban import" "$t_ctl" "$rss_ctl" 1.00
printf '%-52s %8s %6s MB %7s\n' "relayguardd start -> LAPI startup stream applied" \
	"$t_stream" "$rss_stream" "$(awk -v a="$t_stream" -v b="$t_ctl" 'BEGIN { printf "%.2f", a / b }')"
printf '  of which: the LAPI answering %s s, relayguardd parse + apply + reconcile %s s (%s);\n' \
	"$t_answer" "$t_apply" "$t_work"
printf '  relayguardd RSS %s MB once applied (peak %s MB while parsing)\n' \
	"$rss_after" "$rss_stream"
awk -v s="$t_apply" 'BEGIN { printf "target <= 3 s for applying the stream: %s\n", s <= 3 ? "met" : "MISSED" }'

# ---- the reaction while whole sets are applied ----
kill "$E2E_DAEMON_PID"
wait "$E2E_DAEMON_PID" 2>/dev/null
fleet_daemon 1 crowdsec_machine_id= crowdsec_machine_password_file=
wait_count 120 "$N" || fail "relayguardd did not apply $N decisions again"
rg_wait_for 120 fleet_whole_sets_gt 0 || fail "no whole set applied"
fleet_open_relay_attacker

fleet_attempts_start calm 0 $((PHASE_S * 10 + 50))
sleep "$PHASE_S"
fleet_attempts_stop calm
fleet_attempts_start pulls $((PHASE_S * 10 + 50)) 2000
for ((c = 0; c < CYCLES; c++)); do
	fleet_force_whole_set
done
fleet_attempts_stop pulls

# reaction_us of each phase's bans; "inside": the reply sampled (ban time
# - reaction_us) while a whole set was applied
grep -o 'received at [^,]*, applied in [0-9.]* s' "$E2E_DAEMON_LOG" >"$RG_TMP/wholesets"
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$E2E_EVENTS" "$E2E_DAEMON_LOG" "$RG_TMP"/*.attempts "$RG_TMP/wholesets" "$KEEP/"
"$SYS_PY" - "$E2E_EVENTS" "$RG_TMP/wholesets" "$RG_TMP/calm.attempts" \
	"$RG_TMP/pulls.attempts" "$CYCLES" "$N" <<-'PY'
	import datetime, json, sys
	def epoch(t):
	    return datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
	        tzinfo=datetime.timezone.utc).timestamp()
	bans = {}
	for line in open(sys.argv[1]):
	    e = json.loads(line)
	    if e.get("action") == "ban" and "reaction_us" in e:
	        bans.setdefault(e["source"], (epoch(e["time"]), e["reaction_us"]))
	sets = []
	for line in open(sys.argv[2]):
	    w = line.split()
	    start = epoch(w[2].rstrip(","))
	    sets.append((start, start + float(w[5])))
	def pct(v, p):
	    v = sorted(v)
	    return v[int((len(v) - 1) * p)] / 1000 if v else float("nan")
	def row(label, v, att):
	    print("%-46s %5d %9.2f %9.2f %9.2f %7s" % (label, len(v), pct(v, .5),
	          pct(v, .99), max(v) / 1000 if v else float("nan"), att))
	def phase(path):
	    att = [l.split() for l in open(path) if l.startswith("10.")]
	    queued = sum(1 for a in att if "EOM" in a and a[a.index("EOM") + 1] == "250")
	    return att, queued
	calm, calm_q = phase(sys.argv[3])
	pulls, pulls_q = phase(sys.argv[4])
	rc = [bans[a[0]][1] for a in calm if a[0] in bans]
	rp = [bans[a[0]][1] for a in pulls if a[0] in bans]
	inside = [bans[a[0]][1] for a in pulls if a[0] in bans and any(
	    s <= bans[a[0]][0] - bans[a[0]][1] / 1e6 <= e for s, e in sets)]
	print()
	print("reaction to relay attempts every 100 ms (open relay, 20 ms away), "
	      "while whole sets of %s decisions are applied" % sys.argv[6])
	print("%-46s %5s %9s %9s %9s %7s" % ("reaction_us of the bans, in ms", "n",
	      "p50", "p99", "max", "queued"))
	row("no whole set (deltas pulled every second)", rc,
	    "%d/%d" % (calm_q, len(calm)))
	row("pull phase: %s whole sets applied" % sys.argv[5], rp,
	    "%d/%d" % (pulls_q, len(pulls)))
	row("  attempts sampled while a whole set applied", inside, "")
	if rc and inside:
	    print("ratio p99 while a whole set is applied / p99 without: %.2f" %
	          (pct(inside, .99) / pct(rc, .99)))
	PY
exit 0
