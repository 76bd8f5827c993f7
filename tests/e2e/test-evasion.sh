#!/usr/bin/env bash
# Issue 12 against a real Postfix misconfigured as an OPEN relay: an
# attacker that hides its relay attempt in the connection's second mail
# transaction, behind a forged RST, SYN or ACK on its own connection, or in
# a RCPT line padded past every buffer but Postfix's 2,048 bytes, relays
# nothing: Postfix accepts the foreign recipient, relayguard sees that 250
# and bans the client before its DATA (nothing queued for the victim), a
# critical alert is logged. One that sends a decoy local RCPT with a bad
# TCP checksum (dropped by Linux) before the real, foreign one at the same
# sequence number is banned for stream_conflict before its DATA. A client
# that sends its whole session, body included, in one write before any
# reply is banned for unauth_pipelining (its message to a local user may
# be queued all the same: README, Known limits). Each attempt from a fresh
# address.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require
"$SYS_PY" -c 'import scapy' 2>/dev/null || fail "python3-scapy is not installed: make deps"
e2e_lab open
e2e_daemon enforce

gw_mac=$(ip -n "$LAB_NS_GW" -br link show "$LAB_IF_GW" | awk '{print $3}')
# shellcheck disable=SC2206 # EVASION_HOWS: a subset, e.g. "rst syn"
hows=(${EVASION_HOWS:-second rst syn ack pad decoy burst})
mapfile -t srcs < <("$LAB" pool "$LAB_PREFIX" ${#hows[@]})
for i in "${!hows[@]}"; do
	how=${hows[i]} src=${srcs[i]}
	out="$RG_TMP/$how.out"
	ip netns exec "$LAB_NS_AT" "$SYS_PY" "$(dirname "$0")/evasion_session.py" \
		--server "$LAB_GW4" --src "$src" --how "$how" --gw-mac "$gw_mac" \
		--iface "${LAB_PREFIX}at0" --rcpt "victim-$how@gmail.com" >"$out" 2>&1 ||
		fail "evasion_session.py --how $how failed: $(cat "$out")"
	echo "# $how: $(tr '\n' ' ' <"$out")"
	if [ "$how" = burst ]; then
		assert_ok "$how: banned for unauth_pipelining" rg_wait_for 2 e2e_has_event \
			".action == \"ban\" and .source == \"$src\" and .reason == \"unauth_pipelining\""
		continue
	fi
	if [ "$how" = second ]; then
		assert_eq "$(grep '^EOM' "$out" | head -n 1)" "EOM 250" \
			"$how: the first, local message was accepted"
	fi
	if [ "$how" = ack ]; then
		assert_eq "$(grep '^DATA' "$out" | head -n 1)" "DATA 503" "$how: Postfix refused the early DATA"
	fi
	assert_eq "$(grep -c '^RCPT 250' "$out")" $(( $(grep -c '^RCPT' "$out") )) \
		"$how: the open relay accepted every recipient (test is meaningful)"
	assert_match "$(tail -n 1 "$out")" '^DATA timeout$' \
		"$how: banned in-session, the DATA after the foreign RCPT got no reply"
	ban=$(rg_wait_for 2 e2e_ban4 "$src" && e2e_ban4 "$src") ||
		fail "$how: no bans4 entry for $src: $(e2e_daemon_log)"
	if [ "$how" = decoy ]; then
		assert_eq "$(jq .reason <<<"$ban")" 13 "$how: ban reason is stream_conflict"
		continue
	fi
	assert_eq "$(jq .reason <<<"$ban")" 3 "$how: ban reason is relay_accepted"
	assert_ok "$how: a critical alert names the relay" rg_wait_for 2 e2e_has_event \
		".action == \"alert\" and .source == \"$src\" and .rcpt_to == \"victim-$how@gmail.com\""
done
sleep 1
assert_eq "$(ip netns exec "$LAB_NS_GW" postqueue -c "$LAB_PF_CONF" -p | grep -c 'victim-')" 0 \
	"postqueue: nothing queued for a victim"
assert_eq "$(grep -c 'to=<victim-' "$LAB_MAILLOG")" 0 "maillog: no message to a victim"
assert_ok "the legitimate client still delivers" e2e_legit_delivery after
assert_fails "the client was never banned" e2e_ban4 "$LAB_CL4"
rg_done
