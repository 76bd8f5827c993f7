#!/usr/bin/env bash
# A bot that makes the server talk past sample_bytes before its relay
# attempt (40 EHLOs: ~7 KB of replies against sample_bytes 4096) hides
# nothing: server replies are sampled throughout (no budget on egress since
# issue 12), so the reply to its RCPT is seen and the bot is banned inside
# its session on Postfix's refusal.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --ehlo 40 --pause 0.3 \
	--timeout 2 --rcpt victim@gmail.com --rcpt victim2@gmail.com \
	>"$RG_TMP/attack.out"
grep -v '^EHLO 250$' "$RG_TMP/attack.out"
assert_eq "$(grep -c '^EHLO 250$' "$RG_TMP/attack.out")" 40 "Postfix answered 40 EHLOs"
assert_gt "$(e2e_stat egress_sample_bytes)" 4096 "the server's replies were sampled past sample_bytes"
assert_eq "$(e2e_stat egress_budget_done)" 0 "no server reply went unsampled"
e2e_assert_cut_in_session "$RG_TMP/attack.out"
assert_ok "the ban event carries Postfix's refusal" rg_wait_for 10 e2e_has_event \
	".action == \"ban\" and .source == \"$LAB_AT4\" and (.reply // \"\" | startswith(\"554\"))"
grep -h '"action":"ban"' "$E2E_EVENTS" | head -n 1
assert_ok "the legitimate client still delivers" e2e_legit_delivery after
assert_fails "the client was never banned" e2e_ban4 "$LAB_CL4"
rg_done
