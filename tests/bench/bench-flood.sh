#!/usr/bin/env bash
# A flood of spoofed SMTP data (trafgen: random IPv4 sources and ports,
# random sequence numbers, a MAIL command as payload; sessions that never
# had a handshake) into the lab's gateway, at full speed from the spoofer's
# namespace, while a real prober makes PROBES relay attempts from fresh
# addresses, one after the other. Baseline in the same run: the same
# prober with no flood. Reports the packets per second XDP saw and the
# sample records written (and lost, ring buffer full), relayguardd's CPU
# and peak RSS, and the time to ban the prober (the daemon's reaction_us:
# Postfix's 554 sampled -> ban in bans4) and how many probes were cut off
# inside their session (their next command unanswered).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/../ops/flood.sh"
PROBES=${PROBES:-30}
e2e_require
rg_require_cmds trafgen
e2e_lab strict
e2e_daemon enforce
HZ=$(getconf CLK_TCK)
mapfile -t srcs < <("$LAB" pool "$LAB_PREFIX" $((2 * PROBES)))

cpu_ticks() { awk '{print $14 + $15}' "/proc/$E2E_DAEMON_PID/stat"; }
now_s() { date +%s.%N; }

# probes FIRST OUT: PROBES relay attempts from srcs[FIRST..]; per probe,
# "cut" or "not-cut" in OUT.cut.
probes() {
	local first=$1 out=$2 i s t
	: >"$out.cut"
	for ((i = first; i < first + PROBES; i++)); do
		s=${srcs[i]}
		t=$(e2e_session "$LAB_NS_AT" --src "$s" --server "$LAB_GW4" \
			--rcpt victim@gmail.com --rcpt victim2@gmail.com \
			--pause 0.2 --timeout 1)
		if grep -q '^RCPT timeout' <<<"$t"; then echo cut; else echo not-cut; fi >>"$out.cut"
	done
}

# Percentiles of the reaction_us of bans of srcs[FIRST..FIRST+PROBES).
reactions() {
	local first=$1
	printf '%s\n' "${srcs[@]:first:PROBES}" >"$RG_TMP/mine"
	jq -r --rawfile s "$RG_TMP/mine" \
		'select(.action == "ban" and (.source as $x | $s | split("\n") | index($x))) | .reaction_us // empty' \
		"$E2E_EVENTS" | sort -n | awk '{v[NR] = $1}
		END { if (!NR) { print "0 - - -"; exit }
		      printf "%d %d %d %d\n", NR, v[int((NR - 1) * 0.5) + 1], v[int((NR - 1) * 0.99) + 1], v[NR] }'
}

# phase LABEL FIRST FLOOD: counters around one round of probes.
phase() {
	local label=$1 first=$2 flood=$3 t0 t1 c0 c1 p0 p1 r0 r1 l0 l1 secs
	if [ "$flood" = 1 ]; then
		flood_start "$LAB_NS_SP" "${LAB_PREFIX}sp0" "$gw_mac" "$LAB_GW4"
		sleep 3 # let it reach its pace
		kill -0 "$FLOOD_PID" || fail "trafgen: $(cat "$RG_TMP/trafgen.log")"
	fi
	t0=$(now_s) c0=$(cpu_ticks) p0=$(e2e_stat packets)
	r0=$(e2e_stat sample_records) l0=$(e2e_stat sample_ringbuf_full)
	probes "$first" "$RG_TMP/$label"
	t1=$(now_s) c1=$(cpu_ticks) p1=$(e2e_stat packets)
	r1=$(e2e_stat sample_records) l1=$(e2e_stat sample_ringbuf_full)
	[ "$flood" = 1 ] && flood_stop
	secs=$(echo "$t1 - $t0" | bc)
	read -r n p50 p99 max < <(reactions "$first")
	printf '%-10s %10.0f %10.0f %10.0f %6.1f %6s %6s %8s %8s %8s\n' "$label" \
		"$(echo "($p1 - $p0) / $secs" | bc -l)" \
		"$(echo "($r1 - $r0) / $secs" | bc -l)" \
		"$(echo "($l1 - $l0) / $secs" | bc -l)" \
		"$(echo "100 * ($c1 - $c0) / $HZ / $secs" | bc -l)" \
		"$n/$PROBES" "$(grep -c '^cut' "$RG_TMP/$label.cut")" "$p50" "$p99" "$max" |
		tee -a "$RG_TMP/table"
	echo "$label $p50 $p99 $n $(grep -c '^cut' "$RG_TMP/$label.cut") $(echo "100 * ($c1 - $c0) / $HZ / $secs" | bc -l)" >>"$RG_TMP/figures"
}

gw_mac=$(ip -n "$LAB_NS_GW" -j link show "$LAB_IF_GW" | jq -r '.[0].address')
echo "== relayguardd under a spoofed port-25 flood: $PROBES relay probes per phase"
printf '%-10s %10s %10s %10s %6s %6s %6s %8s %8s %8s\n' phase "pkts/s" "records/s" \
	"lost/s" "cpu%" banned cut "p50 us" "p99 us" "max us"
phase baseline 0 0
phase flood "$PROBES" 1
echo "daemon peak RSS: $(awk '/^VmHWM/ {print $2, $3}' "/proc/$E2E_DAEMON_PID/status")"
read -r _ b50 b99 bn bc bcpu < <(grep '^baseline' "$RG_TMP/figures")
read -r _ f50 f99 fn fc fcpu < <(grep '^flood' "$RG_TMP/figures")
awk -v b50="$b50" -v f50="$f50" -v b99="$b99" -v f99="$f99" 'BEGIN {
	if (b50 > 0) printf "ratio flood / baseline: time to ban p50 %.2f, p99 %.2f\n", f50 / b50, f99 / b99 }'
kill -0 "$E2E_DAEMON_PID" || fail "relayguardd died during the flood"
ok "relayguardd survived the flood"
((bn == PROBES)) || fail "baseline: only $bn of $PROBES probes banned"
ok "baseline: every probe banned"
((fn >= PROBES * 9 / 10)) || fail "flood: only $fn of $PROBES probes banned"
ok "flood: $fn of $PROBES probes banned"
rg_done
