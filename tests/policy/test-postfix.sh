#!/usr/bin/env bash
# relayguardd as the lab Postfix's policy service (check_policy_service
# first in smtpd_relay_restrictions, default action DUNNO), with STARTTLS
# as on any gateway:
# - legitimate STARTTLS mail is delivered;
# - two relay attempts inside STARTTLS (invisible on the wire) are banned
#   in-session: the first is refused and a finding, the second is refused
#   and banned, the next command never answered; the events say via policy;
# - a plain session is decided via policy too, with the wire's samples as
#   evidence, and nothing counted twice;
# - with relayguardd stopped, mail still flows (smtpd falls back to DUNNO).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/policy.sh"
e2e_require
e2e_lab strict policy
policy_daemon enforce

n0=$(e2e_maildir_count)
assert_ok "legitimate STARTTLS mail is delivered" policy_legit_tls before

policy_session "$LAB_NS_AT" --starttls --pause 0.3 --timeout 3 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com \
	--rcpt victim3@gmail.com >"$RG_TMP/attack.out"
cat "$RG_TMP/attack.out"
assert_eq "$(grep -c '^STARTTLS 220' "$RG_TMP/attack.out")" 1 "the attacker is inside STARTTLS"
assert_eq "$(grep '^RCPT' "$RG_TMP/attack.out" | sed -n 1p)" "RCPT 554" "first relay attempt refused"
assert_eq "$(grep '^RCPT' "$RG_TMP/attack.out" | sed -n 2p)" "RCPT 554" "second relay attempt refused"
assert_match "$(grep '^RCPT' "$RG_TMP/attack.out" | sed -n 3p)" "RCPT (timeout|closed)" \
	"the next command got no reply: banned in-session"
e2e_assert_attacker_banned 2 relay_attempt
assert_ok "the first attempt is a finding via policy" rg_wait_for 2 e2e_has_event \
	".action == \"finding\" and .via == \"policy\" and .source == \"$LAB_AT4\" and .rcpt_to == \"victim@gmail.com\""
assert_ok "the ban event says via policy and names the second recipient" rg_wait_for 2 e2e_has_event \
	".action == \"ban\" and .via == \"policy\" and .source == \"$LAB_AT4\" and .reason == \"relay_attempt\" and .rcpt_to == \"victim2@gmail.com\" and (.flow | test(\"^$LAB_AT4:[0-9]+ -> $LAB_GW4:25\$\"))"
assert_eq "$(grep -c 'Relay access denied' "$LAB_MAILLOG")" 2 "Postfix logged the two refusals"
assert_eq "$(e2e_events ".source == \"$LAB_AT4\"" | wc -l)" 2 \
	"one finding and one ban: nothing counted twice"
assert_eq "$(e2e_events ".action == \"ban\" and .source == \"$LAB_AT4\" and has(\"evidence\")" | wc -l)" 0 \
	"no evidence for the STARTTLS session (the wire saw nothing of it)"

# Without TLS the policy service decides first too (at RCPT time, before
# the reply), and the wire's samples of the session are its evidence.
plain=$("$LAB" pool "$LAB_PREFIX" 1)
policy_session "$LAB_NS_AT" --src "$plain" --pause 0.3 --timeout 3 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com --rcpt victim3@gmail.com >"$RG_TMP/plain.out"
cat "$RG_TMP/plain.out"
assert_ok "a plain session's second attempt is banned via policy" rg_wait_for 3 e2e_has_event \
	".action == \"ban\" and .via == \"policy\" and .source == \"$plain\""
ev=$(e2e_events ".action == \"ban\" and .source == \"$plain\"" | jq -r '.evidence // empty')
[ -n "$ev" ] && [ -s "$ev" ] || fail "no evidence pcap for the plain session: $(e2e_events ".source == \"$plain\"")"
ok "the ban via policy keeps the wire's samples as evidence"
assert_gt "$(zcat "$ev" | tcpdump -r - -A 2>/dev/null | grep -c 'RCPT TO:<victim2@gmail.com>')" 0 \
	"the evidence holds the RCPT that banned"
assert_eq "$(e2e_events ".source == \"$plain\"" | wc -l)" 2 "one finding and one ban: the wire's view of the same RCPTs counted once"

assert_ok "legitimate STARTTLS mail is delivered while the attackers are banned" policy_legit_tls during

# relayguardd down: smtpd finds nobody on the policy socket and carries on.
kill "$E2E_DAEMON_PID"
rg_wait_for 10 sh -c "! kill -0 $E2E_DAEMON_PID" || fail "relayguardd did not stop"
ok "relayguardd stopped"
assert_ok "with relayguardd stopped, STARTTLS mail still flows" policy_legit_tls after
assert_ok "all three legitimate messages are in the maildir" \
	rg_wait_for 10 e2e_maildir_ge $((n0 + 3))
assert_fails "the client was never banned" e2e_ban4 "$LAB_CL4"
rg_done
