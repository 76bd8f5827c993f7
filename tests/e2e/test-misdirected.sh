#!/usr/bin/env bash
# A legitimate MTA delivering one message to a domain whose MX wrongly
# points at the gateway: one foreign RCPT, refused with 554, then QUIT. Under
# the default relay_attempts_ban = 2 it is a finding and no ban; a second
# such delivery within score_window is banned.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce

e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --sender list@lists.good.example \
	--rcpt someone@elsewhere.example >"$RG_TMP/first.out"
cat "$RG_TMP/first.out"
assert_eq "$(grep '^RCPT' "$RG_TMP/first.out")" "RCPT 554" "Postfix refused the misdirected recipient"
assert_eq "$(grep '^QUIT' "$RG_TMP/first.out")" "QUIT 221" "the session ended normally (QUIT answered)"
assert_ok "the misdirected delivery is a relay_attempt finding" rg_wait_for 3 e2e_has_event \
	".action == \"finding\" and .source == \"$LAB_AT4\" and .reason == \"relay_attempt\""
assert_fails "one misdirected delivery is not banned" e2e_ban4 "$LAB_AT4"
assert_eq "$(e2e_events '.action == "ban"' | wc -l)" 0 "no ban event"

# The same again, in a new session within score_window: banned on its
# refused RCPT. (Whether its QUIT, sent at once, is still answered is a
# race this test does not run: the in-session cut is test-relay-ban's.)
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --sender list@lists.good.example \
	--rcpt someone2@elsewhere.example --timeout 2 >"$RG_TMP/second.out"
cat "$RG_TMP/second.out"
assert_eq "$(grep '^RCPT' "$RG_TMP/second.out")" "RCPT 554" "Postfix refused the second one too"
assert_ok "the second attempt is banned" rg_wait_for 10 e2e_ban4 "$LAB_AT4"
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --rcpt x@example.test --timeout 2 \
	>"$RG_TMP/third.out"
assert_eq "$(head -n 1 "$RG_TMP/third.out")" "connect timeout" "its next connection dies at XDP"
ban=$(e2e_ban4 "$LAB_AT4") || fail "no bans4 entry for $LAB_AT4 after the second attempt"
assert_eq "$(jq .reason <<<"$ban")" 2 "ban reason is relay_attempt"
assert_ok "the ban event names the second recipient" rg_wait_for 10 e2e_has_event \
	".action == \"ban\" and .source == \"$LAB_AT4\" and .rcpt_to == \"someone2@elsewhere.example\""
rg_done
