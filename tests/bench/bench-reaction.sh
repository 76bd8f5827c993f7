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
# FAIL2BAN=1 (default: when fail2ban is installed) also measures fail2ban on
# the same lab: stock postfix filter, maxretry = 1, nftables action, reading
# the lab's maillog: time from the same reply to fail2ban's "Ban" log line.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
ATTEMPTS=${ATTEMPTS:-200}
F2B_ATTEMPTS=${F2B_ATTEMPTS:-20}
e2e_require
command -v tshark >/dev/null || fail "tshark is not installed: make deps"
e2e_lab strict
e2e_daemon enforce

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
		-n -U -w "$1" --time-stamp-precision=nano 'tcp src port 25'
	CAP_PID=$RG_BG_PID
	rg_wait_for 5 grep -q listening "$RG_TMP/tcpdump.log" || fail "tcpdump did not start"
}

capture_stop() {
	sleep 0.2
	kill "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null
}

# reply_times PCAP CODE: "client_address boot_ns" of each reply CODE.
reply_times() {
	local off
	off=$(clock_offset_ns)
	tshark -r "$1" -Y "smtp.response.code == $2" -T fields \
		-e ip.dst -e frame.time_epoch 2>/dev/null |
		awk -v off="$off" '{
			split($2, t, "."); ns = substr(t[2] "000000000", 1, 9)
			printf "%s %d\n", $1, (t[1] * 1000000000 + ns) - off
		}'
}

# bans4 as "address created_ns first_hit_ns".
ban_times() {
	rg_in "$LAB_NS_GW" bpftool -j map dump pinned "$PIN/bans4" | jq -r '.[] |
		(.key | map(ltrimstr("0x") | explode | map(if . >= 97 then . - 87 else . - 48 end) |
			.[0] * 16 + .[1]) | map(tostring) | join(".")) + " " +
		((.formatted // .).value | "\(.created_ns) \(.first_hit_ns)")'
}

echo "# $ATTEMPTS relay attempts, one fresh attacker address each"
mapfile -t srcs < <("$LAB" pool "$LAB_PREFIX" "$ATTEMPTS")
capture_start "$RG_TMP/reaction.pcap"
# Baseline: the client's own reaction, reply -> next command, same path.
for ((i = 0; i < 20; i++)); do
	e2e_session "$LAB_NS_CL" --server "$LAB_GW4" --rcpt user@example.test \
		--timeout 1 >/dev/null
done
for s in "${srcs[@]}"; do
	e2e_session "$LAB_NS_AT" --src "$s" --server "$LAB_GW4" \
		--rcpt victim@gmail.com --timeout 0.25 >/dev/null
done
capture_stop

reply_times "$RG_TMP/reaction.pcap" 554 | sort >"$RG_TMP/replies"
ban_times | sort >"$RG_TMP/bans"
join "$RG_TMP/replies" "$RG_TMP/bans" >"$RG_TMP/joined"
awk '{ print ($3 - $2) / 1000 }' "$RG_TMP/joined" >"$RG_TMP/to_ban_us"
awk '$4 > 0 { print ($4 - $2) / 1000 }' "$RG_TMP/joined" >"$RG_TMP/to_drop_us"
jq -r 'select(.action == "ban") | .reaction_us // empty' "$E2E_EVENTS" \
	>"$RG_TMP/daemon_us" 2>/dev/null
# Baseline from the same capture: in the legitimate client's sessions, the
# time from one server reply to the next (the client reads it, sends its
# next command, the server answers): the pace of a fast SMTP client.
tshark -r "$RG_TMP/reaction.pcap" -Y "ip.dst == $LAB_CL4 && smtp.response" \
	-T fields -e tcp.stream -e frame.time_epoch 2>/dev/null |
	awk '{ if ($1 == s) print ($2 - t) * 1e6; s = $1; t = $2 }' >"$RG_TMP/client_round_us"

n_replies=$(wc -l <"$RG_TMP/replies")
n_banned=$(wc -l <"$RG_TMP/joined")
n_dropped=$(wc -l <"$RG_TMP/to_drop_us")
before_next=$(awk '$4 > 0' "$RG_TMP/joined" | wc -l)
echo
printf '%-58s %6s %10s %10s %10s\n' "relayguard reaction (microseconds)" n p50 p99 max
printf '%-58s %6s %10s %10s %10s\n' "554 reply leaves the gateway -> ban in bans4" $(percentiles "$RG_TMP/to_ban_us")
printf '%-58s %6s %10s %10s %10s\n' "554 reply leaves the gateway -> first attacker packet dropped" $(percentiles "$RG_TMP/to_drop_us")
printf '%-58s %6s %10s %10s %10s\n' "daemon's reaction_us (reply sample -> ban pushed)" $(percentiles "$RG_TMP/daemon_us")
printf '%-58s %6s %10s %10s %10s\n' "baseline: client round (reply -> next reply, same lab)" $(percentiles "$RG_TMP/client_round_us")
echo "attempts $ATTEMPTS, 554 replies captured $n_replies, banned $n_banned," \
	"ban in place before the bot's next command (QUIT dropped) $before_next"
p99=$(percentiles "$RG_TMP/to_ban_us" | awk '{print $3}')
base=$(percentiles "$RG_TMP/client_round_us" | awk '{print $2}')
awk -v a="$p99" -v b="$base" 'BEGIN { if (b > 0) printf "ratio: ban p99 / client round p50 = %.2f\n", a / b }'

((n_banned >= ATTEMPTS * 95 / 100)) || fail "only $n_banned of $ATTEMPTS attempts were banned"
ok "relayguard: $n_banned of $ATTEMPTS attempts banned, $n_dropped with a first drop"

# fail2ban on the same lab, if installed: stock postfix filter, maxretry 1,
# nftables action, in the gateway's namespace, reading the lab's maillog.
if [ "${FAIL2BAN:-auto}" != 0 ] && command -v fail2ban-server >/dev/null; then
	. "$(dirname "$0")/fail2ban-lab.sh"
	f2b_measure "$F2B_ATTEMPTS"
elif [ "${FAIL2BAN:-auto}" = 1 ]; then
	fail "FAIL2BAN=1 but fail2ban is not installed"
else
	echo "fail2ban: not installed, comparison skipped (apt-get install fail2ban)"
fi
rg_done
