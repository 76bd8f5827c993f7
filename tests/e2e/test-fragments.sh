#!/usr/bin/env bash
# Fragments and headers the parser gives up on cannot carry a banned
# source's SYN to the lab's real Postfix (issue 12, item 1), over IPv4 and
# IPv6, while fail-open holds for everyone else:
# - unbanned: a plain SYN is answered; a tiny first fragment (16 bytes of
#   TCP header) is dropped for everyone (no real stack sends one) and
#   counted in drop_frag_tiny; a SYN fragmented after its whole TCP header
#   (8 bytes of SYN data in each fragment) has no flow entry whose client
#   side the daemon ignores, so it is dropped too (drop_frag_payload);
# - in a verified session, a RCPT segment sent as two IPv4 fragments gets
#   no reply from Postfix (its first fragment dropped: the daemon would see
#   12 bytes of the line) while the same segment unfragmented is answered,
#   and a fragmented message body segment (flow paused by the daemon) is
#   acknowledged by the server: a path that fragments body segments still
#   delivers;
# - banned: the tiny-fragment SYN, the whole-header fragmented SYN and
#   (IPv6) a SYN behind seven extension headers get no SYN-ACK, and
#   drop_ban rises.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_require
e2e_require_scapy
e2e_lab strict
e2e_daemon enforce

gw_mac=$(e2e_gw_mac)
at_if="${LAB_PREFIX}at0"

# syn KIND SRC SERVER: "synack" or "none", from the attacker's namespace.
syn() {
	ip netns exec "$LAB_NS_AT" "$SYS_PY" "$E2E_DIR/fragsyn.py" "$1" "$2" "$3" \
		"$gw_mac" "$at_if" || echo "fragsyn.py failed"
}

# expect WHAT WANT KIND SRC SERVER: one SYN, answered (synack) or not (none).
expect() {
	local what=$1 want=$2
	shift 2
	assert_eq "$(syn "$@")" "$want" "$what"
}

# IPv6 neighbours first, so that no SYN-ACK waits on resolution.
ip netns exec "$LAB_NS_AT" ping -6 -c1 -W2 "$LAB_GW6" >/dev/null 2>&1
ip netns exec "$LAB_NS_AT" ping -c1 -W2 "$LAB_GW4" >/dev/null 2>&1

tiny0=$(e2e_stat drop_frag_tiny)
expect "unbanned IPv4: a plain SYN is answered (the sender works)" synack plain "$LAB_AT4" "$LAB_GW4"
payload0=$(e2e_stat drop_frag_payload)
expect "unbanned IPv4: a SYN fragmented after its whole TCP header (SYN data) is dropped" \
	none whole "$LAB_AT4" "$LAB_GW4"
assert_gt "$(e2e_stat drop_frag_payload)" "$payload0" "drop_frag_payload rose"
expect "unbanned IPv4: a SYN whose first fragment has 16 bytes of TCP is dropped" \
	none tiny "$LAB_AT4" "$LAB_GW4"
assert_gt "$(e2e_stat drop_frag_tiny)" "$tiny0" "drop_frag_tiny rose"
expect "unbanned IPv6: a plain SYN is answered" synack plain "$LAB_AT6" "$LAB_GW6"
expect "unbanned IPv6: a SYN fragmented after its whole TCP header (SYN data) is dropped" \
	none whole "$LAB_AT6" "$LAB_GW6"
expect "unbanned IPv6: a SYN whose first fragment has 16 bytes of TCP is dropped" \
	none tiny "$LAB_AT6" "$LAB_GW6"
ext7=$(syn ext7 "$LAB_AT6" "$LAB_GW6")
echo "# unbanned IPv6 SYN behind seven extension headers: $ext7 (relayguard passes it)"

# Session kinds, each from a fresh address (a refused relay attempt may
# ban its source).
mapfile -t srcs < <("$LAB" pool "$LAB_PREFIX" 3)
expect "a forged RCPT segment, unfragmented, is answered (the control)" \
	"reply 554" rcpt1 "${srcs[0]}" "$LAB_GW4"
payload0=$(e2e_stat drop_frag_payload)
expect "a RCPT segment as two IPv4 fragments gets no reply from Postfix" \
	none rcpt "${srcs[1]}" "$LAB_GW4"
assert_gt "$(e2e_stat drop_frag_payload)" "$payload0" "drop_frag_payload rose (rcpt)"
expect "a message body segment as two IPv4 fragments (paused flow) is acknowledged" \
	acked body "${srcs[2]}" "$LAB_GW4"

e2e_ctl ban add "$LAB_AT4" for 1h reason manual >/dev/null || fail "ban add $LAB_AT4"
e2e_ctl ban add "$LAB_AT6" for 1h reason manual >/dev/null || fail "ban add $LAB_AT6"
drops0=$(e2e_stat drop_ban)
expect "banned IPv4: the tiny-fragment SYN gets no SYN-ACK" none tiny "$LAB_AT4" "$LAB_GW4"
expect "banned IPv4: the whole-header fragmented SYN gets no SYN-ACK" none whole "$LAB_AT4" "$LAB_GW4"
expect "banned IPv4: a plain SYN gets no SYN-ACK" none plain "$LAB_AT4" "$LAB_GW4"
expect "banned IPv6: the tiny-fragment SYN gets no SYN-ACK" none tiny "$LAB_AT6" "$LAB_GW6"
expect "banned IPv6: the whole-header fragmented SYN gets no SYN-ACK" none whole "$LAB_AT6" "$LAB_GW6"
expect "banned IPv6: the SYN behind seven extension headers gets no SYN-ACK" \
	none ext7 "$LAB_AT6" "$LAB_GW6"
assert_gt "$(e2e_stat drop_ban)" "$((drops0 + 5))" "drop_ban counted the banned fragments"
assert_ok "the legitimate client still delivers" e2e_legit_delivery after-fragments
rg_done
