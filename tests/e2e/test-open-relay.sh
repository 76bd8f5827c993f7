#!/usr/bin/env bash
# The gateway's Postfix is misconfigured as an open relay and the attacker is
# 20 ms away (NFQUEUE delay, tests/tools/nfq_delay). Over 50 relay attempts,
# each from a fresh address, Postfix accepts the foreign recipient, relayguard
# sees that 250 leave the gateway and cuts the client off before its message
# arrives: nothing is queued, a critical alert is logged. Control case: the
# same attempt with relayguard in monitor mode IS queued.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require
ATTEMPTS=${ATTEMPTS:-50}
PARALLEL=10
e2e_lab open
e2e_daemon enforce

# 20 ms on the attacker's link, only inside its namespace.
e2e_slow_attacker 20
t0=$(date +%s%N)
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --rcpt user@example.test >/dev/null
rtt_ms=$((($(date +%s%N) - t0) / 1000000))
echo "# a 5-round-trip local session takes $rtt_ms ms with the delay"
assert_gt "$rtt_ms" 99 "the attacker's link is slow (>= 5 x 20 ms)"

# Each attempt: EHLO, MAIL, RCPT to a foreign domain, DATA, message. Half
# step by step, half pipelined by swaks. 5 s per reply: an attempt that
# timed out before its RCPT (an smtpd started on demand on a loaded machine)
# would leave its source unbanned; a cut session waits that long for a
# reply that never comes, a served one gets its 250 within it.
mapfile -t srcs < <("$LAB" pool "$LAB_PREFIX" "$ATTEMPTS")
attempt() { # INDEX (from srcs[INDEX])
	if (($1 % 2)); then
		e2e_session "$LAB_NS_AT" --src "${srcs[$1]}" --server "$LAB_GW4" \
			--rcpt "victim$1@gmail.com" --data --timeout 5
	else
		e2e_swaks "$LAB_NS_AT" --pipeline -li "${srcs[$1]}" --server "$LAB_GW4" \
			--to "victim$1@gmail.com" --timeout 5
	fi >"$RG_TMP/attempt.$1" 2>&1
}
e2e_parallel "$ATTEMPTS" "$PARALLEL" attempt

accepted=$(cat "$RG_TMP"/attempt.* | grep -cE '^RCPT 250|<-  250 2.1.5 Ok$')
queued_replies=$(cat "$RG_TMP"/attempt.* | grep -cE '^EOM 250|queued as')
echo "# $ATTEMPTS attempts: open relay accepted $accepted recipients, $queued_replies messages queued"
assert_gt "$accepted" $((ATTEMPTS / 2)) "the open relay accepted the foreign recipients (test is meaningful)"
assert_eq "$queued_replies" 0 "no attempt got its message accepted"
assert_eq "$(e2e_queue_count)" 0 "postqueue: the queue is empty"
assert_eq "$(grep -cE 'postfix/(cleanup|qmgr).*(message-id|from=)' "$LAB_MAILLOG")" 0 \
	"maillog: no message reached cleanup or the queue manager"
banned=0
for s in "${srcs[@]}"; do e2e_ban4 "$s" >/dev/null && banned=$((banned + 1)); done
assert_eq "$banned" "$ATTEMPTS" "every attempting address is banned"
assert_ok "a critical alert (relay accepted) is logged" rg_wait_for 10 e2e_has_event \
	'.action == "alert" and .reason == "relay_accepted"'
echo "# alerts: $(e2e_events '.action == "alert"' | wc -l)"

# Control: the same attempt with relayguard in monitor mode is queued.
kill "$E2E_DAEMON_PID"
rg_wait_for 5 sh -c "! kill -0 $E2E_DAEMON_PID" || fail "relayguardd did not stop on SIGTERM"
e2e_daemon monitor
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --rcpt control@gmail.com --data \
	--timeout 5 >"$RG_TMP/control.out"
cat "$RG_TMP/control.out"
assert_match "$(cat "$RG_TMP/control.out")" 'EOM 250' "monitor mode: the open relay took the message"
assert_ok "monitor mode: the message is in the queue" rg_wait_for 10 \
	sh -c "ip netns exec $LAB_NS_GW postqueue -c $LAB_PF_CONF -p | grep -q control@gmail.com"
rg_done
