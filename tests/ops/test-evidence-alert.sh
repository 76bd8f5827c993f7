#!/usr/bin/env bash
# In front of a real Postfix misconfigured as an open relay (the lab's
# "open" variant): the attacker's relayed RCPT is accepted by Postfix, so
# relayguardd raises a critical alert, runs alert_command (no shell) with
# the event JSON on its stdin, bans the source, and keeps the sampled
# session as evidence: a .pcap.gz that tshark reads and in which it finds the
# SMTP dialogue. The reaction-time histogram in the metrics file counts the
# ban, and the file still passes promtool.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
for f in tshark promtool postfix swaks; do
	command -v "$f" >/dev/null || fail "$f is not installed: make deps"
done
M="$RG_TMP/relayguard.prom"
ALERT_OUT="$RG_TMP/alert.json"
ops_lab open "alert_command=/usr/bin/tee -a $ALERT_OUT" alert_timeout=5s \
	metrics_interval=1s
ops_start --metrics-file "$M"
rg_wait_for 5 ops_attached || fail "not attached"

ops_session "$LAB_NS_AT" --server "$LAB_GW4" --pause 0.3 --timeout 2 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com >"$RG_TMP/attack.out"
cat "$RG_TMP/attack.out"
assert_match "$(sed -n 5p "$RG_TMP/attack.out")" '^RCPT 250$' \
	"the open relay accepted the foreign recipient"

# The alert command got the event on stdin.
rg_wait_for 5 test -s "$ALERT_OUT" || fail "alert_command wrote nothing: $(tail "$OPS_CUR_LOG")"
ok "alert_command ran"
alert=$(head -n 1 "$ALERT_OUT")
echo "$alert"
assert_eq "$(jq -r .action <<<"$alert")" alert "alert JSON: action alert"
assert_eq "$(jq -r .reason <<<"$alert")" relay_accepted "alert JSON: reason relay_accepted"
assert_eq "$(jq -r .source <<<"$alert")" "$LAB_AT4" "alert JSON: source is the attacker"
assert_match "$(jq -r .rcpt_to <<<"$alert")" 'victim@gmail.com' "alert JSON: the relayed recipient"
assert_match "$(cat "$OPS_CUR_LOG")" "CRITICAL: relay_accepted from $LAB_AT4" "critical line in the log"

# The ban and its evidence.
rg_wait_for 5 grep -q '"action":"ban"' "$OPS_EVENTS" || fail "no ban event"
ban=$(grep '"action":"ban"' "$OPS_EVENTS" | head -n 1)
echo "$ban"
pcap=$(jq -r .evidence <<<"$ban")
[ -f "$pcap" ] || fail "evidence file '$pcap' missing"
ok "ban event names its evidence file ($(stat -c %s "$pcap") bytes)"
assert_eq "$(jq -r .evidence <<<"$alert")" "$pcap" \
	"the alert names the same file (decided on the same sample: one pcap)"
case $pcap in "$OPS_STATE"/evidence/*.pcap.gz) ok "evidence under state_dir/evidence" ;;
*) fail "evidence at $pcap" ;; esac
reaction=$(jq -r .reaction_us <<<"$ban")
echo "# reaction: $reaction us (sample to ban in the map)"
assert_match "$reaction" '^[0-9]+$' "ban event has reaction_us"
tshark -r "$pcap" -Y smtp -T fields -e ip.src -e smtp.req.command \
	-e smtp.req.parameter -e smtp.response.code 2>/dev/null >"$RG_TMP/dialogue"
cat "$RG_TMP/dialogue"
assert_match "$(cat "$RG_TMP/dialogue")" "RCPT	TO:<victim@gmail.com>" "tshark shows the RCPT TO line"
assert_match "$(cat "$RG_TMP/dialogue")" "MAIL	FROM:" "tshark shows MAIL FROM"
assert_match "$(cat "$RG_TMP/dialogue")" "$LAB_GW4			220" "tshark shows the server's greeting"
bad=$(tshark -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-Y 'tcp.checksum.status != 1 || ip.checksum.status == 0' 2>/dev/null | wc -l)
assert_eq "$bad" 0 "every IP and TCP checksum in the evidence is good"

# The ban stopped reading the client, not the server: the data plane was
# told to stop sampling that flow's client side (RG_FLOW_STOP_IN in its
# `flows` entry); the server's replies are read until the flow ends.
stopped=$(rg_in "$OPS_NS" bpftool -j map dump pinned "$PIN/flows" |
	jq '[.[].formatted | select((.value.flags / 32 | floor) % 2 == 1)] | length')
assert_gt "$stopped" 0 "a flow entry carries RG_FLOW_STOP_IN"

# Metrics: the ban is in the reaction histogram; still valid.
rg_wait_for 5 sh -c "awk '\$1 == \"relayguard_reaction_seconds_count\" && \$2 >= 1' '$M' | grep -q ." ||
	fail "reaction histogram did not count the ban: $(grep reaction "$M")"
ok "reaction histogram counted the ban"
grep '^relayguard_reaction_seconds' "$M"
assert_ok "promtool check metrics" sh -c "promtool check metrics <'$M'"
ops_stop
rg_done
