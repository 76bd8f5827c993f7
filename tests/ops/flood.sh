#!/usr/bin/env bash
# A flood of spoofed SMTP data (tests/ops/test-flood.sh, tests/bench/
# bench-flood.sh): trafgen (netsniff-ng) sends TCP segments to port 25 of
# DST from random IPv4 sources and ports, with random sequence numbers and
# a MAIL command as payload: sessions that never had a handshake, which
# the data plane samples and relayguardd must read without losing its
# other duties. Source after tests/lib.sh.

# flood_start NS IF DST_MAC DST_IP [RATE]: trafgen in NS out of IF, at
# RATE (trafgen's -b, e.g. 50kpps; default as fast as it goes), one CPU.
# Sets FLOOD_PID.
flood_start() {
	local ns=$1 ifname=$2 dmac=$3 dip=$4 rate=${5:-} cfg="$RG_TMP/flood.cfg"
	local smac payload="MAIL FROM:<spoof@example.net>"$'\r\n'
	smac=$(ip -n "$ns" -j link show "$ifname" | jq -r '.[0].address')
	{
		echo "{"
		echo "  $(mac_bytes "$dmac"), $(mac_bytes "$smac"), c16(0x0800),"
		echo "  0x45, 0x00, c16($((40 + ${#payload}))), drnd(2), c16(0x4000), 64, 6, csumip(14, 33),"
		echo "  drnd(4), $(echo "$dip" | tr . ,),"
		echo "  drnd(2), c16(25), drnd(4), drnd(4), 0x50, 0x18, c16(512), csumtcp(14, 34), c16(0),"
		echo "  \"${payload%$'\r\n'}\", 0x0d, 0x0a"
		echo "}"
	} >"$cfg"
	set -- ip netns exec "$ns" trafgen --dev "$ifname" --conf "$cfg" --cpus 1 -q
	[ -n "$rate" ] && set -- "$@" -b "$rate"
	# trafgen gives up when its TX ring cannot be flushed (EAGAIN, a full
	# veth queue on a busy machine): the loop starts it again, so that the
	# flood lasts as long as the test needs it.
	(
		trap 'exit 0' TERM
		while :; do
			"$@" >>"$RG_TMP/trafgen.log" 2>&1
			sleep 0.1
		done
	) &
	FLOOD_PID=$!
	rg_on_exit "flood_kill $FLOOD_PID"
}

# PID: the loop. Ended first (it exits once its trafgen does); trafgen
# sends from a child per CPU, which its parent does not stop on a signal:
# stop the children (by parent pid), then the parent exits.
flood_kill() { # PID
	local t c
	kill "$1" 2>/dev/null
	for t in $(pgrep -P "$1"); do
		for c in $(pgrep -P "$t"); do kill -INT "$c"; done
	done
	sleep 0.5
	for t in $(pgrep -P "$1"); do kill "$t" 2>/dev/null; done
	return 0
}

flood_stop() {
	flood_kill "$FLOOD_PID"
	wait "$FLOOD_PID" 2>/dev/null
	return 0
}

mac_bytes() { # aa:bb:.. -> 0xaa, 0xbb, ..
	echo "0x${1//:/, 0x}"
}
