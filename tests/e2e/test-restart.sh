#!/usr/bin/env bash
# relayguardd killed with SIGKILL: XDP keeps dropping the banned attacker and
# the ban stays in the pinned map; restarted, the daemon resumes with the same
# ban (same expiry) and bans new attempts again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
e2e_start strict enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail

e2e_relay_attempt
ban=$(rg_wait_for 2 e2e_ban4 "$LAB_AT4" && e2e_ban4 "$LAB_AT4") ||
	fail "attacker not banned: $(e2e_daemon_log)"
expires=$(jq .expires_ns <<<"$ban")

kill -9 "$E2E_DAEMON_PID"
rg_wait_for 5 sh -c "! kill -0 $E2E_DAEMON_PID" || fail "relayguardd survived SIGKILL"
ok "relayguardd killed with SIGKILL"
assert_ok "XDP still attached with the daemon dead" e2e_attached
e2e_assert_dropped "banned attacker still cannot connect" \
	"drop_ban rose with the daemon dead"
assert_eq "$(e2e_ban4 "$LAB_AT4" | jq .expires_ns)" "$expires" "the ban is unchanged"
assert_ok "legitimate client delivers with the daemon dead" e2e_legit_delivery dead

e2e_daemon enforce relay_attempts_ban=1 # one attempt bans: this test is not about misdirected mail
assert_eq "$(e2e_ban4 "$LAB_AT4" | jq .expires_ns)" "$expires" "restarted: the same ban, same expiry"
assert_match "$(e2e_ctl ban list)" "$LAB_AT4" "relayguardctl ban list shows it"
e2e_assert_dropped "still dropped after the restart" \
	"drop_ban rose after the restart"

src=$("$LAB" pool "$LAB_PREFIX" 1)
e2e_relay_attempt --src "$src"
assert_ok "the restarted daemon bans a new attempt ($src)" rg_wait_for 2 e2e_ban4 "$src"
assert_ok "legitimate client delivers after the restart" e2e_legit_delivery restarted
rg_done
