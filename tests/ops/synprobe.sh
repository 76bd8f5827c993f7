#!/usr/bin/env bash
# The SYN prober (synprobe.py) from the lab attacker's own address to the
# gateway, for tests on the e2e lab. Source after tests/lib.sh and
# tests/e2e/e2e.sh, once the lab is up.

# Start it in the background, one SYN every 5 ms, until probe_stop.
probe_start() {
	rm -f "$RG_TMP/probe.stop" "$RG_TMP/probe.progress"
	ip netns exec "$LAB_NS_AT" "$SYS_PY" "$RG_TOP/tests/ops/synprobe.py" \
		--src "$LAB_AT4" --dst "$LAB_GW4" --until "$RG_TMP/probe.stop" \
		--progress "$RG_TMP/probe.progress" >"$RG_TMP/probe.out" 2>&1 &
	PROBE_PID=$!
	rg_on_exit "touch '$RG_TMP/probe.stop'; kill $PROBE_PID"
}
# probe_sent_ge N: it has sent N SYNs or more.
probe_sent_ge() {
	[ "$(cut -d' ' -f1 "$RG_TMP/probe.progress" 2>/dev/null || echo 0)" -ge "$1" ]
}
probe_stop() { # sets sent and synacks
	touch "$RG_TMP/probe.stop"
	wait "$PROBE_PID" || fail "the prober failed: $(cat "$RG_TMP/probe.out")"
	read -r sent synacks <"$RG_TMP/probe.out"
}
