#!/usr/bin/env bash
# A ban's hits count every SYN of the banned source, as relayguardctl
# shows them: with a per-source SYN rate, the data plane drops most of a
# banned source's SYNs on its bucket's banned mark without looking the ban
# up, and adds them to the ban's own count only at its next look (once an
# epoch, ~1.07 s, while the source keeps sending; never once it stops).
# `ban list` adds what is pending in the bucket: its hits are the SYNs the
# prober sent, all of them, while the map's own count lags.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/synprobe.sh"

e2e_require
e2e_lab strict
e2e_daemon enforce syn_rate=20 syn_burst=40
e2e_ctl ban add "$LAB_AT4" for 1h >/dev/null || fail "cannot ban $LAB_AT4"
cached0=$(e2e_stat acl_cached)

# The prober, for two epochs and more.
probe_start
rg_wait_for 60 probe_sent_ge 500 || fail "the prober stalled: $(cat "$RG_TMP/probe.out")"
probe_stop
assert_eq "$synacks" 0 "no SYN-ACK reached the banned prober ($sent SYNs)"
assert_gt "$(e2e_stat acl_cached)" "$((cached0 + sent / 2))" \
	"most of its SYNs were dropped on the bucket's banned mark"

raw=$(e2e_ban4 "$LAB_AT4" | jq .hits) || fail "the ban is gone"
shown=$(e2e_ctl -j ban list | jq --arg s "$LAB_AT4" '.[] | select(.source == $s) | .hits')
echo "# $sent SYNs sent; the ban's hits: $raw in bans4, $shown in ban list"
assert_eq "$shown" "$sent" "ban list counts every SYN of the banned source"
# Another ban, written raw, with one hit less than the prober's shown
# count (more than its count in bans4): --sort hits puts the prober first.
OTHER=10.77.0.99
hex=$("$SYS_PY" -c 'import struct, sys
v = struct.pack("<QQQQIIB7sII", 0, int(sys.argv[1]), 1, 1, 6, 1, 0, b"", 0, 0)
print(" ".join("%02x" % b for b in v))' $((shown - 1)))
# shellcheck disable=SC2086
rg_in "$LAB_NS_GW" bpftool map update pinned "$PIN/bans4" key ${OTHER//./ } \
	value hex $hex || fail "cannot write the ban of $OTHER"
assert_eq "$(e2e_ctl -j ban list --sort hits | jq -r '.[0].source')" "$LAB_AT4" \
	"ban list --sort hits sorts by the same count"
rg_done
