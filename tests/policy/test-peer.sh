#!/usr/bin/env bash
# The policy service answers only Postfix: root and policy_allowed_users
# (default postfix). A process of `nobody` on the gateway asks twice about
# a client relaying, over inet (peer uid by sock_diag: loopback v4 and v6,
# and the gateway's own address in trusted_networks) and over a unix
# socket (SO_PEERCRED): its connection is closed without an answer, the
# address is not banned, the refusal is counted (policy_refused_user_total)
# and logged. The same requests from `postfix` are answered and ban.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/policy.sh"
e2e_require
rg_require_cmds setpriv
id postfix >/dev/null 2>&1 || fail "no postfix user: make deps"
M="$RG_TMP/relayguard.prom"
SOCK_DIR=$(mktemp -d "/run/${RG_PREFIX}policy.XXXX")
rg_on_exit "rm -rf '$SOCK_DIR'"
chmod 0755 "$SOCK_DIR"

e2e_lab none
# shellcheck disable=SC2034 # read by e2e_daemon
E2E_DAEMON_ARGS=(--metrics-file "$M")
policy_daemon enforce policy_service=inet:127.0.0.1:10040 metrics_interval=1s

# ask USER SPEC ADDR: tests/policy/ask_twice.py as USER in the gateway's
# namespace (ASK_NS: another; the script on stdin: USER need not read the
# worktree).
ask() {
	nsenter --net="/run/netns/${ASK_NS:-$LAB_NS_GW}" setpriv --reuid="$1" \
		--regid="$(id -g "$1")" --clear-groups "$SYS_PY" - "$2" "$3" \
		<"$(dirname "$0")/ask_twice.py" 2>&1
}

metric() { rg_metric "$M" "$1"; }

# metric_is NAME N: the metrics file says N.
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

not_banned() { ! e2e_ban4 "$1" >/dev/null; }

# check SPEC PEER VICTIM1 VICTIM2: nobody is refused (the service's first
# refusal: moving it starts its counters anew), postfix bans.
check() {
	local spec=$1 peer=$2 v1=$3 v2=$4 n=1 out
	out=$(ask nobody "$spec" "$v1")
	assert_eq "$out" "closed" "$spec: nobody gets no answer"
	assert_ok "$spec: nobody's refusal counted ($n)" rg_wait_for 10 \
		metric_is relayguard_policy_refused_user_total "$n"
	assert_ok "$spec: nobody's requests banned nobody" not_banned "$v1"
	assert_eq "$(e2e_events ".source == \"$v1\"" | wc -l)" 0 \
		"$spec: nobody's requests reached no policy (no event)"
	assert_eq "$(grep -c "refused a connection from $peer: uid $(id -u nobody) is neither root" \
		"$E2E_DAEMON_LOG")" "$n" "$spec: one log line for the refusal"

	out=$(ask postfix "$spec" "$v2")
	assert_match "$out" "REJECT" "$spec: postfix is answered REJECT"
	assert_ok "$spec: postfix's requests ban" rg_wait_for 5 e2e_ban4 "$v2"
	# a file written after both were answered (nobody's were not)
	assert_ok "$spec: postfix's requests counted" rg_wait_for 10 \
		metric_is relayguard_policy_requests_total 2
	assert_eq "$(metric relayguard_policy_refused_user_total)" "$n" \
		"$spec: postfix not counted as refused"
}

check inet:127.0.0.1:10040 127.0.0.1 10.77.0.91 10.77.0.92

# IPv6 loopback (sock_diag for AF_INET6).
sed -i "s|^policy_service = .*|policy_service = inet:[::1]:10041|" "$E2E_CONF"
kill -HUP "$E2E_DAEMON_PID"
assert_ok "the service listens on [::1]" rg_wait_for 10 \
	grep -q "policy service listening on inet:\[::1\]:10041" "$E2E_DAEMON_LOG"
check "inet:[::1]:10041" ::1 10.77.0.96 10.77.0.97

# The gateway's own address in trusted_networks (10.77.1.1): a local peer
# all the same, judged by its uid, not let in by its address.
sed -i "s|^policy_service = .*|policy_service = inet:10.77.1.1:10042|" "$E2E_CONF"
kill -HUP "$E2E_DAEMON_PID"
assert_ok "the service listens on 10.77.1.1" rg_wait_for 10 \
	grep -q "policy service listening on inet:10.77.1.1:10042" "$E2E_DAEMON_LOG"
check inet:10.77.1.1:10042 10.77.1.1 10.77.0.81 10.77.0.82
# A Postfix on another host of trusted_networks has no uid to check: it
# is answered by its address, whoever runs it there.
out=$(ASK_NS=$LAB_NS_TR ask nobody inet:10.77.1.1:10042 10.77.0.83)
assert_match "$out" "REJECT" "a remote peer in trusted_networks ($LAB_TR4) is answered"
assert_ok "the remote peer's requests ban" rg_wait_for 5 e2e_ban4 10.77.0.83

# The same over a unix socket (SIGHUP moves the service).
sed -i "s|^policy_service = .*|policy_service = unix:$SOCK_DIR/policy|" "$E2E_CONF"
kill -HUP "$E2E_DAEMON_PID"
assert_ok "the service listens on the unix socket" rg_wait_for 10 \
	grep -q "policy service listening on unix:$SOCK_DIR/policy" "$E2E_DAEMON_LOG"
check "unix:$SOCK_DIR/policy" "unix socket" 10.77.0.93 10.77.0.94

# Root is always answered.
assert_match "$(ask root "unix:$SOCK_DIR/policy" 10.77.0.95)" "REJECT" "root is answered"
assert_ok "the daemon is alive" kill -0 "$E2E_DAEMON_PID"
rg_done
