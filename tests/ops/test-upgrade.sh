#!/usr/bin/env bash
# An upgrade never opens the gate: the last ABI-3 release (f6e39ff, built
# here from git history; RG_UPGRADE_FROM names another release, as
# test-upgrade-abi4.sh does) runs the lab gateway with a banned prober
# sending one SYN every 5 ms, a legitimate SMTP session and two attackers'
# sessions open; it is stopped as an upgrade stops it (programs attached,
# maps pinned) and this build's relayguardd starts on the same pin dir. It
# migrates the maps and swaps the programs in place: no SYN-ACK ever
# reaches the prober, its ban and a CrowdSec one keep expiry, reason and
# origin, the legitimate message is delivered, and the attackers, whose
# sessions began before the upgrade, are banned inside them: one for a
# relay attempt after the upgrade, one for an attempt made while no daemon
# ran. The SYN buckets are not carried (ABI 5 moved the IPv4 slots): the
# new maps start with none of the old ones. Last, relayguardctl attach
# migrates the old release's maps too.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/synprobe.sh"
OLD_COMMIT=${RG_UPGRADE_FROM:-f6e39ff} # f6e39ff: the last release of ABI 3
NEW_ABI=$(awk '$2 == "RG_ABI_VERSION" { print $3 }' "$RG_TOP/headers/relayguard.h")

e2e_require
git -C "$RG_TOP" cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null ||
	fail "this clone lacks commit $OLD_COMMIT (the old release): fetch the full history (git fetch --unshallow)"

# The old release, from history: an export, not a worktree, so the
# repository is left as it was even when the test is killed.
OLD="$RG_TMP/old"
mkdir -p "$OLD"
git -C "$RG_TOP" archive "$OLD_COMMIT" | tar -x -C "$OLD" ||
	fail "cannot export $OLD_COMMIT"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$OLD" -j2 BUILD=build all >"$RG_TMP/old-build.log" 2>&1 ||
	fail "cannot build $OLD_COMMIT: $(tail -n 20 "$RG_TMP/old-build.log")"
OLD_ABI=$(awk '$2 == "RG_ABI_VERSION" { print $3 }' "$OLD/headers/relayguard.h")
ok "release $OLD_COMMIT (ABI $OLD_ABI) built from history"
NEW_DAEMON=$RG_DAEMON

e2e_lab strict
RG_DAEMON="$OLD/build/relayguardd" e2e_daemon enforce relay_attempts_ban=1
OLD_PID=$E2E_DAEMON_PID
assert_eq "$(rg_in "$LAB_NS_GW" bpftool -j map dump pinned "$PIN/config" |
	jq '(.[0].formatted // .[0]).value.abi_version')" "$OLD_ABI" "the gateway runs ABI $OLD_ABI"

# The count can fail: before the ban, the prober gets SYN-ACKs.
probe_start
rg_wait_for 30 probe_sent_ge 20 || fail "the prober sends nothing: $(cat "$RG_TMP/probe.out")"
probe_stop
assert_gt "$synacks" 0 "before its ban the prober counts SYN-ACKs ($synacks of $sent SYNs)"

