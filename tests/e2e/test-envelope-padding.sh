#!/usr/bin/env bash
# A bot that pads its own envelope past the sampling budget (nine 500-byte
# NOOPs, 4.5 KB against sample_bytes 4096) so that its RCPT would go
# unsampled is banned for envelope_padding as the budget runs out: its
# relay attempt never reaches Postfix. The legitimate client delivers.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce

e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --noop 9 --timeout 2 \
	--rcpt victim@gmail.com >"$RG_TMP/attack.out"
cat "$RG_TMP/attack.out"
assert_gt "$(grep -c '^NOOP 250$' "$RG_TMP/attack.out")" 4 "Postfix answered the first NOOPs"
assert_match "$(tail -n 1 "$RG_TMP/attack.out")" 'timeout$' \
	"the session was cut off (its last command got no reply)"
e2e_assert_attacker_banned 12 "envelope_padding (RG_REASON_ENVELOPE_PADDING)"
assert_ok "the ban event names envelope_padding" rg_wait_for 2 e2e_has_event \
	".action == \"ban\" and .source == \"$LAB_AT4\" and .reason == \"envelope_padding\""
assert_eq "$(grep -c "RCPT from unknown\[$LAB_AT4\]" "$LAB_MAILLOG")" 0 \
	"the relay attempt never reached Postfix"
assert_ok "the legitimate client still delivers" e2e_legit_delivery after
assert_fails "the client was never banned" e2e_ban4 "$LAB_CL4"
rg_done
