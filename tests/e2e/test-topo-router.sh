#!/usr/bin/env bash
# A router in front of the MTA (issue 19, item 5c): relayguard on the
# router's outside link, Postfix in its own namespace behind it. XDP passes
# what it does not drop and the kernel forwards it; the MTA's replies leave
# through the outside link's TC egress. The relay attempt is banned
# in-session, the attacker's next SYN dropped at XDP, legitimate mail (IPv4
# and IPv6) delivered through the router.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
. "$(dirname "$0")/topo.sh"
e2e_require
e2e_require_scapy
e2e_lab strict router
e2e_daemon enforce

assert_ok "Postfix listens in its own namespace" sh -c \
	"ip netns exec $LAB_NS_MTA ss -Hltn 'sport = :25' | grep -qF '$LAB_GW4:25'"
assert_eq "$(ip netns exec "$LAB_NS_GW" ss -Hltn 'sport = :25' | wc -l)" 0 \
	"nothing listens on port 25 on the router"
assert_eq "$(ip netns exec "$LAB_NS_GW" sysctl -n net.ipv4.ip_forward)" 1 "the router forwards"

topo_scenario

assert_ok "the legitimate client delivers over IPv6 through the router" \
	e2e_swaks "$LAB_NS_CL" --server "$LAB_GW6" --to user@example.test
rg_done
