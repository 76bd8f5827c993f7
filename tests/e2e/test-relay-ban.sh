#!/usr/bin/env bash
# Two relay attempts from the attacker (relay_attempts_ban = 2, the
# default) ban it inside its own session, its
# next SYN is dropped at XDP (drop_ban rises, the connection times out), and
# the legitimate client delivers before, during and after.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce

n0=$(e2e_maildir_count)
assert_ok "legitimate client delivers before any attack" e2e_legit_delivery before

e2e_relay_banned_in_session "$RG_TMP/attack.out"
assert_ok "the first attempt is a finding" rg_wait_for 10 e2e_has_event \
	".action == \"finding\" and .source == \"$LAB_AT4\" and .reason == \"relay_attempt\" and .rcpt_to == \"victim@gmail.com\""
assert_ok "event log has the ban with its evidence" rg_wait_for 10 e2e_has_event \
	".action == \"ban\" and .source == \"$LAB_AT4\" and .reason == \"relay_attempt\" and .rcpt_to == \"victim2@gmail.com\""
grep -h '"action":"ban"' "$E2E_EVENTS" | head -n 1

assert_ok "legitimate client delivers while the attacker is banned" e2e_legit_delivery during

drops0=$(e2e_stat drop_ban)
if e2e_swaks "$LAB_NS_AT" --server "$LAB_GW4" --to user@example.test \
	>"$RG_TMP/again.out" 2>&1; then
	fail "banned attacker delivered: $(cat "$RG_TMP/again.out")"
fi
assert_match "$(cat "$RG_TMP/again.out")" 'timeout|timed out' \
	"the attacker's next connection times out"
assert_gt "$(e2e_stat drop_ban)" "$drops0" "drop_ban rose while it retried"
assert_eq "$(grep -c ": connect from unknown\[$LAB_AT4\]" "$LAB_MAILLOG")" 1 \
	"Postfix never saw the attacker's second connection"

assert_ok "legitimate client delivers after" e2e_legit_delivery after
assert_ok "all three legitimate messages are in the maildir" \
	rg_wait_for 5 e2e_maildir_ge $((n0 + 3))
assert_fails "the client was never banned" e2e_ban4 "$LAB_CL4"
rg_done
