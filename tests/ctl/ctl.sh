#!/usr/bin/env bash
# Helpers for the relayguardctl tests (tests/ctl/test-*.sh) that need a
# gateway: namespaces of this test's own, GW and CL, joined by a veth
# (vgw on the gateway side, vcl on the client side), a pin dir of its own,
# and ctl() running relayguardctl in the gateway namespace. Source after
# tests/lib.sh.

ctl_require() {
	rg_require_root
	rg_require_cmds jq
}

# Sets PIN, GW and CL.
ctl_lab() {
	PIN=$(rg_pin_dir)
	GW=$(rg_netns gw)
	CL=$(rg_netns cl)
	rg_veth "$GW" vgw "$CL" vcl
}

ctl() { rg_in "$GW" "$RG_CTL" --pin-dir "$PIN" "$@"; }
