#!/usr/bin/env bash
# 10,000 decisions imported with `cscli decisions import` are enforced on a
# gateway within 5 s of the import: all in bans4 with their origin, and one
# of them (an address of the lab's attacker) dropped at XDP. Before that,
# relayguardd refuses a bouncer key that group or others may read.
. "$(dirname "$0")/fleet.sh"
fleet_require

fleet_lapi
fleet_gw 1 none
"$LAB" pool "f$$1" 1 >/dev/null # the attacker gets 10.77.16.2

# a secret others may read: refused before anything is attached
fleet_conf 1
chmod 0640 "$FLEET_GW_DIR/bouncer.key"
rg_in "$LAB_NS_GW" timeout 20 "$RG_DAEMON" -f -c "$FLEET_GW_DIR/relayguard.conf" \
	--pin-dir "$PIN" --pid-file "$FLEET_GW_DIR/relayguardd.pid" \
	>"$RG_TMP/refused.log" 2>&1
assert_eq "$?" 1 "relayguardd exits 1 with a group-readable bouncer key"
assert_match "$(cat "$RG_TMP/refused.log")" 'bouncer.key: refused, group or others may access it \(mode 0640\)' \
	"it says which file and why"
assert_fails "nothing attached" e2e_attached
chmod 0600 "$FLEET_GW_DIR/bouncer.key"

fleet_daemon 1
assert_ok "gw1: bouncer up" rg_wait_for 20 grep -qx bouncer=up "$FLEET_GW_DIR/crowdsec.state"

# 9,999 addresses of 10.200.0.0/16 and the attacker's 10.77.16.2
{
	echo "duration,scope,value"
	for ((i = 1; i < 10000; i++)); do
		echo "4h,ip,10.200.$((i / 256)).$((i % 256))"
	done
	echo "4h,ip,10.77.16.2"
} >"$RG_TMP/decisions.csv"
assert_eq "$(fleet_syn "$LAB_GW4" 25 10.77.16.2)" refused "before: 10.77.16.2 passes"

# crowdsec 1.4.6 on SQLite may answer "database is locked" when the import
# meets a bouncer's pull (which writes its last pull time): the import is
# retried, and the same decisions twice are the same bans.
import_ok=
for try in 1 2 3; do
	if fleet_cscli decisions import -i "$RG_TMP/decisions.csv" \
		>"$RG_TMP/import.out" 2>&1; then
		import_ok=1
		break
	fi
	echo "# import try $try: $(grep -o 'msg=.*' "$RG_TMP/import.out" | tail -1)"
	sleep 1
done
[ -n "$import_ok" ] || fail "cscli decisions import: $(tail -3 "$RG_TMP/import.out")"
t0=$(date +%s.%N)
assert_ok "10,000 bans from CrowdSec within 5 s of the import" rg_wait_for 5 fleet_bans_from_cs 10000
echo "# enforced $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s after the import returned"
assert_eq "$(e2e_ban4_count)" 10000 "bans4 holds the 10,000"
assert_ok "10.200.39.15 is banned" e2e_ban4 10.200.39.15
assert_match "$(fleet_origin4 10.200.0.1)" '^crowdsec:cscli' "origin: cscli's import"
drops0=$(e2e_stat drop_ban)
assert_eq "$(fleet_syn "$LAB_GW4" 25 10.77.16.2)" timeout "10.77.16.2's SYN dropped"
assert_gt "$(e2e_stat drop_ban)" "$drops0" "drop_ban rose"
rg_done
