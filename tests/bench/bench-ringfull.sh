#!/usr/bin/env bash
# The daemon's side of the sampling path: the records/s at which the ring
# buffer `samples` first overflows with relayguardd at its default
# priority, and the daemon's CPU there. relayguardd runs on a bare veth
# (tests/ops/ops.sh); build/tools/ringload runs rg_xdp on the daemon's
# pinned maps through BPF_PROG_TEST_RUN at rising rates (3 s a step), one
# MAIL command or 1,400 bytes a packet, each of its own flow (a spoofed
# flood's records: no handshake), until a step loses records. The producer takes one CPU of
# its own: on a machine of two, the daemon has the other, shared with
# whatever else runs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../ops/ops.sh"
ops_require
[ -x "$BUILD/tools/ringload" ] || fail "$BUILD/tools/ringload is missing: make tests"
ops_setup
ops_start
echo "relayguardd pid $OPS_DAEMON ($(chrt -p "$OPS_DAEMON" | sed -n 's/.*policy: //p' | head -n 1)," \
	"priority $(chrt -p "$OPS_DAEMON" | sed -n 's/.*priority: //p')), $(nproc) CPUs:" \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
# PAYLOAD REPEAT: a command a packet, then body-sized records.
for run in "31 1" "1400 1"; do
	# shellcheck disable=SC2086
	"$BUILD/tools/ringload" "$BUILD/relayguard.bpf.o" "$PIN" "$OPS_DAEMON" $run ||
		fail "ringload failed"
done
kill -0 "$OPS_DAEMON" || fail "relayguardd died under load: $(tail -n 20 "$OPS_CUR_LOG")"
ok "relayguardd alive after the load"
rg_done
