#!/usr/bin/env bash
# Two gateways share bans through a CrowdSec LAPI private to this test. A
# prober banned on gw1 is dropped at gw2's XDP within 5 s (an IPv6 one by
# its /64, pushed as a Range); `cscli decisions add -i` and `-r` (a /24 as
# bans, a /12 in the deny tries) are enforced on both and `cscli decisions
# delete` lifts them, but never a local ban of the same address; with the
# LAPI killed both keep enforcing, and a ban made meanwhile on gw1 reaches
# gw2 once the LAPI is back; a reload with new LAPI keys keeps it working.
. "$(dirname "$0")/fleet.sh"
fleet_require

fleet_lapi
fleet_gw 1 strict
fleet_gw 2 none
"$LAB" pool "f$$1" 2 >/dev/null # attacker of gw1: 10.77.16.2, .3
"$LAB" pool "f$$2" 2 >/dev/null # attacker of gw2: the same addresses
fleet_daemon 1
fleet_daemon 2

state_is() { # ROLE STATE: the current gateway's crowdsec.state says so
	grep -qx "$1=$2" "$FLEET_GW_DIR/crowdsec.state"
}
# pulled_since T: the current gateway applied an answer of the LAPI at
# least a second after unix time T (pulls are a second apart: one made
# after T) and has no alert waiting to be pushed.
pulled_since() {
	fleet_ctl -j status |
		jq -e ".crowdsec.last_pull > $1 + 1 and .crowdsec.alerts_queued == 0"
}
for n in 1 2; do
	fleet_use $n
	assert_ok "gw$n: bouncer up" rg_wait_for 20 state_is bouncer up
	assert_ok "gw$n: machine logged in" rg_wait_for 20 state_is machine up
done

# --- a prober banned on gw1 is dropped at gw2's XDP within 5 s ---------
fleet_use 2
assert_eq "$(fleet_syn "$LAB_GW4" 25)" refused \
	"gw2: before, the prober's SYN reaches the gateway (no listener: RST)"
fleet_use 1
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --pause 0.3 --timeout 2 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com >"$RG_TMP/attack.out"
e2e_ban4 "$LAB_AT4" >/dev/null || fail "gw1 did not ban $LAB_AT4: $(e2e_daemon_log)"
assert_eq "$(fleet_origin4 "$LAB_AT4")" local "gw1: the ban is local"
fleet_use 2
assert_ok "gw2 has the ban of $LAB_AT4 within 5 s" rg_wait_for 5 e2e_ban4 "$LAB_AT4"
assert_eq "$(fleet_origin4 "$LAB_AT4")" crowdsec:crowdsec \
	"gw2: the ban came from CrowdSec (gw1's alert)"
drops0=$(e2e_stat drop_ban)
assert_eq "$(fleet_syn "$LAB_GW4" 25)" timeout "gw2: the prober's SYN is dropped"
assert_gt "$(e2e_stat drop_ban)" "$drops0" "gw2: drop_ban rose"
t=$(date +%s)
fleet_use 1
assert_ok "gw1 pulled since: its own alert's decision came back" rg_wait_for 10 pulled_since "$t"
assert_eq "$(fleet_origin4 "$LAB_AT4")" local \
	"gw1: its own ban coming back from the LAPI stays local (no loop)"
assert_eq "$(fleet_cscli alerts list -o json | jq '[.[] | select(.scenario == "relayguard/relay_attempt")] | length')" 1 \
	"the LAPI holds exactly one relayguard alert (nothing pushed back)"

# --- an IPv6 prober: its /64 travels as a Range --------------------------
fleet_use 1
e2e_session "$LAB_NS_AT" --src "$LAB_AT6" --server "$LAB_GW6" --pause 0.3 \
	--timeout 2 --rcpt victim@gmail.com --rcpt victim2@gmail.com >/dev/null
