#!/usr/bin/env bash
# Reaction time: relay attempt -> ban in the map -> first attacker packet
# dropped, on the lab with a real Postfix and relayguardd.
#
# ATTEMPTS (default 200) relay attempts, each from a fresh attacker address,
# one after the other. For each, the server's "554 Relay access denied" reply
# is timestamped as it leaves the gateway's veth (tcpdump, nanoseconds,
# converted to the boot clock), and compared with the ban entry's created_ns
# (user space pushed the ban) and first_hit_ns (the first attacker packet XDP
# dropped: the bot's next command) from bans4. The daemon's own measure
# (reaction_us in its ban events: reply sample -> ban pushed) is printed
# beside it. Baseline in the same run: the round trip of the same client to
# the same server (EHLO -> 250), i.e. how soon an attacker can possibly send
# its next command.
#
# Two runs: relayguardd at normal priority (scheduling = none), and as it
# comes (scheduling = fifo:10, SCHED_FIFO), which shows how much of
# the tail is the daemon waiting for a CPU on a busy machine.
#
# fail2ban, when available (in PATH, or F2B_ROOT=an unpacked Debian package;
# FAIL2BAN=0 skips it, FAIL2BAN=1 requires it), is measured on the same lab
# the same way: stock postfix filter, maxretry = 1, nftables action, reading
# the lab's maillog; time from the same reply to its "Ban" log line.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
ATTEMPTS=${ATTEMPTS:-200}
KEEP=${KEEP:-} # a directory: keep the capture, event log and raw figures there
F2B_ATTEMPTS=${F2B_ATTEMPTS:-20}
e2e_require
command -v tshark >/dev/null || fail "tshark is not installed: make deps"
e2e_lab strict

# Realtime - boottime, to put tcpdump's timestamps on the boot clock.
clock_offset_ns() {
	"$SYS_PY" -c 'import time
print(time.clock_gettime_ns(time.CLOCK_REALTIME) - time.clock_gettime_ns(time.CLOCK_BOOTTIME))'
}

# percentiles FILE: "n p50 p99 max" of the numbers in FILE (one a line).
percentiles() {
	sort -n "$1" | awk '{v[NR] = $1}
	END {
		if (!NR) { print "0 - - -"; exit }
		p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
		printf "%d %.1f %.1f %.1f\n", NR, p50, p99, v[NR]
	}'
}

capture_start() { # FILE
	rg_bg "$RG_TMP/tcpdump.log" ip netns exec "$LAB_NS_GW" tcpdump -i "$LAB_IF_GW" \
		-n -U --immediate-mode -w "$1" --time-stamp-precision=nano 'tcp src port 25'
	CAP_PID=$RG_BG_PID
	rg_wait_for 5 grep -q listening "$RG_TMP/tcpdump.log" || fail "tcpdump did not start"
}

capture_stop() {
	sleep 0.2
	kill "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null
}

# reply_times PCAP CODE: "client_address boot_ns" of each reply CODE
# (integer arithmetic in python: awk's doubles and %d cannot hold ns epochs).
reply_times() {
	local off
	off=$(clock_offset_ns)
	tshark -r "$1" -Y "smtp.response.code == $2" -T fields \
		-e ip.dst -e frame.time_epoch 2>/dev/null |
		"$SYS_PY" -c 'import sys
off = int(sys.argv[1])
for line in sys.stdin:
	addr, t = line.split()
	sec, _, frac = t.partition(".")
	print(addr, int(sec) * 10**9 + int((frac + "000000000")[:9]) - off)' "$off"
}

