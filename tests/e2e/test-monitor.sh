#!/usr/bin/env bash
# monitor mode: the relay attempt is still decided and logged, but nothing is
# dropped: the attacker's session goes on, its next connection delivers, and
# the monitor_* counters rise instead of drop_*.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict monitor relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --pause 0.3 --timeout 2 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com >"$RG_TMP/attack.out"
cat "$RG_TMP/attack.out"
assert_eq "$(grep -c '^RCPT 554$' "$RG_TMP/attack.out")" 2 \
	"both relay recipients were answered: the session was not cut"
assert_ok "the decision is logged for $LAB_AT4" rg_wait_for 2 e2e_has_event \
	".source == \"$LAB_AT4\" and .reason == \"relay_attempt\""

assert_ok "the attacker connects again and delivers (nothing dropped)" \
	e2e_swaks "$LAB_NS_AT" --server "$LAB_GW4" --to user@example.test
assert_ok "legitimate client delivers" e2e_legit_delivery monitor
assert_gt "$(e2e_stat monitor_ban)" 0 "monitor_ban counts the would-be drops"
assert_gt "$(e2e_stat pass_monitor)" 0 "pass_monitor counts the packets passed instead"
for c in drop_ban drop_deny drop_syn_rate drop_syn_global; do
	assert_eq "$(e2e_stat $c)" 0 "$c stays 0 in monitor mode"
done
rg_done
