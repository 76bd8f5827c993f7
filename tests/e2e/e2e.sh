#!/usr/bin/env bash
# Helpers for the end-to-end tests (tests/e2e/test-*.sh): a lab of this
# test's own (scripts/lab.sh with the test's prefix), relayguardd on the
# gateway with its own pin dir, counters and bans read through bpftool on
# the pinned maps (independent of relayguardctl's output format), and SMTP
# sessions from real clients. Source after tests/lib.sh.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB="$RG_TOP/scripts/lab.sh"
SYS_PY=/usr/bin/python3 # Debian's, which has scapy

e2e_require() {
	rg_require_root
	rg_require_built
	rg_require_cmds swaks postfix bpftool jq iptables-legacy
}

# For tests that forge packets with Debian's scapy.
e2e_require_scapy() {
	"$SYS_PY" -c 'import scapy' 2>/dev/null || fail "python3-scapy is not installed: make deps"
}

# The MAC address of the gateway's client-facing veth (forged frames go to it).
e2e_gw_mac() {
	ip -n "$LAB_NS_GW" -br link show "$LAB_IF_GW" | awk '{print $3}'
}

# On failure, show what the daemons and Postfix said (the cleanup runs with
# its output discarded, so write to a copy of the original stderr).
# shellcheck disable=SC2034 # used by the cleanup string below
exec {E2E_ERR}>&2
E2E_DAEMON_N=0
e2e_dump_logs() {
	local f
	for f in "$RG_TMP"/relayguardd.*.log "${LAB_MAILLOG:-/nonexistent}"; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f"
		tail -n 25 "$f"
	done
	[ -s "${E2E_EVENTS:-/nonexistent}" ] && { echo "--- events"; tail -n 10 "$E2E_EVENTS"; }
	return 0
}

# e2e_start VARIANT MODE [KEY=VALUE...]: the usual start of a test:
# skip without what it needs, bring up its lab (e2e_lab VARIANT) and start
# relayguardd (e2e_daemon MODE KEY=VALUE...).
e2e_start() {
	local variant=$1
	shift
	e2e_require
	e2e_lab "$variant"
	e2e_daemon "$@"
}

# e2e_lab VARIANT [policy]: bring up a lab named after this test
# (strict|open|none; policy: Postfix asks relayguardd's policy service);
# loads the lab's variables (LAB_NS_GW, LAB_IF_GW, LAB_RUN, ...).
e2e_lab() {
	local p=${RG_PREFIX}
	rg_on_exit "'$LAB' down '$p'"
	rg_on_exit '[ "$rc" = 0 ] || e2e_dump_logs >&$E2E_ERR 2>&1'
	"$LAB" up "$p" "$@" || fail "lab up failed"
	# shellcheck disable=SC1090
	. "/run/relayguard-lab-$p.env"
	PIN=$(rg_pin_dir)
	E2E_CONF="$RG_TMP/relayguard.conf"
	E2E_EVENTS="$LAB_RUN/events.json"
}

# e2e_daemon MODE [KEY=VALUE...]: write the lab's config (extra keys
# override) and start relayguardd on the gateway; waits until its programs
# are attached and it has written its pid file. Sets E2E_DAEMON_PID.
# E2E_DAEMON_ARGS (an array, may be unset): more relayguardd options.
e2e_daemon() {
	local mode=$1 kv
	shift
	"$LAB" conf "$LAB_PREFIX" "$mode" >"$E2E_CONF"
	for kv in "$@"; do
		sed -i "/^${kv%%=*} *=/d" "$E2E_CONF"
		echo "${kv%%=*} = ${kv#*=}" >>"$E2E_CONF"
	done
	rm -f "$RG_TMP/relayguardd.pid"
	E2E_DAEMON_N=$((E2E_DAEMON_N + 1))
	E2E_DAEMON_LOG="$RG_TMP/relayguardd.$E2E_DAEMON_N.log"
	# nsenter itself, not the rg_in function: a function would run in a
	# subshell, and RG_BG_PID would be that subshell, not the daemon.
	rg_bg "$E2E_DAEMON_LOG" nsenter --net="/run/netns/$LAB_NS_GW" "$RG_DAEMON" -f \
		-c "$E2E_CONF" --pin-dir "$PIN" --pid-file "$RG_TMP/relayguardd.pid" \
		${E2E_DAEMON_ARGS[@]+"${E2E_DAEMON_ARGS[@]}"}
	E2E_DAEMON_PID=$RG_BG_PID
	rg_wait_for 10 e2e_ready ||
		fail "relayguardd not ready in 10 s"
	[ "$(cat "$RG_TMP/relayguardd.pid")" = "$E2E_DAEMON_PID" ] ||
		fail "pid file says $(cat "$RG_TMP/relayguardd.pid"), started $E2E_DAEMON_PID"
}

