#!/usr/bin/env bash
# relayguardd --replay on the real lab captures (../shared/testdata, see its
# README): each gives the decision the README names, as JSON lines checked
# with jq. Also: a bad config is refused with FILE:LINE, a bad capture with
# a one-line error.
. "$(dirname "$0")/../lib.sh"

data="$RG_TOP/../shared/testdata"
[ -d "$data" ] || { echo "SKIP: no $data"; exit 77; }
[ -x "$RG_DAEMON" ] || { echo "SKIP: $RG_DAEMON not built"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }

conf="$RG_TMP/lab.conf"
cat >"$conf" <<'CONF'
# the lab of ../shared/testdata/README.md
local_domains    = example.test
trusted_networks = 10.77.1.0/24
smtp_ports       = 25
CONF

replay() { # FILE -> decisions in $RG_TMP/out.json
	"$RG_DAEMON" --replay "$data/$1" -c "$conf" >"$RG_TMP/out.json" 2>"$RG_TMP/err" ||
		fail "replay of $1 failed: $(cat "$RG_TMP/err")"
	jq -e . "$RG_TMP/out.json" >/dev/null 2>&1 || [ ! -s "$RG_TMP/out.json" ] ||
		fail "replay of $1 printed something that is not JSON lines"
}

count() { # JQ-FILTER: how many decisions match
	jq -c "select($1)" "$RG_TMP/out.json" | wc -l
}

# One refused plain foreign recipient looks exactly like a misdirected
# delivery: a finding under the default relay_attempts_ban = 2.
replay a-swaks-relay-denied.pcap
assert_eq "$(count '.action == "finding" and .source == "10.77.0.66" and .reason == "relay_attempt"')" 1 \
	"relay denied: a relay_attempt finding for 10.77.0.66"
assert_eq "$(count '.action == "ban"')" 0 "relay denied once: no ban (relay_attempts_ban = 2)"
assert_eq "$(count '.action == "alert"')" 0 "relay denied: no alert"
assert_eq "$(jq -r 'select(.action == "finding") | [.rcpt_to, .helo, .mail_from] | join(" ")' "$RG_TMP/out.json")" \
	"victim@gmail.com vm a@spam.example" "relay denied: the finding names rcpt, helo and sender"
assert_match "$(jq -r 'select(.action == "finding") | .reply' "$RG_TMP/out.json")" '^554 5\.7\.1 .*Relay access denied' \
	"relay denied: the server's reply is in the finding"

# relay_attempts_ban = 1, the behaviour before: the same capture bans.
echo "relay_attempts_ban = 1" >>"$conf"
replay a-swaks-relay-denied.pcap
sed -i '/relay_attempts_ban/d' "$conf"
assert_eq "$(count '.action == "ban" and .source == "10.77.0.66" and .reason == "relay_attempt"')" 1 \
	"relay_attempts_ban = 1: 10.77.0.66 banned for relay_attempt"
assert_match "$(jq -r 'select(.action == "ban") | "\(.duration) \(.expires) \(.flow)"' "$RG_TMP/out.json")" \
	'^3600 20[0-9-]+T[0-9:.]+Z 10\.77\.0\.66:[0-9]+ -> 10\.77\.0\.1:25$' "relay denied: duration, expires and flow"

replay a-open-swaks-relay-accepted.pcap
assert_eq "$(count '.action == "ban" and .source == "10.77.0.66" and .reason == "relay_accepted"')" 1 \
	"open relay: 10.77.0.66 banned"
assert_eq "$(count '.action == "alert" and .source == "10.77.0.66" and .reason == "relay_accepted"')" 1 \
	"open relay: critical alert raised"
assert_match "$(jq -r 'select(.action == "alert") | .reply' "$RG_TMP/out.json")" '^250' \
	"open relay: the alert carries the server's 250"

replay c-legit-delivery.pcap
assert_eq "$(count '.action == "ban"')" 0 "legit delivery: no ban"
assert_eq "$(count '.action == "finding"')" 0 "legit delivery: no finding"

replay trust-relay-accepted.pcap
assert_eq "$(count '.action == "ban"')" 0 "trusted relay: no ban"
assert_eq "$(count '.action == "alert"')" 0 "trusted relay: no open-relay alert"

# The verdict comes from the policy: without the trusted network the same
# capture is an open relay.
sed -i '/trusted_networks/d' "$conf"
replay trust-relay-accepted.pcap
assert_eq "$(count '.action == "alert" and .source == "10.77.1.5"')" 1 \
	"untrusted, the same capture raises the open-relay alert"

# Bad input: one-line errors, non-zero exits.
printf 'local_domains = example.test\nban_time = soon\n' >"$RG_TMP/bad.conf"
assert_fails "a bad config is refused" "$RG_DAEMON" --replay "$data/c-legit-delivery.pcap" -c "$RG_TMP/bad.conf"
assert_match "$(cat "$RG_TMP/out")" "bad.conf:2: .*ban_time" "the error names file:line and the key"
assert_fails "a missing capture is refused" "$RG_DAEMON" --replay "$RG_TMP/none.pcap" -c "$conf"
assert_match "$(cat "$RG_TMP/out")" "none.pcap" "the error names the capture"
rg_done
