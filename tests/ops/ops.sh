#!/usr/bin/env bash
# Helpers for the operations tests (tests/ops/test-*.sh): a gateway
# namespace with a veth of its own, a config and state dir under the test's
# tmp dir, relayguardd started and stopped by pid, and the pinned maps read
# with bpftool (independent of relayguardctl's output). Source after
# tests/lib.sh.

ops_require() {
	rg_require_root
	rg_require_built
	rg_require_cmds bpftool jq
}

# ops_setup: namespace $OPS_NS with veth $OPS_IF (peer in a second
# namespace), pin dir $PIN, config $OPS_CONF, state dir $OPS_STATE.
ops_setup() {
	# Not $(rg_netns ...): a subshell would lose the cleanup it registers.
	rg_netns gw >/dev/null
	rg_netns cl >/dev/null
	OPS_NS="${RG_PREFIX}gw"
	OPS_PEER_NS="${RG_PREFIX}cl"
	OPS_IF="${RG_PREFIX}g0"
	rg_veth "$OPS_NS" "$OPS_IF" "$OPS_PEER_NS" "${RG_PREFIX}c0"
	ip -n "$OPS_NS" addr add 10.88.0.1/24 dev "$OPS_IF"
	ip -n "$OPS_PEER_NS" addr add 10.88.0.2/24 dev "${RG_PREFIX}c0"
	rg_pin_dir >/dev/null
	PIN=$RG_PIN_DIR
	rg_on_exit "ip -n '$OPS_NS' link set dev '$OPS_IF' xdp off"
	OPS_CONF="$RG_TMP/relayguard.conf"
	OPS_STATE="$RG_TMP/state"
	OPS_EVENTS="$RG_TMP/log/events.json"
	OPS_PID="$RG_TMP/relayguardd.pid"
	OPS_LOG="$RG_TMP/relayguardd.log"
	ops_conf ""
}

# ops_conf [KEY=VALUE...]: (re)write the config with extra keys.
ops_conf() {
	local kv
	cat >"$OPS_CONF" <<-CONF
	interfaces       = $OPS_IF
	smtp_ports       = 25
	local_domains    = example.test
	trusted_networks = 127.0.0.0/8, ::1/128
	mode             = enforce
	xdp_mode         = auto
	ban_time         = 10m
	state_dir        = $OPS_STATE
	event_log        = $OPS_EVENTS
	CONF
	for kv in "$@"; do
		[ -n "$kv" ] || continue
		sed -i "/^${kv%%=*} *=/d" "$OPS_CONF"
		echo "${kv%%=*} = ${kv#*=}" >>"$OPS_CONF"
	done
}

# ops_start [ARGS...]: start relayguardd, wait for its pid file.
ops_start() {
	rm -f "$OPS_PID"
	OPS_CUR_LOG="$OPS_LOG.$((++OPS_RUNS))"
	# nsenter execs the daemon: $! is the daemon itself (rg_bg would run
	# it under a subshell, whose pid is not the daemon's).
	nsenter --net="/run/netns/$OPS_NS" "$RG_DAEMON" -f -c "$OPS_CONF" \
		--pin-dir "$PIN" --pid-file "$OPS_PID" "$@" >"$OPS_CUR_LOG" 2>&1 &
	OPS_DAEMON=$!
	rg_on_exit "kill $OPS_DAEMON; sleep 0.3; kill -9 $OPS_DAEMON"
	rg_wait_for 10 ops_ready ||
		fail "relayguardd not ready in 10 s: $(tail -n 20 "$OPS_CUR_LOG")"
}
OPS_RUNS=0

ops_ready() {
	kill -0 "$OPS_DAEMON" 2>/dev/null &&
		[ "$(cat "$OPS_PID" 2>/dev/null)" = "$OPS_DAEMON" ]
}

# ops_stop: SIGTERM and wait for the exit; fails on a non-zero status.
ops_stop() {
	kill -TERM "$OPS_DAEMON"
	wait "$OPS_DAEMON" 2>/dev/null
	local rc=$?
	[ "$rc" = 0 ] || fail "relayguardd exited with $rc: $(tail -n 20 "$OPS_CUR_LOG")"
}

ops_ctl() {
	rg_in "$OPS_NS" "$RG_CTL" --pin-dir "$PIN" "$@"
}

# ops_bans4: "KEY EXPIRES_NS REASON OFFENCES HITS" a line, sorted, from
# bans4 through bpftool (its BTF-formatted view).
ops_bans4() {
	rg_in "$OPS_NS" bpftool -j map dump pinned "$PIN/bans4" |
		jq -r '.[].formatted | "\(.key) \(.value.expires_ns) \(.value.reason) \(.value.offences) \(.value.hits)"' |
		sort
}

# The XDP program on the gateway's veth?
ops_attached() {
	ip -n "$OPS_NS" -d link show "$OPS_IF" 2>/dev/null | grep -q 'prog/xdp'
}

# ops_lab strict|open [KEY=VALUE...]: the lab of scripts/lab.sh (Postfix in
# a gateway namespace, attacker and client namespaces) instead of
# ops_setup's bare veth, with this test's prefix, pin dir and config
# ($OPS_CONF from `lab.sh conf`, state and event log in $RG_TMP).
ops_lab() {
	local variant=$1 kv
	shift
	OPS_LAB="$RG_TOP/scripts/lab.sh"
	rg_on_exit "'$OPS_LAB' down '$RG_PREFIX'"
	"$OPS_LAB" up "$RG_PREFIX" "$variant" >"$RG_TMP/lab.out" 2>&1 ||
		fail "lab up: $(tail "$RG_TMP/lab.out")"
	# shellcheck disable=SC1090
	. "/run/relayguard-lab-$RG_PREFIX.env"
	rg_pin_dir >/dev/null
	PIN=$RG_PIN_DIR
	OPS_NS=$LAB_NS_GW
	OPS_IF=$LAB_IF_GW
	OPS_CONF="$RG_TMP/relayguard.conf"
	OPS_PID="$RG_TMP/relayguardd.pid"
	OPS_LOG="$RG_TMP/relayguardd.log"
	OPS_STATE="$RG_TMP/state"
	OPS_EVENTS="$RG_TMP/events.json"
	ops_lab_conf "$@"
}

# ops_lab_conf [KEY=VALUE...]: (re)write the lab config with extra keys.
ops_lab_conf() {
	local kv
	"$OPS_LAB" conf "$RG_PREFIX" enforce >"$OPS_CONF"
	set -- "state_dir=$OPS_STATE" "event_log=$OPS_EVENTS" "$@"
	for kv in "$@"; do
		sed -i "/^${kv%%=*} *=/d" "$OPS_CONF"
		echo "${kv%%=*} = ${kv#*=}" >>"$OPS_CONF"
	done
}

# ops_session NS ARGS...: tests/e2e/smtp_session.py (a scripted SMTP
# client that prints one line per step) in a lab namespace.
ops_session() {
	local ns=$1
	shift
	ip netns exec "$ns" /usr/bin/python3 "$RG_TOP/tests/e2e/smtp_session.py" "$@"
}
