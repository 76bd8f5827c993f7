#!/usr/bin/env bash
# Spoofed relay commands (forged source address, no completed handshake) from
# a third host never get the victim banned, over IPv4 and IPv6. Control: a
# real relay attempt from the spoofer's own address is banned.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require
e2e_require_scapy
e2e_lab strict
e2e_daemon enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

gw_mac=$(e2e_gw_mac)
for victim_server in "$LAB_CL4 $LAB_GW4" "$LAB_CL6 $LAB_GW6"; do
	# shellcheck disable=SC2086
	ip netns exec "$LAB_NS_SP" "$SYS_PY" "$(dirname "$0")/spoof.py" \
		$victim_server 5 "$gw_mac" "${LAB_PREFIX}sp0" ||
		fail "spoof.py failed"
done
assert_gt "$(e2e_stat pass_smtp)" 40 "the forged segments reached the gateway's XDP"

# Control, after the forgeries: the daemon is watching and bans real attempts.
e2e_session "$LAB_NS_SP" --server "$LAB_GW4" --rcpt victim@gmail.com >"$RG_TMP/ctl.out"
assert_ok "control: the spoofer's own relay attempt is banned" \
	rg_wait_for 2 e2e_ban4 "$LAB_SP4"

assert_fails "victim $LAB_CL4 not banned" e2e_ban4 "$LAB_CL4"
assert_fails "victim's /64 not banned" e2e_ban6 "$LAB_CL6"
assert_eq "$(e2e_ban4_count)" 1 "the only IPv4 ban is the spoofer's own"
assert_eq "$(e2e_events ".action == \"ban\" and ((.source | startswith(\"fd77:0:0:10:\")) or .source == \"$LAB_CL4\")" | wc -l)" 0 \
	"no ban event for the victim"
echo "# findings logged for the forged flows (never bans), by reason:"
e2e_events '.action == "finding"' | jq -r '"\(.reason) verified=\(.verified)"' | sort | uniq -c | sed 's/^/#   /'
grep -c "handshake not verified" "$E2E_DAEMON_LOG" | sed "s/^/# daemon log lines \"handshake not verified\": /"
assert_ok "the victim still delivers" e2e_legit_delivery after-spoof
rg_done