e2e_ready() {
	kill -0 "$E2E_DAEMON_PID" 2>/dev/null || return 1
	[ -s "$RG_TMP/relayguardd.pid" ] || return 1
	e2e_attached && [ -e "$PIN/stats" ]
}

# XDP program on the gateway's client-facing veth?
e2e_attached() {
	ip -n "$LAB_NS_GW" -d link show "$LAB_IF_GW" 2>/dev/null | grep -q 'prog/xdp'
}

e2e_daemon_log() {
	tail -n 30 "$E2E_DAEMON_LOG"
}

# e2e_stat NAME: a counter of `stats`, summed over CPUs.
e2e_stat() {
	rg_in "$LAB_NS_GW" bpftool -j map dump pinned "$PIN/stats" |
		jq "[.[0] | (.formatted // .) | .values[].value.$1] | add // 0"
}

# e2e_ctl ARGS...: relayguardctl on this test's pin dir.
e2e_ctl() {
	rg_in "$LAB_NS_GW" "$RG_CTL" --pin-dir "$PIN" "$@"
}

# e2e_ban4 ADDR: the bans4 entry of ADDR as JSON ({"expires_ns":..,
# "reason":..}); fails when there is none.
e2e_ban4() {
	local key
	key=$(echo "$1" | tr . ' ')
	# shellcheck disable=SC2086
	rg_in "$LAB_NS_GW" bpftool -j map lookup pinned "$PIN/bans4" key $key \
		2>/dev/null | jq -e '(.formatted // .).value'
}

