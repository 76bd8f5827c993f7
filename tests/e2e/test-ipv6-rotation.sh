#!/usr/bin/env bash
# An IPv6 attacker rotating /64s of its own /48 (fd78:1:2::/48, added
# here: the lab's hosts all share fd77::/48): three /64s banned for relay
# attempts ban the /48 (ipv6_rotation, one entry, listed as the /48); the
# fourth /64 is dropped at its first SYN by that entry, with no ban of its
# own; the legitimate client, in another /48, delivers over IPv6.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require
e2e_lab strict
AT_IF="${LAB_PREFIX}at0"
NET=fd78:1:2
for n in 1 2 3 4; do
	ip -n "$LAB_NS_AT" addr add "$NET:$n::66/64" dev "$AT_IF" nodad
done
ip -n "$LAB_NS_GW" -6 route add "$NET::/48" dev "$LAB_IF_GW"
# one attempt bans: this test is about the /48, not misdirected mail
e2e_daemon enforce relay_attempts_ban=1

attempt() { # N: a relay attempt from the N-th /64
	e2e_session "$LAB_NS_AT" --src "$NET:$1::66" --server "$LAB_GW6" \
		--pause 0.3 --timeout 2 --rcpt "victim$1@gmail.com" >"$RG_TMP/attack$1.out"
}

# wide_ban: the bans6 entry of the /48 as `ban list` shows it.
wide_ban() {
	e2e_ctl -j ban list | jq -e -c ".[] | select(.source == \"$NET::/48\")"
}

for n in 1 2 3; do
	attempt "$n"
	assert_eq "$(grep '^RCPT' "$RG_TMP/attack$n.out" | sed -n 1p)" "RCPT 554" \
		"/64 number $n: Postfix denied the relay"
	assert_ok "/64 number $n banned" rg_wait_for 5 e2e_ban6 "$NET:$n::"
	if [ "$n" -lt 3 ]; then
		assert_fails "no /48 ban after $n /64s" wide_ban
	fi
done
assert_ok "three /64s ban the /48" rg_wait_for 5 wide_ban
assert_eq "$(wide_ban | jq -r .reason)" ipv6_rotation "the /48's reason is ipv6_rotation"
assert_ok "one ban event for the /48" rg_wait_for 5 e2e_has_event \
	".action == \"ban\" and .source == \"$NET::/48\" and .reason == \"ipv6_rotation\""

drops0=$(e2e_stat drop_ban)
attempt 4
assert_eq "$(grep -c '^RCPT' "$RG_TMP/attack4.out")" 0 "the fourth /64 got no dialogue"
assert_match "$(head -n 1 "$RG_TMP/attack4.out")" "timeout|refused|closed|error" \
	"the fourth /64 could not connect: $(head -n 1 "$RG_TMP/attack4.out")"
assert_gt "$(e2e_stat drop_ban)" "$drops0" "drop_ban rose"
assert_fails "the fourth /64 has no ban of its own" e2e_ban6 "$NET:4::"
assert_eq "$(grep -c "connect from .*\[$NET:4::66\]" "$LAB_MAILLOG")" 0 \
	"Postfix never saw the fourth /64 connect (its first SYN dropped)"
assert_gt "$(wide_ban | jq .hits)" 0 "the /48 entry dropped it"
assert_eq "$(e2e_events ".source == \"$NET:4::/64\"" | wc -l)" 0 "nothing from the fourth /64 reached the daemon"

assert_ok "the legitimate client (fd77::/48) delivers over IPv6" e2e_swaks "$LAB_NS_CL" \
	--server "$LAB_GW6" --to user@example.test
rg_done
