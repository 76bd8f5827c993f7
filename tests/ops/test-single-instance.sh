#!/usr/bin/env bash
# One daemon per pin dir: a second relayguardd on the same pin dir (even
# with a pid file of its own) exits 1 saying who runs; the lock dies with
# its holder, so a SIGKILLed daemon never blocks the restart; daemons on
# different pin dirs run side by side.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
ops_setup

second() { # PIN_DIR PID_FILE LOG: a second daemon in the foreground
	timeout 20 nsenter --net="/run/netns/$OPS_NS" "$RG_DAEMON" -f \
		-c "$OPS_CONF" --pin-dir "$1" --pid-file "$2" >"$3" 2>&1
}

ops_start
first=$OPS_DAEMON
second "$PIN" "$RG_TMP/second.pid" "$RG_TMP/second.log"
assert_eq "$?" 1 "a second daemon on the same pin dir exits 1"
assert_match "$(cat "$RG_TMP/second.log")" "relayguardd already running \(pid $first\)" \
	"it names the running daemon's pid"
kill -0 "$first" || fail "the first daemon died"
ok "the first daemon still runs"
assert_eq "$(cat "$OPS_PID")" "$first" "the first daemon's pid file is untouched"

# Another pin dir: another gateway's daemon, side by side.
PIN2="/sys/fs/bpf/${RG_PREFIX}pins2"
rg_on_exit "rm -rf '$PIN2'"
IF2="${RG_PREFIX}g1"
rg_veth "$OPS_NS" "$IF2" "$OPS_PEER_NS" "${RG_PREFIX}c1"
rg_on_exit "ip -n '$OPS_NS' link set dev '$IF2' xdp off"
sed "s/^interfaces .*/interfaces = $IF2/; s#^state_dir .*#state_dir = $RG_TMP/state2#" \
	"$OPS_CONF" >"$RG_TMP/conf2"
nsenter --net="/run/netns/$OPS_NS" "$RG_DAEMON" -f -c "$RG_TMP/conf2" \
	--pin-dir "$PIN2" --pid-file "$RG_TMP/other.pid" >"$RG_TMP/other.log" 2>&1 &
other=$!
rg_on_exit "kill $other; sleep 0.3; kill -9 $other"
rg_wait_for 10 sh -c "[ \"\$(cat '$RG_TMP/other.pid' 2>/dev/null)\" = $other ]" ||
	fail "a daemon on another pin dir did not start: $(tail -n 5 "$RG_TMP/other.log")"
ok "a daemon on another pin dir runs beside the first"
kill -TERM "$other"
wait "$other"
assert_eq "$?" 0 "it stops cleanly"

# SIGKILL leaves the pid file behind; the restart must not care.
kill -KILL "$first"
wait "$first" 2>/dev/null
[ -s "$OPS_PID" ] || fail "SIGKILL should leave the pid file behind"
ops_start
assert_ne "$OPS_DAEMON" "$first" "a restart after SIGKILL runs"
ops_stop
rg_done
