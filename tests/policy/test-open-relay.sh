#!/usr/bin/env bash
# A Postfix misconfigured as an open relay, relayguardd as its policy
# service: 50 relay attempts, each from a fresh address, half inside
# STARTTLS (invisible on the wire), half pipelined bursts without TLS (MAIL,
# RCPT, DATA and the body in one write, faster than any wire-level cut-off).
# Every relay RCPT is refused by the policy service: nothing is queued. Each
# attempt is one relay_attempt event (the wire and the policy socket saw
# the same RCPT of the plain ones: counted once). Control: with relayguardd
# stopped, the same burst is queued by the open relay.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/policy.sh"
e2e_require
ATTEMPTS=${ATTEMPTS:-50}
PARALLEL=10
e2e_lab open policy
policy_daemon enforce

mapfile -t srcs < <("$LAB" pool "$LAB_PREFIX" "$ATTEMPTS")
attempt() { # INDEX (from srcs[INDEX]): odd inside STARTTLS, even a burst
	local how=--pipeline
	(($1 % 2)) && how="--starttls --data"
	# shellcheck disable=SC2086
	policy_session "$LAB_NS_AT" --src "${srcs[$1]}" $how \
		--rcpt "victim$1@gmail.com" --timeout 5 >"$RG_TMP/attempt.$1" 2>&1
}
e2e_parallel "$ATTEMPTS" "$PARALLEL" attempt

tls=$(grep -l '^STARTTLS 220' "$RG_TMP"/attempt.* | wc -l)
refused=$(cat "$RG_TMP"/attempt.* | grep -c '^RCPT 554')
echo "# $ATTEMPTS attempts ($tls inside STARTTLS): $refused relay recipients refused"
assert_eq "$tls" $((ATTEMPTS / 2)) "half of the attempts were inside STARTTLS"
assert_eq "$refused" "$ATTEMPTS" "every relay recipient was refused by the policy service"
assert_eq "$(cat "$RG_TMP"/attempt.* | grep -cE '^EOM 250')" 0 "no message was accepted"
assert_eq "$(e2e_queue_count)" 0 "postqueue: the queue is empty"
assert_eq "$(grep -cE 'postfix/(cleanup|qmgr).*(message-id|from=)' "$LAB_MAILLOG")" 0 \
	"maillog: no message reached cleanup or the queue manager"
# Each attempt is graded once: a relay_attempt the policy service saw at
# RCPT time, or, for a burst whose body came before the 354, the wire's
# unauth_pipelining ban (the banned client's RCPT then gets REJECT at once).
graded() { # the sources with a relay_attempt or unauth_pipelining event
	jq -r 'select(.reason == "relay_attempt" or .reason == "unauth_pipelining") | .source' \
		"$E2E_EVENTS" | sort -u | wc -l
}
all_graded() { [ "$(graded)" -ge "$ATTEMPTS" ]; }
assert_ok "every attempt was graded" rg_wait_for 10 all_graded
assert_eq "$(graded)" "$ATTEMPTS" "each attempt's source graded"
assert_eq "$(e2e_events '.reason == "relay_attempt"' | jq -r .source | sort | uniq -d | wc -l)" 0 \
	"no attempt counted twice (the wire and the policy socket)"
assert_eq "$(e2e_events '.reason == "relay_attempt" and .via != "policy"' | wc -l)" 0 \
	"the policy service saw each relay_attempt first (at RCPT time, before the reply)"
assert_gt "$(e2e_events '.reason == "relay_attempt" and .via == "policy"' | wc -l)" $((ATTEMPTS / 2 - 1)) \
	"every attempt inside STARTTLS was seen by the policy service"

# Control: relayguardd stopped, smtpd carries on (DUNNO) and the open relay
# takes the same burst.
kill "$E2E_DAEMON_PID"
rg_wait_for 10 sh -c "! kill -0 $E2E_DAEMON_PID" || fail "relayguardd did not stop"
policy_session "$LAB_NS_AT" --pipeline --rcpt control@gmail.com --timeout 15 >"$RG_TMP/control.out"
cat "$RG_TMP/control.out"
assert_match "$(cat "$RG_TMP/control.out")" 'EOM 250' "without relayguardd the open relay took the burst"
assert_ok "and queued it" rg_wait_for 5 sh -c "[ \$(ip netns exec $LAB_NS_GW postqueue -c $LAB_PF_CONF -j | jq -s length) -ge 1 ]"
rg_done
