# shellcheck shell=bash
# Helpers for the policy service tests (tests/policy/test-*.sh), on top of
# tests/e2e/e2e.sh. Source after it.

# policy_listening: relayguardd says its policy service listens.
policy_listening() {
	grep -q "policy service listening" "$E2E_DAEMON_LOG"
}

# policy_daemon MODE [KEY=VALUE...]: e2e_daemon with the lab's policy
# service (lab up ... policy), waiting until it listens.
policy_daemon() {
	e2e_daemon "$@"
	rg_wait_for 10 policy_listening ||
		fail "the policy service does not listen: $(e2e_daemon_log)"
}

# policy_session NS ARGS...: smtp_session.py against the gateway.
policy_session() {
	local ns=$1
	shift
	e2e_session "$ns" --server "$LAB_GW4" "$@"
}

# A STARTTLS delivery from the legitimate client to a local user; fails
# unless Postfix queued it (swaks --tls).
policy_legit_tls() {
	e2e_swaks "$LAB_NS_CL" --server "$LAB_GW4" --tls --timeout 15 \
		--from client@lab.test --to user@example.test \
		--header "Subject: legit tls $1" >"$RG_TMP/legit-tls.out" 2>&1 &&
		grep -q 'queued as' "$RG_TMP/legit-tls.out"
}
