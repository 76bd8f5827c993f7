# shellcheck shell=bash
# Helpers for the local_domains = postfix:DIR tests (test-local-domains.sh
# on the wire, tests/policy/test-local-domains.sh with the policy service):
# the lab's Postfix changed as an operator would (postconf -e, postfix
# reload) while relayguardd follows it. Source after e2e.sh.

# ld_status KEY: a field of `relayguardctl -j status`'s local_domains.
ld_status() {
	"$RG_CTL" -j --pin-dir "$PIN" --pid-file "$RG_TMP/relayguardd.pid" status |
		jq -r ".local_domains.$1"
}

# ld_domains_is N: relayguardd reports N listed domains (for rg_wait_for).
ld_domains_is() {
	[ "$(ld_status domains)" = "$1" ]
}

# ld_status_ge KEY N: the status field KEY is a number >= N.
ld_status_ge() {
	local v
	v=$(ld_status "$1") && [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge "$2" ]
}

# ld_send NS FROM_ADDR RCPT OUT: one message through the gateway; fails
# unless Postfix queued it.
ld_send() {
	e2e_swaks "$1" --server "$LAB_GW4" ${2:+--local-interface "$2"} \
		--from sender@lab.test --to "$3" --header "Subject: to $3" \
		>"$4" 2>&1 && grep -q 'queued as' "$4"
}

# ld_no_verdict ADDR: no alert and no ban about ADDR in the event log, and
# no bans4 entry for it.
ld_no_verdict() {
	assert_eq "$(e2e_events ".source == \"$1\" and (.action == \"alert\" or .action == \"ban\")" | wc -l)" 0 \
		"no alert and no ban about $1 in the event log"
	assert_fails "$1 is not banned" e2e_ban4 "$1"
}

# The scenario of issue 23, wire or policy service alike: relay_domains
# gains partner.test while relayguardd runs; a legitimate MTA's mail to it
# is taken, a relay to gmail.com is still cut; relay_domains emptied again
# makes partner.test foreign.
ld_partner_scenario() {
	local base
	# fresh attacker addresses (pool adds them all at once)
	mapfile -t LD_POOL < <("$LAB" pool "$LAB_PREFIX" 4)
	rg_wait_for 10 ld_status_ge readings 1 ||
		fail "relayguardd did not read Postfix's config: $(e2e_daemon_log)"
	assert_eq "$(ld_status source)" "postfix:$LAB_PF_CONF" "status says where the local domains come from"
	assert_match "$("$RG_CTL" --pin-dir "$PIN" --pid-file "$RG_TMP/relayguardd.pid" status)" \
		"local domains:.*source +postfix:$LAB_PF_CONF.*domains +[0-9]+" "and in text"
	base=$(ld_status domains)
	echo "# postfix:$LAB_PF_CONF: $base domains"

	e2e_postconf relay_domains=partner.test
	# partner.test, and its subdomains (parent_domain_matches_subdomains)
	assert_ok "relayguardd learnt relay_domains within 10 s" \
		rg_wait_for 10 ld_domains_is $((base + 2))
	assert_ok "the legitimate MTA's mail to partner.test is taken" \
		ld_send "$LAB_NS_CL" "" bob@partner.test "$RG_TMP/partner.out"
	assert_ok "and to a subdomain of it" \
		ld_send "$LAB_NS_CL" "" bob@mx.partner.test "$RG_TMP/partner-sub.out"
	ld_no_verdict "$LAB_CL4"

	e2e_relay_banned_in_session "$RG_TMP/attack.out"
	assert_ok "the ban names the list it checked" rg_wait_for 5 e2e_has_event \
		".action == \"ban\" and .rcpt_domain == \"gmail.com\" and .local_domains == \"postfix:$LAB_PF_CONF\""

	e2e_postconf relay_domains=
	assert_ok "relay_domains emptied: relayguardd follows within 10 s" \
		rg_wait_for 10 ld_domains_is "$base"
	ld_assert_foreign "${LD_POOL[0]}" partner.test
}

# ld_assert_foreign SRC DOMAIN: from the attacker's address SRC, a RCPT to
# DOMAIN is refused by Postfix and graded a relay_attempt naming DOMAIN.
ld_assert_foreign() {
	e2e_session "$LAB_NS_AT" --server "$LAB_GW4" --src "$1" --timeout 5 \
		--rcpt "bob@$2" >"$RG_TMP/foreign.out"
	assert_match "$(cat "$RG_TMP/foreign.out")" 'RCPT 554' "Postfix refuses $2"
	assert_ok "$2 is foreign: a relay_attempt naming it once Postfix answered" \
		rg_wait_for 10 e2e_has_event ".source == \"$1\" and .reason == \"relay_attempt\" and .rcpt_domain == \"$2\""
}
