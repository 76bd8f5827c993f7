#!/usr/bin/env bash
# A session that ends in DATA stops sampling of its 4-tuple; a new
# connection reusing the same source port must be sampled again (the
# server's SYN-ACK restarts the flow entry), or an attacker could deliver
# one clean message and then slip a relay attempt through unseen.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

port=41025
e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --sport $port --data \
	--rcpt user@example.test >"$RG_TMP/clean.out"
cat "$RG_TMP/clean.out"
assert_eq "$(grep -c '^EOM 250' "$RG_TMP/clean.out")" 1 \
	"a clean message from port $port is accepted"
assert_fails "no ban after the clean message" e2e_ban4 "$LAB_AT4"

e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --sport $port --pause 0.3 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com >"$RG_TMP/attack.out"
cat "$RG_TMP/attack.out"
assert_eq "$(grep -c '^connect ok' "$RG_TMP/attack.out")" 1 \
	"the second connection reused port $port"
assert_ok "the relay attempt on the reused 4-tuple is banned" \
	rg_wait_for 10 e2e_ban4 "$LAB_AT4"
assert_eq "$(grep -c '^RCPT timeout' "$RG_TMP/attack.out")" 1 \
	"banned inside that session"
rg_done
