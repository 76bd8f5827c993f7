#!/usr/bin/env bash
# An IPv6 attacker's relay attempt bans its /64: another address of that /64
# is dropped too, an address of another /64 is not banned and delivers.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require
e2e_lab strict
ip -n "$LAB_NS_AT" addr add fd77::67/48 dev "${LAB_PREFIX}at0" nodad
e2e_daemon enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

e2e_session "$LAB_NS_AT" --src "$LAB_AT6" --server "$LAB_GW6" --pause 0.3 \
	--timeout 2 --rcpt victim@gmail.com --rcpt victim2@gmail.com >"$RG_TMP/attack.out"
cat "$RG_TMP/attack.out"
assert_match "$(sed -n 5p "$RG_TMP/attack.out")" '^RCPT 554$' "Postfix denied the relay over IPv6"
assert_eq "$(sed -n 6p "$RG_TMP/attack.out")" "RCPT timeout" "cut off inside the session"
ban=$(e2e_ban6 fd77::) || fail "no bans6 entry for fd77::/64: $(e2e_daemon_log)"
assert_eq "$(jq .reason <<<"$ban")" 2 "fd77::/64 banned for relay_attempt"
assert_ok "event log names the IPv6 source" rg_wait_for 2 e2e_has_event \
	'.action == "ban" and (.source | startswith("fd77::"))'

drops0=$(e2e_stat drop_ban)
assert_fails "fd77::67 (same /64) cannot connect" e2e_swaks "$LAB_NS_AT" \
	-li fd77::67 --server "$LAB_GW6" --to user@example.test
assert_gt "$(e2e_stat drop_ban)" "$drops0" "drop_ban rose"

assert_fails "fd77:0:0:1::/64 is not banned" e2e_ban6 "$LAB_AT6B"
assert_ok "$LAB_AT6B (another /64) delivers" e2e_swaks "$LAB_NS_AT" \
	-li "$LAB_AT6B" --server "$LAB_GW6" --to user@example.test
assert_ok "legitimate client delivers over IPv6" e2e_swaks "$LAB_NS_CL" \
	--server "$LAB_GW6" --to user@example.test
assert_fails "the IPv4 address of the attacker host is not banned by it" e2e_ban4 "$LAB_AT4"
rg_done
