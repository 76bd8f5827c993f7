#!/usr/bin/env bash
# Issue 20 item 1 against a real Postfix misconfigured as an OPEN relay: a
# client sends EHLO, MAIL, a foreign RCPT, DATA, the message and QUIT in one
# write. relayguardd bans it for unauth_pipelining (the body came before
# the 354), but Postfix has read the whole burst already: it accepts the
# recipient and queues the message (README, Known limits). The ban stops
# reading the client, never the server: Postfix's 250 to the RCPT is still
# graded, and the operator gets the critical relay_accepted alert, with a
# pcap of its own in which the server's replies are, and no second ban.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require
e2e_require_scapy
e2e_lab open
e2e_daemon enforce

src=$("$LAB" pool "$LAB_PREFIX" 1)
rcpt=victim-burst@gmail.com
out="$RG_TMP/burst.out"
# evasion_session.py's burst names its recipient with --local: a foreign one here
ip netns exec "$LAB_NS_AT" "$SYS_PY" "$E2E_DIR/evasion_session.py" \
	--server "$LAB_GW4" --src "$src" --how burst --local "$rcpt" --timeout 5 \
	>"$out" 2>&1 || fail "evasion_session.py failed: $(cat "$out")"
echo "# burst: $(tr '\n' ' ' <"$out")"
# EHLO, MAIL, RCPT, DATA, the end of data, QUIT: the relay took it all
assert_eq "$(grep '^reply' "$out" | head -n 6 | tr '\n' ' ')" \
	"reply 250 reply 250 reply 250 reply 354 reply 250 reply 221 " \
	"the open relay accepted the foreign recipient and queued the message (test is meaningful)"
assert_ok "Postfix relayed it (maillog)" rg_wait_for 10 grep -q "to=<$rcpt>" "$LAB_MAILLOG"

ban_q=".action == \"ban\" and .source == \"$src\""
alert_q=".action == \"alert\" and .source == \"$src\""
assert_ok "banned for unauth_pipelining" rg_wait_for 5 e2e_has_event \
	"$ban_q and .reason == \"unauth_pipelining\""
assert_ok "the critical relay_accepted alert is raised" rg_wait_for 5 e2e_has_event \
	"$alert_q and .reason == \"relay_accepted\""
alert=$(e2e_events "$alert_q" | head -n 1)
echo "$alert"
assert_eq "$(jq -r .severity <<<"$alert")" critical "the alert is critical"
assert_eq "$(jq -r .rcpt_to <<<"$alert")" "$rcpt" "the alert names the relayed recipient"
assert_match "$(jq -r .reply <<<"$alert")" '^250 2\.1\.5' "the alert carries Postfix's acceptance"
assert_match "$(grep -F "CRITICAL: relay_accepted from $src" "$E2E_DAEMON_LOG")" . \
	"a critical line in the daemon's log"

# The server's side was read to its end: the 221 stopped the flow for good
# (RG_FLOW_STOP on the entry whose client side the ban stopped, RG_FLOW_STOP_IN).
flow_ended() {
	rg_in "$LAB_NS_GW" bpftool -j map dump pinned "$PIN/flows" |
		jq -e '[.[].formatted.value.flags | select(. % 2 == 1 and (. / 32 | floor) % 2 == 1)] | length > 0' >/dev/null
}
assert_ok "the banned flow was read until the server ended it" rg_wait_for 10 flow_ended
assert_eq "$(e2e_events "$ban_q" | wc -l)" 1 "exactly one ban for the burst"
assert_eq "$(e2e_events "$alert_q" | wc -l)" 1 "exactly one alert"
ban=$(e2e_ban4 "$src") || fail "no bans4 entry for $src"
assert_eq "$(jq .reason <<<"$ban")" 14 "bans4: the reason is unauth_pipelining"

# The alert's evidence: a pcap of its own, with the server's replies.
pcap=$(jq -r .evidence <<<"$alert")
[ -f "$pcap" ] || fail "alert evidence '$pcap' missing"
assert_ne "$pcap" "$(e2e_events "$ban_q" | jq -r .evidence)" "the alert has its own pcap"
tshark -r "$pcap" -Y smtp -T fields -e ip.src -e smtp.req.command \
	-e smtp.response.code 2>/dev/null >"$RG_TMP/dialogue"
cat "$RG_TMP/dialogue"
# (tshark does not split a burst into commands: its bytes are looked for)
assert_eq "$(zcat "$pcap" | grep -ac "RCPT TO:<$rcpt>")" 1 "the evidence holds the burst's RCPT"
assert_match "$(awk -v gw="$LAB_GW4" '$1 == gw' "$RG_TMP/dialogue" | tr '\n' ' ')" \
	"250,250,250,354|250 .*250 .*250 .*354" \
	"the evidence shows the server's replies (the 250 to the RCPT, the 354)"
rg_done
