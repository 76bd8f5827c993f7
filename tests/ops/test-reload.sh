#!/usr/bin/env bash
# Reload (SIGHUP, `relayguardctl reload`): a bad config is refused with its
# FILE:LINE and leaves everything as it was (config map, interfaces, bans,
# the daemon itself): `relayguardctl reload` runs `relayguardd
# --check-config` on the daemon's own file first and never signals it, and
# a SIGHUP sent directly is refused by the daemon (the refusal in its log);
# a good one is applied (config map, a new interface attached, a removed
# one detached) without losing a ban.
# The event log is reopened on SIGUSR1 (logrotate).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
ops_setup
IF2="${RG_PREFIX}g1"
rg_veth "$OPS_NS" "$IF2" "$OPS_PEER_NS" "${RG_PREFIX}c1"
rg_on_exit "ip -n '$OPS_NS' link set dev '$IF2' xdp off"

attached() { # IFACE
	ip -n "$OPS_NS" -d link show "$1" 2>/dev/null | grep -q 'prog/xdp'
}
dp() { # KEY: value in the config map
	ops_ctl -j config show | jq -r ".$1"
}
nbans() {
	ops_ctl -j ban list | jq length
}
reload() {
	ops_ctl --pid-file "$OPS_PID" reload >/dev/null || fail "relayguardctl reload failed"
}

ops_conf syn_rate=20
ops_start
for i in $(seq 1 50); do echo "10.9.0.$i 1h relay_attempt"; done >"$RG_TMP/bans.txt"
assert_ok "50 bans" ops_ctl ban import "$RG_TMP/bans.txt"
assert_eq "$(dp syn_rate)" 20 "syn_rate 20 in the config map"

# A bad file: the error names file and line, nothing changes.
ops_conf syn_rate=50 "interfaces=$OPS_IF $IF2"
echo "ban_time = forever-ish" >>"$OPS_CONF"
bad_line=$(grep -n '^ban_time = forever' "$OPS_CONF" | cut -d: -f1)
out=$(ops_ctl --pid-file "$OPS_PID" reload 2>&1) && fail "relayguardctl reload took a bad file: $out"
assert_match "$out" "reload refused.*relayguard.conf:$bad_line: " \
	"relayguardctl reload refuses with the check's FILE:LINE"
out=$(ops_ctl -j --pid-file "$OPS_PID" reload 2>&1) && fail "reload -j took a bad file"
assert_match "$(echo "$out" | jq -r .error)" "relayguard.conf:$bad_line:" "JSON error names FILE:LINE"
# Signalled directly, the daemon refuses it itself.
kill -HUP "$OPS_DAEMON"
rg_wait_for 5 grep -q "reload refused" "$OPS_CUR_LOG" || fail "no refusal in the log"
assert_match "$(grep 'reload refused' "$OPS_CUR_LOG")" "relayguard.conf:$bad_line:" \
	"the daemon's refusal names FILE:LINE"
assert_eq "$(dp syn_rate)" 20 "config map untouched after a bad reload"
attached "$IF2" && fail "$IF2 attached by a refused config"
ok "no new interface from a refused config"
assert_eq "$(nbans)" 50 "no ban lost"
kill -0 "$OPS_DAEMON" || fail "daemon died on a bad config"
ok "daemon still running"

# The good one: applied.
ops_conf syn_rate=50 mode=monitor "interfaces=$OPS_IF $IF2"
reload
rg_wait_for 5 attached "$IF2" || fail "$IF2 not attached after reload: $(tail -n 5 "$OPS_CUR_LOG")"
ok "new interface attached on reload"
# Only now is every SIGHUP sent before this reload handled: one refusal,
# the direct SIGHUP's, none from the two refused relayguardctl reloads.
assert_eq "$(grep -c 'reload refused' "$OPS_CUR_LOG")" 1 \
	"relayguardctl reload did not signal the daemon with a bad file"
assert_eq "$(dp syn_rate)" 50 "syn_rate 50 after reload"
assert_eq "$(dp mode)" monitor "mode monitor after reload"
assert_eq "$(nbans)" 50 "bans kept across the reload"
ops_conf syn_rate=50
reload
rg_wait_for 5 sh -c "! ip -n '$OPS_NS' -d link show '$IF2' | grep -q prog/xdp" ||
	fail "$IF2 still attached after it left the config"
ok "removed interface detached"
attached "$OPS_IF" || fail "$OPS_IF lost its program"
ok "$OPS_IF still attached"

# logrotate: move the log away, SIGUSR1, the next event goes to a new file.
assert_ok "a 1 s ban" ops_ctl ban add 10.9.1.1 for 1s reason manual
rg_wait_for 10 grep -q '"unban"' "$OPS_EVENTS" || fail "no unban event"
ok "unban event in the log"
mv "$OPS_EVENTS" "$OPS_EVENTS.1"
kill -USR1 "$OPS_DAEMON"
rg_wait_for 5 grep -q "event log reopened" "$OPS_CUR_LOG" || fail "no reopen"
assert_ok "another 1 s ban" ops_ctl ban add 10.9.1.2 for 1s reason manual
rg_wait_for 10 grep -q '10.9.1.2' "$OPS_EVENTS" || fail "no event in the reopened log"
ok "events go to the new file after SIGUSR1"
grep -q '10.9.1.2' "$OPS_EVENTS.1" && fail "event went to the rotated file"
ok "rotated file left alone"
jq -e 'select(.action == "unban") | .time and .source and .reason' "$OPS_EVENTS" >/dev/null ||
	fail "unban line lacks time/source/reason"
ok "unban line is JSON with time, source, reason"
ops_stop
rg_done