# e2e_ban6 PREFIX64: the bans6 entry of an IPv6 /64 (e.g. fd77::), as above.
e2e_ban6() {
	local hex
	hex=$("$SYS_PY" -c 'import ipaddress,sys
a = ipaddress.IPv6Network(sys.argv[1] + "/64", strict=False).network_address
print(" ".join("%02x" % b for b in a.packed))' "$1") || return 1
	# shellcheck disable=SC2086
	rg_in "$LAB_NS_GW" bpftool -j map lookup pinned "$PIN/bans6" key hex $hex \
		2>/dev/null | jq -e '(.formatted // .).value'
}

e2e_ban4_count() {
	rg_in "$LAB_NS_GW" bpftool -j map dump pinned "$PIN/bans4" | jq length
}

# e2e_events JQ_FILTER: event log lines matching a jq select() body.
e2e_events() {
	[ -f "$E2E_EVENTS" ] || return 0
	jq -c "select($1)" "$E2E_EVENTS" 2>/dev/null
}

# e2e_has_event JQ_FILTER: fails until such a line is in the event log.
e2e_has_event() {
	[ -n "$(e2e_events "$1")" ]
}

# e2e_session NS ARGS...: tests/e2e/smtp_session.py in a lab namespace.
e2e_session() {
	local ns=$1
	shift
	ip netns exec "$ns" "$SYS_PY" "$E2E_DIR/smtp_session.py" "$@"
}

# e2e_relay_attempt [ARGS...]: the attacker asks the gateway to relay to
# an outside recipient (ARGS go to smtp_session.py, e.g. --src ADDR).
e2e_relay_attempt() {
	e2e_session "$LAB_NS_AT" "$@" --server "$LAB_GW4" \
		--rcpt victim@gmail.com >/dev/null
}

# e2e_assert_cut_in_session OUT [N]: the smtp_session.py transcript OUT
# shows the first N (default 1) RCPTs refused by Postfix and the next never
# answered, and the attacker's IPv4 address is banned for relay_attempt.
e2e_assert_cut_in_session() {
	local ban n=${2:-1} i
	for ((i = 1; i <= n; i++)); do
		assert_eq "$(grep '^RCPT' "$1" | sed -n "${i}p")" "RCPT 554" \
			"Postfix denied relay recipient $i"
	done
	assert_eq "$(grep '^RCPT' "$1" | sed -n "$((n + 1))p")" "RCPT timeout" \
		"the attacker's next command in the same session got no reply (banned in-session)"
	e2e_assert_attacker_banned 2 "relay_attempt (RG_REASON_RELAY_ATTEMPT)"
}

# e2e_relay_banned_in_session OUT: the bot asks for a foreign recipient,
# gets 554, waits 300 ms and tries the next one, gets 554 again (the second
# attempt bans): the third RCPT must never be answered. OUT keeps the
# transcript.
e2e_relay_banned_in_session() {
	e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --pause 0.3 --timeout 2 \
		--rcpt victim@gmail.com --rcpt victim2@gmail.com \
		--rcpt victim3@gmail.com >"$1"
	cat "$1"
	e2e_assert_cut_in_session "$1" 2
}

# e2e_assert_attacker_banned CODE NAME: the attacker's IPv4 address has a
# bans4 entry whose reason is CODE (the value of enum rg_reason NAME).
e2e_assert_attacker_banned() {
	local ban
	ban=$(e2e_ban4 "$LAB_AT4") || fail "no bans4 entry for $LAB_AT4: $(e2e_daemon_log)"
	assert_eq "$(jq .reason <<<"$ban")" "$1" "ban reason is $2"
}

# e2e_assert_dropped WHAT ROSE: the banned attacker cannot connect (assert
# named WHAT) and drop_ban rises (assert named ROSE).
e2e_assert_dropped() {
	local drops0
	drops0=$(e2e_stat drop_ban)
	assert_fails "$1" e2e_swaks "$LAB_NS_AT" \
		--server "$LAB_GW4" --to user@example.test --timeout 2
	assert_gt "$(e2e_stat drop_ban)" "$drops0" "$2"
}

# e2e_parallel N P FUNC: FUNC 0 .. FUNC N-1, P at a time (waited for by
# pid: a bare `wait` would also wait for the test's background helpers).
e2e_parallel() {
	local n=$1 par=$2 fn=$3 i pids=()
	for ((i = 0; i < n; i++)); do
		"$fn" "$i" &
		pids+=($!)
		if (((i + 1) % par == 0 || i + 1 == n)); then
			wait "${pids[@]}"
			pids=()
		fi
	done
}

# e2e_postconf NAME=VALUE...: postconf -e on the lab's Postfix, then a
# reload, as an operator would.
e2e_postconf() {
	ip netns exec "$LAB_NS_MTA" postconf -c "$LAB_PF_CONF" -e "$@" ||
		fail "postconf -e $* failed"
	ip netns exec "$LAB_NS_MTA" postfix -c "$LAB_PF_CONF" reload >/dev/null 2>&1 ||
		fail "postfix reload failed"
}

# e2e_swaks NS ARGS...: swaks with a short timeout, in a lab namespace.
e2e_swaks() {
	local ns=$1
	shift
	ip netns exec "$ns" swaks --timeout 3 "$@"
}

# A message from the legitimate client to a local user; fails unless the
# server queued it.
e2e_legit_delivery() {
	e2e_swaks "$LAB_NS_CL" --server "$LAB_GW4" --from client@lab.test \
		--to user@example.test --header "Subject: legit $1" \
		>"$RG_TMP/legit.out" 2>&1 &&
		grep -q 'queued as' "$RG_TMP/legit.out"
}

e2e_maildir_count() {
	find "$LAB_MAILDIR/new" -type f | wc -l
}

# e2e_maildir_ge N: at least N messages delivered (for rg_wait_for).
e2e_maildir_ge() {
	[ "$(e2e_maildir_count)" -ge "$1" ]
}

# Messages in the Postfix queue (all queues).
e2e_queue_count() {
	ip netns exec "$LAB_NS_GW" postqueue -c "$LAB_PF_CONF" -j | jq -s length
}

# e2e_slow_attacker MS: MS of delay on the attacker's link, both families,
# only inside its namespace (iptables-legacy NFQUEUE, tests/tools/nfq_delay;
# --queue-bypass: packets pass undelayed once the helper is gone).
e2e_slow_attacker() {
	local ipt queue=$((RANDOM % 1000 + 100))
	[ -x "$BUILD/tools/nfq_delay" ] || fail "$BUILD/tools/nfq_delay is missing: build first"
	for ipt in iptables-legacy ip6tables-legacy; do
		ip netns exec "$LAB_NS_AT" $ipt -A OUTPUT -p tcp --dport 25 \
			-j NFQUEUE --queue-num $queue --queue-bypass ||
			fail "cannot add the NFQUEUE rule ($ipt)"
	done
	rg_bg "$RG_TMP/nfq_delay.log" ip netns exec "$LAB_NS_AT" \
		"$BUILD/tools/nfq_delay" -q $queue -d "$1" -t 600
	rg_wait_for 10 grep -q "delay $1 ms" "$RG_TMP/nfq_delay.log" ||
		fail "nfq_delay did not start: $(cat "$RG_TMP/nfq_delay.log")"
}
