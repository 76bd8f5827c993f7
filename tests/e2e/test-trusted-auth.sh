#!/usr/bin/env bash
# Relays that Postfix may accept are never banned: one from the trusted
# network, and an authenticated session (AUTH PLAIN answered 235) from an
# address outside it. A plain relay attempt in the same run IS banned (the
# control case: the daemon was watching).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

assert_ok "trusted host relays to a foreign domain" e2e_swaks "$LAB_NS_TR" \
	--server 10.77.1.1 --from ops@example.test --to someone@elsewhere.example
assert_ok "authenticated session relays to a foreign domain" e2e_swaks "$LAB_NS_AT" \
	--server "$LAB_GW4" --from relay@example.test --to someone@elsewhere.example \
	--auth PLAIN --auth-user relay@example.test --auth-password lab-secret
# Postfix logs through postlogd: the line may come after swaks has exited.
rg_wait_for 10 grep -q 'sasl_method=PLAIN' "$LAB_MAILLOG"
assert_match "$(grep -c 'sasl_method=PLAIN' "$LAB_MAILLOG")" '^1$' \
	"Postfix logged the authenticated session"

# Control: an unauthenticated relay attempt from another address is banned.
ctl_src=$("$LAB" pool "$LAB_PREFIX" 1)
e2e_session "$LAB_NS_AT" --src "$ctl_src" --server "$LAB_GW4" \
	--rcpt victim@gmail.com >"$RG_TMP/ctl.out"
assert_ok "control: unauthenticated relay attempt from $ctl_src banned" \
	rg_wait_for 10 e2e_ban4 "$ctl_src"

assert_fails "trusted host $LAB_TR4 not banned" e2e_ban4 "$LAB_TR4"
assert_fails "authenticated client $LAB_AT4 not banned" e2e_ban4 "$LAB_AT4"
assert_eq "$(e2e_events ".source == \"$LAB_TR4\" or .source == \"$LAB_AT4\"" | wc -l)" 0 \
	"no ban, alert or finding for either in the event log"
assert_ok "the authenticated client can still connect and deliver" \
	e2e_swaks "$LAB_NS_AT" --server "$LAB_GW4" --to user@example.test
# The local delivery just made may still be in the queue for a moment;
# the two relayed messages stay there for good (nothing leaves the lab).
queue_holds() { [ "$(e2e_queue_count)" = "$1" ]; }
assert_ok "both relayed messages are parked in the queue, nothing else" \
	rg_wait_for 10 queue_holds 2
rg_done
