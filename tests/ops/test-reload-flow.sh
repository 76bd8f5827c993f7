#!/usr/bin/env bash
# A reload in the middle of an SMTP session keeps the session's flow (its
# verified handshake and dialogue state) and applies the new policy: the
# attacker's relay attempt after the SIGHUP is banned in-session, with the
# reloaded ban_time.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
command -v postfix >/dev/null || fail "postfix is not installed: make deps"
ops_lab strict ban_time=10m relay_attempts_ban=1 # one attempt bans: about reload
ops_start
rg_wait_for 5 ops_attached || fail "not attached"

# A local recipient first (accepted, no relay), then the session holds
# until $RG_TMP/go exists, then foreign ones 3 s apart (the ban lands
# between them): the reload happens during the hold, however long it takes.
ops_session "$LAB_NS_AT" --server "$LAB_GW4" --pause 3 --timeout 2 \
	--rcpt user@example.test --hold "$RG_TMP/go" --rcpt victim@gmail.com \
	--rcpt victim2@gmail.com >"$RG_TMP/attack.out" &
session=$!
rg_on_exit "touch '$RG_TMP/go'; kill $session"
rg_wait_for 20 grep -q '^hold' "$RG_TMP/attack.out" || fail "session did not start: $(cat "$RG_TMP/attack.out")"
ops_lab_conf ban_time=20m relay_attempts_ban=1
ops_ctl --pid-file "$OPS_PID" reload >/dev/null || fail "reload"
rg_wait_for 10 grep -q "reloaded" "$OPS_CUR_LOG" || fail "no reload in the log"
ok "reloaded while the session was open"
touch "$RG_TMP/go"
wait $session
cat "$RG_TMP/attack.out"
rcpt() { grep '^RCPT' "$RG_TMP/attack.out" | sed -n "$1p"; }
assert_eq "$(rcpt 1)" "RCPT 250" "Postfix accepted the local recipient"
assert_eq "$(rcpt 2)" "RCPT 554" "Postfix denied the relay recipient"
assert_eq "$(rcpt 3)" "RCPT timeout" \
	"banned inside the session that straddled the reload"
rg_wait_for 10 grep -q '"action":"ban"' "$OPS_EVENTS" || fail "no ban event"
ban=$(grep '"action":"ban"' "$OPS_EVENTS" | head -n 1)
assert_eq "$(jq -r .source <<<"$ban")" "$LAB_AT4" "the attacker was banned"
assert_eq "$(jq -r .duration <<<"$ban")" 1200 "with the reloaded ban_time (20m)"
ops_stop
rg_done
