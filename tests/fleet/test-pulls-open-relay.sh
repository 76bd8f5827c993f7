#!/usr/bin/env bash
# Fleet pulls never stall a ban. The gateway's Postfix is an open relay, the
# attacker 20 ms away (NFQUEUE delay, tests/tools/nfq_delay), and the
# gateway pulls whole sets of 100,000 decisions from a private LAPI (one
# after each short outage of the LAPI: a failed pull makes the next one a
# whole set) while the attacker makes a relay attempt every 100 ms, each
# from a fresh address. Every attempt is cut off in-session, during the
# pulls as between them: its source banned, its message never queued. A
# whole set applied in one piece (~1 s) would leave the replies of the
# attempts it meets waiting in the ring while their messages are queued.
# Timing is not asserted here: tests/bench/bench-crowdsec.sh measures it.
. "$(dirname "$0")/fleet.sh"
N=${N:-100000}
CYCLES=${CYCLES:-3}
fleet_require

fleet_open_relay
fleet_import "$N"
# a bouncer only: the machine would push every ban back as news
fleet_daemon 1 crowdsec_machine_id= crowdsec_machine_password_file=
assert_ok "the startup whole set of $N is applied" rg_wait_for 120 fleet_bans_from_cs "$N"
fleet_open_relay_attacker

sets0=$(fleet_whole_sets)
fleet_attempts_start pulls 0 3000
for ((c = 0; c < CYCLES; c++)); do
	fleet_force_whole_set
done
fleet_attempts_stop pulls
sets=$(($(fleet_whole_sets) - sets0))
A="$RG_TMP/pulls.attempts"
n=$(grep -c '^10\.' "$A")
echo "# $n relay attempts while the gateway applied $sets whole sets of $N decisions; how they ended:"
awk '{ print "#", $(NF - 1), $NF }' "$A" | sort | uniq -c | sort -rn
assert_gt "$sets" $((CYCLES - 1)) "whole sets applied while the attempts ran"
assert_gt "$n" 99 "attempts made (one every 100 ms)"
accepted=$(grep -c ' RCPT 250' "$A")
assert_gt "$accepted" $((n * 9 / 10)) "the open relay accepted the foreign recipients (test is meaningful)"

assert_eq "$(grep -c 'EOM 250' "$A")" 0 "no attempt got its message accepted"
assert_eq "$(e2e_queue_count)" 0 "postqueue: the queue is empty"
assert_eq "$(grep -cE 'postfix/(cleanup|qmgr).*(message-id|from=)' "$LAB_MAILLOG")" 0 \
	"maillog: no message reached cleanup or the queue manager"
unbanned=0
while read -r src _; do
	e2e_ban4 "$src" >/dev/null || unbanned=$((unbanned + 1))
done < <(grep '^10\..* RCPT 250' "$A")
assert_eq "$unbanned" 0 "every address whose foreign RCPT was accepted is banned"
echo "# attempts cut off before DATA: $(grep -c 'DATA timeout' "$A"), after: $(grep -c 'DATA 354' "$A")"
rg_done
