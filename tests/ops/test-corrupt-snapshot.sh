#!/usr/bin/env bash
# A truncated or garbage bans.gz is reported, set aside as
# bans.gz.corrupt-<time>, never half-loaded, and never stops relayguardd
# from starting; the next snapshot is a good one again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
ops_setup

nbans() {
	ops_ctl -j ban list | jq length
}

ops_start
for i in $(seq 1 500); do echo "10.7.$((i / 250)).$((i % 250 + 1)) 1h relay_probe"; done >"$RG_TMP/bans.txt"
assert_ok "500 bans" ops_ctl ban import "$RG_TMP/bans.txt"
ops_stop
size=$(stat -c %s "$OPS_STATE/bans.gz")
assert_gt "$size" 100 "snapshot written"
cp "$OPS_STATE/bans.gz" "$RG_TMP/good.gz"

for kind in truncated garbage; do
	ops_ctl detach "$OPS_IF" --purge >/dev/null || fail "detach --purge"
	rm -f "$OPS_STATE"/bans.gz.corrupt-*
	case $kind in
	truncated) head -c $((size * 2 / 3)) "$RG_TMP/good.gz" >"$OPS_STATE/bans.gz" ;;
	garbage) head -c 4096 /dev/urandom >"$OPS_STATE/bans.gz" ;;
	esac
	ops_start
	ok "$kind snapshot: daemon started"
	assert_match "$(cat "$OPS_CUR_LOG")" "bans.gz is corrupt \(.*\); moved to .*bans.gz.corrupt-[0-9]+" \
		"$kind snapshot reported and moved aside"
	ls "$OPS_STATE"/bans.gz.corrupt-* >/dev/null 2>&1 || fail "no bans.gz.corrupt-* file"
	ok "$kind snapshot kept as bans.gz.corrupt-*"
	assert_eq "$(nbans)" 0 "$kind snapshot: nothing half-loaded"
	ops_ctl ban add 10.8.0.1 for 1h reason manual >/dev/null
	ops_stop
	ops_ctl detach "$OPS_IF" --purge >/dev/null || fail "detach --purge"
	ops_start
	assert_eq "$(nbans)" 1 "$kind: the next snapshot is good again"
	ops_stop
done
rg_done