# bans4 as "address created_ns first_hit_ns".
ban_times() {
	rg_in "$LAB_NS_GW" bpftool -j map dump pinned "$PIN/bans4" | jq -r '.[] |
		(.key | map(ltrimstr("0x") | explode | map(if . >= 97 then . - 87 else . - 48 end) |
			.[0] * 16 + .[1]) | map(tostring) | join(".")) + " " +
		((.formatted // .).value | "\(.created_ns) \(.first_hit_ns)")'
}


# pctl FILE: "n p50 p99 max" printed in the table's columns.
row() { # LABEL FILE
	# shellcheck disable=SC2046,SC2183 # percentiles prints four columns
	printf '%-60s %5s %9s %9s %9s\n' "$1" $(percentiles "$2")
}

# measure LABEL SCHEDULING FIRST: ATTEMPTS relay attempts from pool
# addresses FIRST.., relayguardd run with `scheduling = SCHEDULING`.
measure() {
	local label=$1 sched=$2 first=$3 out="$RG_TMP/$4" s i
	mkdir -p "$out"
	[ -n "${E2E_DAEMON_PID:-}" ] && kill "$E2E_DAEMON_PID" && rg_wait_for 5 \
		sh -c "! kill -0 $E2E_DAEMON_PID"
	e2e_daemon enforce "scheduling=$sched" relay_attempts_ban=1
	capture_start "$out/reaction.pcap"
	for ((i = 0; i < 20; i++)); do
		e2e_session "$LAB_NS_CL" --server "$LAB_GW4" --rcpt user@example.test \
			--timeout 1 >/dev/null
	done
	for s in "${srcs[@]:first:ATTEMPTS}"; do
		e2e_session "$LAB_NS_AT" --src "$s" --server "$LAB_GW4" \
			--rcpt victim@gmail.com --timeout 0.25 >/dev/null
	done
	capture_stop

	# the first 554 to each address (later ones are TCP retransmissions:
	# once banned, the client's ACKs are dropped too)
	# once banned, the client's ACKs are dropped too). Only this run's
	# addresses: the capture also holds retransmissions to earlier ones.
	printf '%s\n' "${srcs[@]:first:ATTEMPTS}" >"$out/sources"
	reply_times "$out/reaction.pcap" 554 | sort -k1,1 -k2,2n |
		awk 'NR == FNR { mine[$1] = 1; next } mine[$1] && !seen[$1]++' \
			"$out/sources" - >"$out/replies"
	ban_times | sort >"$out/bans"
	# joined: address reply_ns created_ns first_hit_ns
	join "$out/replies" "$out/bans" >"$out/joined"
	"$SYS_PY" -c 'import sys
with open(sys.argv[1]) as j, open(sys.argv[2], "w") as b, open(sys.argv[3], "w") as d:
	for line in j:
		addr, reply, created, hit = line.split()
		print((int(created) - int(reply)) / 1000, file=b)
		if int(hit):
			print((int(hit) - int(reply)) / 1000, file=d)' \
		"$out/joined" "$out/to_ban_us" "$out/to_drop_us"
	jq -r --rawfile srcs "$out/sources" \
		'select(.action == "ban" and (.source as $s | $srcs | split("\n") | index($s)))
		| .reaction_us // empty' "$E2E_EVENTS" >"$out/daemon_us"
	# Baseline from the same capture: in the legitimate client's sessions,
	# from one server reply to the next (the client reads it, sends its
	# next command, the server answers): the pace of a fast SMTP client.
	tshark -r "$out/reaction.pcap" -Y "ip.dst == $LAB_CL4 && smtp.response" \
		-T fields -e tcp.stream -e frame.time_epoch 2>/dev/null |
		"$SYS_PY" -c 'import sys
last = {}
for line in sys.stdin:
	stream, t = line.split()
	sec, _, frac = t.partition(".")
	ns = int(sec) * 10**9 + int((frac + "000000000")[:9])
	if stream in last:
		print((ns - last[stream]) / 1000)
	last[stream] = ns' >"$out/client_round_us"

	local n_banned late before_next p99 base
	n_banned=$(wc -l <"$out/joined")
	late=$(awk '$1 > 1000' "$out/to_ban_us" | wc -l)
	before_next=$(awk '$4 > 0' "$out/joined" | wc -l)
	echo
	echo "== relayguardd $label: $ATTEMPTS relay attempts, $(wc -l <"$out/replies") replies captured, $n_banned banned"
	printf '%-60s %5s %9s %9s %9s\n' "microseconds" n p50 p99 max
	row "554 reply leaves the gateway -> ban in bans4" "$out/to_ban_us"
	row "554 reply leaves the gateway -> first attacker packet dropped" "$out/to_drop_us"
	row "daemon's reaction_us (reply sample -> ban pushed)" "$out/daemon_us"
	row "baseline: client round (reply -> next reply)" "$out/client_round_us"
	p99=$(percentiles "$out/to_ban_us" | awk '{print $3}')
	base=$(percentiles "$out/client_round_us" | awk '{print $2}')
	echo "bans later than 1 ms: $late; ban in place before the bot's next command (it was dropped): $before_next"
	awk -v a="$p99" -v b="$base" 'BEGIN { if (b > 0) printf "ratio ban p99 / client round p50: %.2f\n", a / b }'
	[ -n "$KEEP" ] && mkdir -p "$KEEP" && cp -r "$out" "$KEEP/" && cp "$E2E_EVENTS" "$KEEP/"
	((n_banned >= ATTEMPTS * 95 / 100)) || fail "$label: only $n_banned of $ATTEMPTS attempts were banned"
	ok "$label: $n_banned of $ATTEMPTS attempts banned"
}

mapfile -t srcs < <("$LAB" pool "$LAB_PREFIX" $((2 * ATTEMPTS + F2B_ATTEMPTS)))
measure "(scheduling = none: SCHED_OTHER)" none 0 other
measure "(scheduling = fifo:10, the default)" fifo:10 "$ATTEMPTS" fifo

# fail2ban on the same lab (tests/bench/fail2ban-lab.sh), if available.
. "$(dirname "$0")/fail2ban-lab.sh"
if [ "${FAIL2BAN:-auto}" != 0 ] && f2b_available; then
	f2b_measure "$F2B_ATTEMPTS" $((2 * ATTEMPTS))
elif [ "${FAIL2BAN:-auto}" = 1 ]; then
	fail "FAIL2BAN=1 but fail2ban is not available (PATH or F2B_ROOT)"
else
	echo
	echo "fail2ban: not available, comparison skipped (F2B_ROOT=DIR: an unpacked fail2ban .deb)"
fi
rg_done
