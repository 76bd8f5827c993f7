#!/usr/bin/env bash
# Replay throughput: SMTP sessions per second through relayguard's pipeline
# (pcap -> sample records -> flows -> SMTP parser -> policy) on one core,
# against tshark dissecting SMTP on the same capture in the same run.
#   SESSIONS=N (default 50000) sessions in the generated capture.
# Both sides are timed as whole processes (wall clock, reading the file
# included); bench_replay also prints its in-process CPU figure.
. "$(dirname "$0")/../lib.sh"

SESSIONS=${SESSIONS:-50000}
bench="$BUILD/bench/bench_replay"
[ -x "$bench" ] || { echo "SKIP: $bench not built"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }

pcap="$RG_TMP/sessions.pcap"
conf="$RG_TMP/lab.conf"
printf 'local_domains = example.test\ntrusted_networks = 10.77.1.0/24\n' >"$conf"
"$bench" gen "$pcap" "$SESSIONS" || fail "cannot generate $pcap"
echo "capture: $SESSIONS sessions, $(stat -c %s "$pcap") bytes"

now() { date +%s%N; }

# Warm the page cache so that neither side pays for the first read.
cat "$pcap" >/dev/null

t0=$(now)
out=$(taskset -c 0 "$bench" run "$pcap" "$conf") || fail "replay failed"
t1=$(now)
echo "relayguard: $out"
sessions=$(sed -n 's/.* sessions \([0-9]*\) .*/\1/p' <<<"$out")
assert_eq "$sessions" "$SESSIONS" "the pipeline saw every session"

t2=$(now)
lines=$(taskset -c 0 tshark -r "$pcap" -Y smtp -T fields -e smtp.req.parameter 2>/dev/null | wc -l)
t3=$(now)
assert_gt "$lines" 0 "tshark dissected SMTP"

rg_ns=$((t1 - t0))
ts_ns=$((t3 - t2))
awk -v n="$SESSIONS" -v a="$rg_ns" -v b="$ts_ns" 'BEGIN {
	ra = n / (a / 1e9); rb = n / (b / 1e9)
	printf "%-12s %10s %14s\n", "", "seconds", "sessions/s"
	printf "%-12s %10.3f %14.0f\n", "relayguard", a / 1e9, ra
	printf "%-12s %10.3f %14.0f\n", "tshark", b / 1e9, rb
	printf "ratio relayguard/tshark: %.1fx (target >= 50x); relayguard >= 200000 sessions/s: %s\n",
		ra / rb, (ra >= 200000 ? "yes" : "no")
}'
rg_done