e2e_ban6 fd77:: >/dev/null || fail "gw1 did not ban fd77::/64: $(e2e_daemon_log)"
fleet_use 2
assert_ok "gw2 has the ban of fd77::/64 within 5 s" rg_wait_for 5 e2e_ban6 fd77::
assert_eq "$(fleet_origin4 fd77::/64)" crowdsec:crowdsec "gw2: the /64 came from CrowdSec"
assert_eq "$(fleet_syn "$LAB_GW6" 25 "$LAB_AT6")" timeout "gw2: the IPv6 prober's SYN is dropped"
assert_eq "$(fleet_syn "$LAB_GW6" 25 "$LAB_AT6B")" refused "gw2: another /64 passes"
assert_eq "$(fleet_cscli decisions list -o json | jq -r '[.[].decisions[] | select(.value == "fd77::/64") | .scope] | first')" \
	Range "the LAPI holds the /64 as a Range decision"

# --- cscli decisions add -i / -r, then delete ---------------------------
fleet_cscli decisions add -i 10.77.16.2 -d 1h >/dev/null 2>&1 || fail "cscli add -i"
fleet_cscli decisions add -r 10.77.17.0/24 -d 1h >/dev/null 2>&1 || fail "cscli add -r"
for n in 1 2; do
	fleet_use $n
	assert_ok "gw$n: -i 10.77.16.2 enforced" rg_wait_for 5 e2e_ban4 10.77.16.2
	assert_ok "gw$n: -r 10.77.17.0/24 enforced (first)" rg_wait_for 5 e2e_ban4 10.77.17.0
	assert_ok "gw$n: -r 10.77.17.0/24 enforced (last)" rg_wait_for 5 e2e_ban4 10.77.17.255
	assert_eq "$(fleet_origin4 10.77.17.9)" crowdsec:cscli "gw$n: origin crowdsec:cscli"
done
fleet_use 2
drops0=$(e2e_stat drop_ban)
assert_eq "$(fleet_syn "$LAB_GW4" 25 10.77.16.2)" timeout "gw2: 10.77.16.2's SYN dropped"
assert_gt "$(e2e_stat drop_ban)" "$drops0" "gw2: drop_ban rose for 10.77.16.2"
assert_eq "$(fleet_syn "$LAB_GW4" 25 10.77.16.3)" refused "gw2: 10.77.16.3 (not banned) passes"

fleet_cscli decisions delete -i 10.77.16.2 >/dev/null 2>&1 || fail "cscli delete -i"
fleet_cscli decisions delete -r 10.77.17.0/24 >/dev/null 2>&1 || fail "cscli delete -r"
gone() { ! e2e_ban4 "$1"; }
for n in 1 2; do
	fleet_use $n
	assert_ok "gw$n: delete -i lifted 10.77.16.2" rg_wait_for 5 gone 10.77.16.2
	assert_ok "gw$n: delete -r lifted the /24" rg_wait_for 5 gone 10.77.17.255
	assert_fails "gw$n: nothing of the /24 left" e2e_ban4 10.77.17.7
done
fleet_use 2
assert_eq "$(fleet_syn "$LAB_GW4" 25 10.77.16.2)" refused "gw2: 10.77.16.2 passes again"

# --- a range too wide to expand (a /12): the deny tries, then lifted -----
denied() { fleet_ctl -j deny list | jq -e --arg p "$1" 'index($p) != null'; }
not_denied() { ! denied "$1"; }
fleet_cscli decisions add -r 10.80.0.0/12 -d 1h >/dev/null 2>&1 || fail "cscli add -r /12"
for n in 1 2; do
	fleet_use $n
	assert_ok "gw$n: 10.80.0.0/12 in the deny list" rg_wait_for 5 denied 10.80.0.0/12
done
ip -n "$LAB_NS_AT" addr add 10.80.0.5/32 dev "${LAB_PREFIX}at0"
drops0=$(e2e_stat drop_deny)
fleet_syn "$LAB_GW4" 25 10.80.0.5 >/dev/null
assert_gt "$(e2e_stat drop_deny)" "$drops0" "gw2: a SYN from 10.80.0.5 dropped (drop_deny)"
fleet_cscli decisions delete -r 10.80.0.0/12 >/dev/null 2>&1 || fail "cscli delete -r /12"
for n in 1 2; do
	fleet_use $n
	assert_ok "gw$n: the /12 left the deny list" rg_wait_for 5 not_denied 10.80.0.0/12