e2e_relay_attempt
rg_wait_for 10 e2e_ban4 "$LAB_AT4" || fail "the old daemon did not ban $LAB_AT4: $(e2e_daemon_log)"
ban0=$(e2e_ban4 "$LAB_AT4")
ok "the old daemon banned the prober: $(jq -c . <<<"$ban0")"
# A ban as a CrowdSec list decision leaves it (origin "lists", its name in
# origin_tag, reason imported), written raw in ABI 3's struct rg_ban (ABI 4
# appended a mark: zero, it never matches).
CS_SRC=10.77.0.99
hex=$("$SYS_PY" -c 'import struct, sys
c = int(sys.argv[1])
v = struct.pack("<QQQQIIB7s", c + 3600 * 10**9, 5, c, c + 1, 11, 4, 5, b"tor-ex")
v += bytes(8 if int(sys.argv[2]) >= 4 else 0)
print(" ".join("%02x" % b for b in v))' "$(jq .created_ns <<<"$ban0")" "$OLD_ABI")
# shellcheck disable=SC2086
rg_in "$LAB_NS_GW" bpftool map update pinned "$PIN/bans4" key ${CS_SRC//./ } \
	value hex $hex || fail "cannot write the CrowdSec ban"
cs0=$(e2e_ban4 "$CS_SRC") || fail "the CrowdSec ban is not there"
assert_eq "$(jq -c '[.origin, .origin_tag]' <<<"$cs0")" '[5,"tor-ex"]' \
	"a CrowdSec lists ban sits beside it"

# Sessions open across the upgrade: each has sent its first RCPT and
# holds until $RG_TMP/go exists.
read -r atk atk2 < <("$LAB" pool "$LAB_PREFIX" 2 | tr '\n' ' ')
e2e_session "$LAB_NS_CL" --server "$LAB_GW4" --sender client@lab.test \
	--timeout 5 --rcpt user@example.test --hold "$RG_TMP/go" \
	--rcpt user@example.test --data >"$RG_TMP/legit.out" 2>&1 &
LEGIT_PID=$!
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --src "$atk" --timeout 2 --pause 0.3 \
	--rcpt user@example.test --hold "$RG_TMP/go" --rcpt victim@gmail.com \
	--rcpt victim2@gmail.com >"$RG_TMP/attack.out" 2>&1 &
ATTACK_PID=$!
# A third one makes its relay attempt while no daemon runs (the old
# programs sample it into their ring), then holds again.
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --src "$atk2" --timeout 2 --pause 0.3 \
	--rcpt user@example.test --hold "$RG_TMP/gap" --rcpt victim@gmail.com \
	--hold "$RG_TMP/go" --rcpt victim2@gmail.com >"$RG_TMP/gap.out" 2>&1 &
GAP_PID=$!
rg_on_exit "touch '$RG_TMP/gap' '$RG_TMP/go'; kill $LEGIT_PID $ATTACK_PID $GAP_PID"
held() { # FILE N: the session of FILE holds for the Nth time
	[ "$(grep -c '^hold' "$1")" -ge "$2" ]
}
for f in legit attack gap; do
	rg_wait_for 20 held "$RG_TMP/$f.out" 1 || fail "session not open: $(cat "$RG_TMP/$f.out")"
done
ok "a legitimate and two attackers' sessions are open on ABI $OLD_ABI"

probe_start
rg_wait_for 30 probe_sent_ge 50 || fail "the prober stalled"

# This build's ctl does not touch maps of the old ABI under a running daemon.
assert_fails "ban list of this build on old maps is refused" e2e_ctl ban list
assert_fails "attach of this build is refused while the old daemon runs" \
	e2e_ctl attach "$LAB_IF_GW"
assert_match "$(e2e_ctl attach "$LAB_IF_GW" 2>&1)" "relayguardd \\(pid $OLD_PID\\) runs on them" \
	"the refusal names the daemon"

# rl_used CTL...: SYN buckets in use in the ratelimit map, per CTL's status.
rl_used() {
	"$@" -j status | jq -e '.maps[] | select(.name == "ratelimit") | .entries'
}
old_ctl() { rg_in "$LAB_NS_GW" "$OLD/build/relayguardctl" --pin-dir "$PIN" "$@"; }
rl_before=$(rl_used old_ctl) || fail "the old ctl shows no ratelimit map"
assert_gt "$rl_before" 2 "the client's and the attackers' SYN buckets are in use on ABI $OLD_ABI"

# The prober's ban as the upgrade finds it, once its SYNs have hit it
# (right after the ban they may not have: first_hit_ns 0 then).
ban_hit() { e2e_ban4 "$LAB_AT4" | jq -e '.first_hit_ns > 0' >/dev/null; }
rg_wait_for 10 ban_hit || fail "the prober's SYNs never hit its ban on ABI $OLD_ABI"
ban_before=$(e2e_ban4 "$LAB_AT4")

# The upgrade: the old daemon stops (programs and maps stay), the new one
# starts on the same pin dir.
kill -TERM "$OLD_PID"
rg_wait_for 20 sh -c "! kill -0 $OLD_PID" || fail "the old daemon did not stop"
assert_ok "the old programs stay attached while no daemon runs" e2e_attached
touch "$RG_TMP/gap"
rg_wait_for 20 held "$RG_TMP/gap.out" 2 || fail "no relay attempt in the gap: $(cat "$RG_TMP/gap.out")"
assert_eq "$(grep '^RCPT' "$RG_TMP/gap.out" | tail -n 1)" "RCPT 554" \
	"a relay attempt while no daemon runs is refused by Postfix"
RG_DAEMON=$NEW_DAEMON e2e_daemon enforce relay_attempts_ban=1
sent_at_start=$(cut -d' ' -f1 "$RG_TMP/probe.progress")
assert_eq "$(rg_in "$LAB_NS_GW" bpftool -j map dump pinned "$PIN/config" |
	jq '(.[0].formatted // .[0]).value.abi_version')" "$NEW_ABI" "the pinned maps are ABI $NEW_ABI now"
swap=$(grep -o "migrated from ABI $OLD_ABI to $NEW_ABI.*" "$E2E_DAEMON_LOG") ||
	fail "no migration in the new daemon's log: $(e2e_daemon_log)"
ok "$swap"
# Only the banned prober sends SYNs now: at most its bucket is in use.
rl_after=$(rl_used e2e_ctl) || fail "no ratelimit map in the status"
assert_gt 2 "$rl_after" "no SYN bucket of ABI $OLD_ABI carried ($rl_after in use, $rl_before before)"
rg_wait_for 30 probe_sent_ge $((sent_at_start + 100)) || fail "the prober stalled"

touch "$RG_TMP/go"
wait "$LEGIT_PID" "$ATTACK_PID" "$GAP_PID"
probe_stop
assert_gt "$sent" 150 "the prober kept probing across the upgrade ($sent SYNs)"
assert_eq "$synacks" 0 "no SYN-ACK reached the banned prober"

# same_ban BEFORE AFTER WHAT FIELD...: AFTER has BEFORE's value of each.
same_ban() {
	local before=$1 after=$2 what=$3 f
	shift 3
	for f in "$@"; do
		assert_eq "$(jq -c ".$f" <<<"$after")" "$(jq -c ".$f" <<<"$before")" \
			"$what keeps its $f"
	done
}
ban1=$(e2e_ban4 "$LAB_AT4") || fail "the prober's ban is gone"
same_ban "$ban_before" "$ban1" "the prober's ban" expires_ns created_ns first_hit_ns \
	reason offences origin origin_tag
cs1=$(e2e_ban4 "$CS_SRC") || fail "the CrowdSec ban is gone"
same_ban "$cs0" "$cs1" "the CrowdSec ban" expires_ns created_ns first_hit_ns \
	hits reason offences origin origin_tag
assert_gt "$(jq .hits <<<"$ban1")" "$(jq .hits <<<"$ban_before")" \
	"the carried ban counts the prober's SYNs"

cat "$RG_TMP/legit.out"
assert_eq "$(grep -c '^RCPT 250' "$RG_TMP/legit.out")" 2 \
	"the legitimate session's recipients were accepted on both sides of the upgrade"
assert_match "$(cat "$RG_TMP/legit.out")" 'EOM 250' "the legitimate message was queued"
assert_ok "and delivered" rg_wait_for 20 e2e_maildir_ge 1

# assert_cut OUT SRC WHAT: the session transcript OUT (a local RCPT, then
# foreign ones) was cut after its first relay attempt, SRC banned for it
# by the new daemon, with its event.
assert_cut() {
	cat "$1"
	assert_eq "$(grep '^RCPT' "$1" | tr '\n' ,)" "RCPT 250,RCPT 554,RCPT timeout," "$3"
	ban=$(e2e_ban4 "$2") || fail "no ban for $2: $(e2e_daemon_log)"
	assert_eq "$(jq .reason <<<"$ban")" 2 "$2 banned for relay_attempt"
	assert_ok "the new daemon logged the ban of $2 with its evidence" rg_wait_for 10 \
		e2e_has_event ".action == \"ban\" and .source == \"$2\" and .rcpt_to == \"victim@gmail.com\""
}
assert_cut "$RG_TMP/attack.out" "$atk" \
	"the attacker's session from before the upgrade is cut after its relay attempt"
assert_cut "$RG_TMP/gap.out" "$atk2" \
	"the attempt made during the upgrade (read from the old ring) cuts its session"

assert_fails "no upgrade leftovers in the pin dir" test -e "$PIN/upgrading"
assert_ok "legitimate client delivers after the upgrade" e2e_legit_delivery after

# relayguardctl attach migrates too (no daemon: it loads the programs).
kill -TERM "$E2E_DAEMON_PID"
rg_wait_for 20 sh -c "! kill -0 $E2E_DAEMON_PID" || fail "relayguardd did not stop"
e2e_ctl detach "$LAB_IF_GW" --purge >/dev/null || fail "cannot purge"
old_ctl attach "$LAB_IF_GW" >/dev/null || fail "the old ctl cannot attach"
old_ctl ban add "$CS_SRC" for 1h >/dev/null || fail "the old ctl cannot ban"
ban0=$(e2e_ban4 "$CS_SRC")
assert_ok "relayguardctl attach of this build on old maps" e2e_ctl attach "$LAB_IF_GW"
same_ban "$ban0" "$(e2e_ban4 "$CS_SRC")" "a ban carried by relayguardctl attach" \
	expires_ns reason offences origin
assert_match "$(e2e_ctl status)" 'xdp yes.*tc egress yes' "both programs attached"
rg_done
