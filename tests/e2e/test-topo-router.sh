#!/usr/bin/env bash
# A router in front of the MTA (issue 19, item 5c): relayguard on the
# router's outside link, Postfix in its own namespace behind it. XDP passes
# what it does not drop and the kernel forwards it; the MTA's replies leave
# through the outside link's TC egress. The relay attempt is banned
# in-session, the attacker's next SYN dropped at XDP, legitimate mail (IPv4
# and IPv6) delivered through the router. Asymmetric routing: with the
# replies to a source leaving through a second outside link, relayguard on
# the inbound link alone never sees them (the session is not cut); on both
# links, it bans in-session again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
. "$(dirname "$0")/topo.sh"
e2e_require
e2e_require_scapy
e2e_lab strict router
# A session cut in-session leaves its smtpd waiting: at smtpd_timeout it
# sends 421 and a FIN, retransmitted (the banned client's ACKs are dropped)
# out of the gateway; past this test's life, they never count in the
# egress_smtp window below.
e2e_postconf smtpd_timeout=3600s
e2e_daemon enforce

assert_ok "Postfix listens in its own namespace" sh -c \
	"ip netns exec $LAB_NS_MTA ss -Hltn 'sport = :25' | grep -qF '$LAB_GW4:25'"
assert_eq "$(ip netns exec "$LAB_NS_GW" ss -Hltn 'sport = :25' | wc -l)" 0 \
	"nothing listens on port 25 on the router"
assert_eq "$(ip netns exec "$LAB_NS_GW" sysctl -n net.ipv4.ip_forward)" 1 "the router forwards"

topo_scenario

assert_ok "the legitimate client delivers over IPv6 through the router" \
	e2e_swaks "$LAB_NS_CL" --server "$LAB_GW6" --to user@example.test

# attack SRC OUT: a relay attempt from SRC (three foreign RCPTs); OUT gets
# the RCPT lines' outcome.
attack() {
	e2e_session "$LAB_NS_AT" --src "$1" --server "$LAB_GW4" --pause 0.3 --timeout 2 \
		--rcpt victim@gmail.com --rcpt victim2@gmail.com --rcpt victim3@gmail.com \
		>"$2"
}
asym="${LAB_PREFIX}gw3"
ip link add "$asym" netns "$LAB_NS_GW" type veth peer name "${LAB_PREFIX}sgw3" \
	netns "$LAB_NS_SW" || fail "cannot create veth $asym"
ip -n "$LAB_NS_SW" link set "${LAB_PREFIX}sgw3" master br0 up
ip -n "$LAB_NS_GW" link set "$asym" up
mapfile -t pool < <("$LAB" pool "$LAB_PREFIX" 2)
for src in "${pool[@]}"; do
	ip -n "$LAB_NS_GW" route add "$src/32" dev "$asym"
done

egress0=$(e2e_stat egress_smtp)
attack "${pool[0]}" "$RG_TMP/asym1.out"
assert_eq "$(e2e_stat egress_smtp)" "$egress0" "the replies to ${pool[0]} leave through $asym"
assert_eq "$(grep -c '^RCPT 554' "$RG_TMP/asym1.out")" 3 \
	"replies leaving another link: relayguard on the inbound link alone does not cut the session"

kill "$E2E_DAEMON_PID"
rg_wait_for 10 sh -c "! kill -0 $E2E_DAEMON_PID" || fail "relayguardd did not stop"
e2e_daemon enforce "interfaces=$LAB_IF_GW $asym"
assert_ok "TC egress on the second link" rg_wait_for 10 sh -c \
	"ip netns exec $LAB_NS_GW tc filter show dev $asym egress | grep -q bpf"
attack "${pool[1]}" "$RG_TMP/asym2.out"
cat "$RG_TMP/asym2.out"
assert_eq "$(grep '^RCPT' "$RG_TMP/asym2.out" | sed -n 3p)" "RCPT timeout" \
	"relayguard on both links: the relay attempt is cut off in-session"
assert_ok "${pool[1]} is banned" e2e_ban4 "${pool[1]}"
rg_done
