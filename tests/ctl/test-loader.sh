#!/usr/bin/env bash
# The loader through relayguardctl: another tool's XDP program is refused
# and left in place; a pinned map of another layout or a config of another
# ABI is refused with the map named; re-attach reuses the pinned maps (bans
# survive) and programs stay attached after the command exits; a failed
# switch of XDP mode keeps the program attached in its old mode.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl.sh"
ctl_require
[ -e "$BUILD/bare.bpf.o" ] || { echo "SKIP: no $BUILD/bare.bpf.o"; exit 77; }

ctl_lab
xdp_id() { ip -n "$GW" -j link show vgw | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty'; }

# Another tool's XDP program: refused, and still there afterwards.
ip -n "$GW" link set dev vgw xdpgeneric obj "$BUILD/bare.bpf.o" sec xdp ||
	fail "cannot attach the bare program"
foreign=$(xdp_id)
[ -n "$foreign" ] || fail "no foreign program id"
assert_fails "attach over a foreign XDP program is refused" ctl attach vgw
assert_match "$(cat "$RG_TMP/out")" "another XDP program \(id $foreign\)" "refusal names the foreign program"
assert_eq "$(wc -l <"$RG_TMP/out")" 1 "one-line refusal"
assert_eq "$(xdp_id)" "$foreign" "foreign program left in place"
assert_eq "$(ctl -j status | jq '.interfaces | length')" 0 "nothing of ours attached"
ip -n "$GW" link set dev vgw xdpgeneric off

# Attach, ban, re-attach: the pinned maps are reused.
assert_ok "attach" ctl attach vgw
ctl ban add 192.0.2.44 reason relay_probe >/dev/null
id1=$(ctl -j status | jq -r '.interfaces[0].xdp_prog_id')
assert_ok "re-attach" ctl attach vgw
id2=$(ctl -j status | jq -r '.interfaces[0].xdp_prog_id')
assert_ne "$id2" "$id1" "re-attach loaded a new program"
assert_eq "$(ctl -j ban list | jq -r '.[0].reason')" relay_probe "ban survived the re-attach"
assert_eq "$(ip -n "$GW" -j link show vgw | jq -r '.[0].xdp.prog.name // .[0].xdp.attached[0].prog.name')" rg_xdp \
	"rg_xdp stays attached after relayguardctl exited"
assert_match "$(tc -n "$GW" filter show dev vgw egress)" "rg_tc_egress" "TC egress filter stays attached"
assert_eq "$(ctl -j config show | jq -r .smtp_ports)" 25 "a fresh config map got the defaults"

# A failed switch to native mode leaves the generic program in place (veth
# refuses native XDP for a program without frags above a page-sized MTU).
assert_ok "attach generic" ctl attach vgw generic
gen=$(ctl -j status | jq -r '.interfaces[0].xdp_prog_id')
ip -n "$GW" link set vgw mtu 9000
ip -n "$CL" link set vcl mtu 9000
assert_fails "native attach above the veth XDP MTU fails" ctl attach vgw native
assert_eq "$(ctl -j status | jq -r '.interfaces[0].xdp_mode')" generic \
	"after the failed switch: still attached, generic mode"
assert_eq "$(ctl -j status | jq -r '.interfaces[0].xdp_prog_id')" "$gen" \
	"after the failed switch: the same program"
ip -n "$GW" link set vgw mtu 1500
ip -n "$CL" link set vcl mtu 1500

# A config of another ABI is refused.
ctl detach vgw >/dev/null
bpftool map update pinned "$PIN/config" key hex 00 00 00 00 value hex 63 00 00 00 \
	$(printf '00 %.0s' $(seq 5 $(bpftool -j map show pinned "$PIN/config" | jq .bytes_value))) ||
	fail "cannot write the config map"
assert_fails "attach with a config of ABI 99 is refused" ctl attach vgw
assert_match "$(cat "$RG_TMP/out")" "ABI version 99" "refusal names the ABI"
assert_fails "ban list with a config of ABI 99 is refused" ctl ban list

# A pinned bans4 of another layout is refused, named.
ctl detach vgw --purge >/dev/null
mkdir -p "$PIN"
bpftool map create "$PIN/bans4" type hash key 4 value 8 entries 16 name bans4 ||
	fail "cannot pin a foreign bans4"
assert_fails "attach with a foreign bans4 is refused" ctl attach vgw
assert_match "$(cat "$RG_TMP/out")" "pinned map $PIN/bans4 does not match" "refusal names the map"
assert_eq "$(wc -l <"$RG_TMP/out")" 1 "one-line refusal"
assert_eq "$(ctl -j status | jq '.interfaces | length')" 0 "nothing attached after the refusal"
rg_done