done

# --- the LAPI down: both keep enforcing; a ban made meanwhile travels ----
fleet_lapi_kill
for n in 1 2; do
	fleet_use $n
	assert_ok "gw$n: notices the LAPI is gone" rg_wait_for 20 state_is bouncer unreachable
	assert_ok "gw$n: still holds the ban of $LAB_AT4" e2e_ban4 "$LAB_AT4"
done
fleet_use 2
drops0=$(e2e_stat drop_ban)
assert_eq "$(fleet_syn "$LAB_GW4" 25)" timeout "gw2: prober still dropped with the LAPI down"
assert_gt "$(e2e_stat drop_ban)" "$drops0" "gw2: drop_ban rose with the LAPI down"
fleet_use 1
e2e_session "$LAB_NS_AT" --src 10.77.16.3 --server "$LAB_GW4" --pause 0.3 \
	--timeout 2 --rcpt victim@gmail.com --rcpt victim2@gmail.com >/dev/null
assert_ok "gw1 bans 10.77.16.3 with the LAPI down" e2e_ban4 10.77.16.3
assert_match "$(fleet_ctl status)" 'alerts_queued +1' "gw1: the alert waits in the queue"
fleet_use 2
assert_fails "gw2 does not have it yet" e2e_ban4 10.77.16.3
fleet_lapi_start
assert_ok "gw2 gets the ban made during the outage" rg_wait_for 90 e2e_ban4 10.77.16.3
assert_eq "$(fleet_origin4 10.77.16.3)" crowdsec:crowdsec "gw2: from CrowdSec"
assert_eq "$(fleet_syn "$LAB_GW4" 25 10.77.16.3)" timeout "gw2: 10.77.16.3 dropped"
assert_ok "gw2: bouncer up again" rg_wait_for 20 state_is bouncer up

# --- a deletion lifts what came from CrowdSec, never a local ban --------
fleet_cscli decisions delete -i "$LAB_AT4" >/dev/null 2>&1 || fail "cscli delete prober"
fleet_use 2
assert_ok "gw2: the prober's ban from CrowdSec is lifted" rg_wait_for 5 gone "$LAB_AT4"
t=$(date +%s)
fleet_use 1
assert_ok "gw1 pulled since: the deletion came to it too" rg_wait_for 10 pulled_since "$t"
assert_ok "gw1: its local ban of the prober stays" e2e_ban4 "$LAB_AT4"
assert_eq "$(fleet_origin4 "$LAB_AT4")" local "gw1: still local"

# --- status and metrics ---------------------------------------------------
fleet_use 2
st=$(fleet_ctl -j status)
assert_eq "$(jq -r .crowdsec.bouncer <<<"$st")" up "gw2: ctl status shows the bouncer up"
assert_gt "$(jq -r .crowdsec.last_pull <<<"$st")" 0 "gw2: ctl status shows the last pull"
assert_eq "$(jq -r .crowdsec.bans_from_crowdsec <<<"$st")" 2 \
	"gw2: ctl status counts the bans from CrowdSec (10.77.16.3, fd77::/64)"
assert_ok "gw2: metrics count decisions" rg_wait_for 10 grep -q \
	'relayguard_crowdsec_decisions_total{what="applied"} [1-9]' "$FLEET_GW_DIR/metrics.prom"

# --- a reload with new LAPI keys: a new client, decisions still flow ------
fleet_conf 2 crowdsec_poll_interval=2s
kill -HUP "$FLEET_PID_2"
assert_ok "gw2 reloads" rg_wait_for 10 grep -q "reloaded" "$E2E_DAEMON_LOG"
fleet_cscli decisions add -i 10.77.16.9 -d 1h >/dev/null 2>&1 || fail "cscli add after reload"
assert_ok "gw2 applies decisions after the reload" rg_wait_for 10 e2e_ban4 10.77.16.9
assert_ok "gw2 keeps the ban from CrowdSec it had" e2e_ban4 10.77.16.3
rg_done
