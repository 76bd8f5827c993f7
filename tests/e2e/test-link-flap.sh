#!/usr/bin/env bash
# The gateway's interface is deleted and re-created (same name): relayguardd
# re-attaches XDP on its libnl link event (no rescan), bans keep dropping,
# and relay attempts on the new link are seen and banned (TC egress is back).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

e2e_relay_attempt
assert_ok "attacker banned" rg_wait_for 10 e2e_ban4 "$LAB_AT4"

"$LAB" relink "$LAB_PREFIX" || fail "relink failed"
t0=$(date +%s%N)
rg_wait_for 10 e2e_attached || fail "not re-attached after 10 s: $(e2e_daemon_log)"
ms=$((($(date +%s%N) - t0) / 1000000))
# No rescan runs: only the link event can re-attach (the time is shown,
# not judged: a loaded machine may take longer).
ok "re-attached $ms ms after the link came back"
# the daemon attaches XDP first, then TC
assert_ok "TC egress re-attached too" rg_wait_for 10 sh -c \
	"ip netns exec $LAB_NS_GW tc filter show dev $LAB_IF_GW egress | grep -q bpf"

e2e_assert_dropped "banned attacker dropped on the new link" "drop_ban rose"
assert_ok "legitimate client delivers on the new link" e2e_legit_delivery relinked

src=$("$LAB" pool "$LAB_PREFIX" 1)
e2e_relay_attempt --src "$src"
assert_ok "a relay attempt on the new link is banned ($src)" rg_wait_for 10 e2e_ban4 "$src"
rg_done
