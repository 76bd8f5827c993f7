#!/usr/bin/env bash
# local_domains = postfix:DIR with the policy service in enforce mode
# (issue 23): relay_domains gains partner.test while relayguardd runs;
# within 10 s a legitimate MTA's mail to it is taken (no REJECT from the
# policy service, no alert, no ban), a relay to gmail.com is still refused
# and cut in its session, and relay_domains emptied makes partner.test
# foreign again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/policy.sh"
. "$(dirname "$0")/../e2e/localdomains.sh"
e2e_require
e2e_lab strict policy
policy_daemon enforce "local_domains=postfix:$LAB_PF_CONF"
ld_partner_scenario
assert_eq "$(grep -c 'Relay access denied.*partner.test.*proto' "$LAB_MAILLOG")" 1 \
	"Postfix refused partner.test only once it was no longer in relay_domains"
rg_done
