#!/usr/bin/env bash
# The daemon's promptness comes from the product: `scheduling` (default
# fifo:10) raises its own priority, bounded: SCHED_RESET_ON_FORK (children
# run at normal priority), RLIMIT_RTTIME set, and SIGXCPU (a second on the
# CPU without sleeping) drops it to normal priority for a while. nice:N
# and none work too; reload applies a change; a bad value is refused with
# FILE:LINE, at start and on reload.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
rg_require_cmds chrt
ops_setup

policy() { chrt -p "$OPS_DAEMON" | sed -n 's/.*scheduling policy: //p'; }
prio() { chrt -p "$OPS_DAEMON" | sed -n 's/.*scheduling priority: //p'; }
nice_of() { ps -o ni= -p "$OPS_DAEMON" | tr -d ' '; }
rttime_soft() { awk '/^Max realtime timeout/ {print $4}' "/proc/$OPS_DAEMON/limits"; }
reload() { ops_ctl --pid-file "$OPS_PID" reload >/dev/null || fail "reload failed"; }
is_policy() { [ "$(policy)" = "$1" ]; }

# The default.
ops_start
assert_eq "$(policy)" "SCHED_FIFO|SCHED_RESET_ON_FORK" "default: SCHED_FIFO, reset on fork"
assert_eq "$(prio)" 10 "default: priority 10"
assert_eq "$(rttime_soft)" 1000000 "RLIMIT_RTTIME soft limit 1 s"

# The safety net: SIGXCPU (what RLIMIT_RTTIME sends) drops the priority,
# which comes back after a rest.
kill -XCPU "$OPS_DAEMON"
rg_wait_for 10 is_policy "SCHED_OTHER|SCHED_RESET_ON_FORK" || fail "still $(policy) after SIGXCPU"
ok "SIGXCPU: back to SCHED_OTHER"
kill -0 "$OPS_DAEMON" || fail "SIGXCPU killed the daemon"
rg_wait_for 5 grep -q "real-time priority dropped" "$OPS_CUR_LOG" || fail "no log line for the drop"
ok "the drop is logged"
rg_wait_for 40 is_policy "SCHED_FIFO|SCHED_RESET_ON_FORK" || fail "priority not restored: $(policy)"
ok "priority restored after the rest"

# Reload to nice:-5, then none.
ops_conf scheduling=nice:-5
reload
rg_wait_for 10 is_policy "SCHED_OTHER|SCHED_RESET_ON_FORK" || fail "still $(policy) after reload to nice:-5"
ok "reload to nice:-5: SCHED_OTHER"
assert_eq "$(nice_of)" -5 "nice -5"
ops_conf scheduling=none
reload
rg_wait_for 10 sh -c "[ \"\$(ps -o ni= -p $OPS_DAEMON | tr -d ' ')\" = 0 ]" || fail "nice $(nice_of) after reload to none"
ok "reload to none: nice 0"
assert_eq "$(policy)" "SCHED_OTHER|SCHED_RESET_ON_FORK" "none: SCHED_OTHER"

# A bad value on reload: refused with FILE:LINE, nothing changes.
ops_conf scheduling=fifo:99
line=$(grep -n '^scheduling' "$OPS_CONF" | cut -d: -f1)
# (relayguardctl reload would refuse it before signalling: test-reload.sh)
kill -HUP "$OPS_DAEMON"
rg_wait_for 5 grep -q "reload refused" "$OPS_CUR_LOG" || fail "bad value not refused on reload"
assert_match "$(grep 'reload refused' "$OPS_CUR_LOG")" "relayguard.conf:$line: .*scheduling" \
	"reload refusal names FILE:LINE"
assert_eq "$(policy)" "SCHED_OTHER|SCHED_RESET_ON_FORK" "a refused value changes nothing"
ops_stop

# Bad values at start: exit 1 with FILE:LINE.
for bad in fifo:0 fifo:50 fifo rr:5 nice:-21 nice:20 nice:x fifo:10x; do
	ops_conf "scheduling=$bad"
	line=$(grep -n '^scheduling' "$OPS_CONF" | cut -d: -f1)
	out=$(timeout 20 "$RG_DAEMON" -f -c "$OPS_CONF" --pin-dir "$PIN" \
		--pid-file "$OPS_PID" 2>&1)
	rc=$?
	assert_eq "$rc" 1 "scheduling = $bad: exit 1"
	assert_match "$out" "relayguard.conf:$line: .*scheduling" "scheduling = $bad: FILE:LINE"
done

# nice at start.
ops_conf scheduling=nice:-3
ops_start
assert_eq "$(policy)" "SCHED_OTHER|SCHED_RESET_ON_FORK" "nice:-3: SCHED_OTHER"
assert_eq "$(nice_of)" -3 "nice:-3: nice -3"
ops_stop
rg_done
