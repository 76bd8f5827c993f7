#!/usr/bin/env bash
# Replay throughput: SMTP sessions per second through relayguard's pipeline
# (pcap -> sample records -> flows -> SMTP parser -> policy) on one core,
# against tshark dissecting SMTP on the same capture in the same run.
#   SESSIONS=N (default 100000) sessions in the generated capture.
# Both sides are timed as whole processes on one core (CPU seconds, reading
# the file included); bench_replay also prints its in-process figure.
. "$(dirname "$0")/../lib.sh"

SESSIONS=${SESSIONS:-100000}
bench="$BUILD/bench/bench_replay"
[ -x "$bench" ] || { echo "SKIP: $bench not built"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }

pcap="$RG_TMP/sessions.pcap"
conf="$RG_TMP/lab.conf"
printf 'local_domains = example.test\ntrusted_networks = 10.77.1.0/24\n' >"$conf"
"$bench" gen "$pcap" "$SESSIONS" || fail "cannot generate $pcap"
echo "capture: $SESSIONS sessions, $(stat -c %s "$pcap") bytes"

# Warm the page cache so that neither side pays for the first read.
cat "$pcap" >/dev/null

# CPU seconds (user + system) of each whole process, pinned to one core:
# what other load on the machine does to wall time does not count.
cpu() { # OUTFILE CMD... -> prints "cpu_seconds wall_seconds"
	local out=$1
	shift
	/usr/bin/time -f '%U %S %e' -o "$RG_TMP/time" taskset -c 0 "$@" >"$out" 2>/dev/null ||
		fail "$* failed"
	awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' "$RG_TMP/time"
}

read -r rg_cpu rg_wall < <(cpu "$RG_TMP/rg.out" "$bench" run "$pcap" "$conf")
echo "relayguard: $(cat "$RG_TMP/rg.out")"
sessions=$(sed -n 's/.* sessions \([0-9]*\) .*/\1/p' "$RG_TMP/rg.out")
assert_eq "$sessions" "$SESSIONS" "the pipeline saw every session"

read -r ts_cpu ts_wall < <(cpu "$RG_TMP/ts.out" tshark -r "$pcap" -Y smtp -T fields -e smtp.req.parameter)
lines=$(wc -l <"$RG_TMP/ts.out")
assert_gt "$lines" 0 "tshark dissected SMTP"

awk -v n="$SESSIONS" -v a="$rg_cpu" -v b="$ts_cpu" -v aw="$rg_wall" -v bw="$ts_wall" 'BEGIN {
	if (a <= 0) a = 0.001
	ra = n / a; rb = n / b
	printf "%-12s %12s %12s %14s\n", "", "cpu seconds", "wall seconds", "sessions/s"
	printf "%-12s %12.3f %12.3f %14.0f\n", "relayguard", a, aw, ra
	printf "%-12s %12.3f %12.3f %14.0f\n", "tshark", b, bw, rb
	printf "ratio relayguard/tshark: %.1fx (target >= 50x); relayguard >= 200000 sessions/s: %s\n",
		ra / rb, (ra >= 200000 ? "yes" : "no")
}'
rg_done
