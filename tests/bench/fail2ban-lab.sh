#!/usr/bin/env bash
# fail2ban on the reaction-time lab (sourced by bench-reaction.sh): the stock
# postfix filter, maxretry = 1, the nftables action, a server of its own in
# the gateway's namespace with a private config, socket and log, reading the
# lab's maillog. Its time to ban: the 554 reply leaving the gateway (the same
# tcpdump capture as for relayguard) -> fail2ban's "Ban ADDR" log line.
#
# fail2ban is used from PATH, or from F2B_ROOT, an unpacked Debian package
# (apt-get download fail2ban && dpkg -x fail2ban_*.deb DIR): the installed
# package would start a host-wide service, which a benchmark must not do.

f2b_bin() { # NAME: path of a fail2ban program
	if [ -n "${F2B_ROOT:-}" ]; then
		echo "$F2B_ROOT/usr/bin/$1"
	else
		command -v "$1"
	fi
}

f2b_available() {
	[ -n "${F2B_ROOT:-}" ] && [ -x "$F2B_ROOT/usr/bin/fail2ban-client" ] && return 0
	[ -z "${F2B_ROOT:-}" ] && command -v fail2ban-client >/dev/null
}

f2b_start() { # DIR
	local dir=$1 etc=/etc/fail2ban
	[ -n "${F2B_ROOT:-}" ] && etc="$F2B_ROOT/etc/fail2ban"
	mkdir -p "$dir"
	cp -r "$etc" "$dir/conf"
	rm -f "$dir/conf/jail.d/"*
	# (section names are case-sensitive: a wrong one silently falls back to
	# the host's /var/log, /run/fail2ban and /var/lib/fail2ban)
	cat >"$dir/conf/fail2ban.local" <<-EOF
	[Definition]
	allowipv6 = auto
	loglevel = INFO
	logtarget = $dir/fail2ban.log
	socket = $dir/fail2ban.sock
	pidfile = $dir/fail2ban.pid
	dbfile = :memory:
	EOF
	cat >"$dir/conf/jail.local" <<-EOF
	[DEFAULT]
	banaction = nftables-allports
	banaction_allports = nftables-allports
	backend = polling
	maxretry = 1
	findtime = 10m
	bantime = 10m
	ignoreip = 127.0.0.1/8 ::1 10.77.1.0/24

	[postfix]
	enabled = true
	filter = postfix
	logpath = $LAB_MAILLOG
	EOF
	local py=""
	[ -n "${F2B_ROOT:-}" ] && py="$F2B_ROOT/usr/lib/python3/dist-packages"
	rg_bg "$dir/client.log" ip netns exec "$LAB_NS_GW" env PYTHONPATH="$py" \
		"$SYS_PY" "$(f2b_bin fail2ban-client)" -c "$dir/conf" \
		-s "$dir/fail2ban.sock" -p "$dir/fail2ban.pid" \
		--logtarget "$dir/fail2ban.log" -x -f start
	F2B_PID=$RG_BG_PID
	rg_wait_for 15 grep -q "Jail 'postfix' started" "$dir/fail2ban.log" &&
		grep -q "Connected to fail2ban persistent database ':memory:'" "$dir/fail2ban.log" ||
		fail "fail2ban did not start: $(tail -n 5 "$dir/client.log" "$dir/fail2ban.log")"
}

# f2b_measure N FIRST: N relay attempts from pool addresses FIRST..
# (srcs: the array of pool addresses, set by bench-reaction.sh)
# shellcheck disable=SC2154
f2b_measure() {
	local n=$1 first=$2 dir="$RG_TMP/f2b" out="$RG_TMP/f2b-run" s
	mkdir -p "$out"
	# relayguard off the interface: fail2ban alone decides
	kill "$E2E_DAEMON_PID" && rg_wait_for 5 sh -c "! kill -0 $E2E_DAEMON_PID"
	e2e_ctl detach "$LAB_IF_GW" >/dev/null || fail "cannot detach relayguard"
	f2b_start "$dir"
	capture_start "$out/reaction.pcap"
	for s in "${srcs[@]:first:n}"; do
		e2e_session "$LAB_NS_AT" --src "$s" --server "$LAB_GW4" \
			--rcpt victim@gmail.com --timeout 0.25 >/dev/null
		# one at a time: wait for this ban (at most 3 s) before the next
		rg_wait_for 3 grep -q "Ban $s\$" "$dir/fail2ban.log"
		# a random pause, so attempts do not lock onto its polling phase
		sleep "0.$((RANDOM % 10))"
	done
	capture_stop
	printf '%s\n' "${srcs[@]:first:n}" >"$out/sources"
	reply_times "$out/reaction.pcap" 554 | sort -k1,1 -k2,2n |
		awk 'NR == FNR { mine[$1] = 1; next } mine[$1] && !seen[$1]++' \
			"$out/sources" - >"$out/replies"
	# "2026-11-28 19:45:01,123 fail2ban.actions [1]: NOTICE  [postfix] Ban A"
	# -> "A boot_ns", on the same clock as the replies
	grep -E '\[postfix\] Ban ' "$dir/fail2ban.log" | "$SYS_PY" -c 'import sys, time, datetime
off = time.clock_gettime_ns(time.CLOCK_REALTIME) - time.clock_gettime_ns(time.CLOCK_BOOTTIME)
for line in sys.stdin:
	f = line.split()
	t = datetime.datetime.strptime(f[0] + " " + f[1], "%Y-%m-%d %H:%M:%S,%f")
	print(f[-1], int(t.timestamp() * 1e6) * 1000 - off)' | sort >"$out/bans"
	join "$out/replies" "$out/bans" | awk '{ printf "%.1f\n", ($3 - $2) / 1000 }' \
		>"$out/to_ban_us"
	echo
	echo "== fail2ban $(grep -m1 -o 'Fail2ban v[0-9.]*' "$dir/fail2ban.log" | cut -d' ' -f2): $n relay attempts, $(wc -l <"$out/replies") replies captured, $(wc -l <"$out/to_ban_us") banned"
	printf '%-60s %5s %9s %9s %9s\n' "microseconds" n p50 p99 max
	row "554 reply leaves the gateway -> fail2ban logs Ban" "$out/to_ban_us"
	[ -n "$KEEP" ] && cp -r "$out" "$dir/fail2ban.log" "$KEEP/"
	kill "$F2B_PID" 2>/dev/null
	[ -s "$out/to_ban_us" ] || fail "fail2ban banned nothing"
	ok "fail2ban measured on the same lab"
}
