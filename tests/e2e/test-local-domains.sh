#!/usr/bin/env bash
# local_domains = postfix:DIR on the wire alone (issue 23): relayguardd
# follows what the lab's Postfix receives for. relay_domains gains
# partner.test while it runs: within 10 s a legitimate MTA's mail to it is
# taken with no alert and no ban, a relay to gmail.com is still cut in its
# session, and relay_domains emptied makes partner.test foreign again. Then
# a virtual_mailbox_domains hash table (listed with postmap -s) and a pcre
# table in relay_domains (asked per domain with postmap -q, the RCPT graded
# once the answer is in) each add a domain relayguardd treats as local.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/e2e.sh"
. "$(dirname "$0")/localdomains.sh"
e2e_require
e2e_lab strict
e2e_daemon enforce "local_domains=postfix:$LAB_PF_CONF"
ld_partner_scenario

# A literal list must follow the MTA's: --check-config says where it
# differs from what the Postfix of $MAIL_CONFIG receives for (warnings,
# the config is still ok).
printf 'local_domains = gone.test\n' >"$RG_TMP/literal.conf"
out=$(MAIL_CONFIG=$LAB_PF_CONF rg_in "$LAB_NS_GW" "$RG_DAEMON" --check-config -c "$RG_TMP/literal.conf" 2>&1)
assert_eq "$?" 0 "check-config: a drifted literal list is a warning, not an error"
assert_match "$out" "gone.test is listed, Postfix does not receive for it" \
	"check-config names a listed domain Postfix does not receive for"
assert_match "$out" "Postfix receives for example.test, the list lacks it" \
	"check-config names a Postfix domain the list lacks"
assert_match "$out" $'\nconfiguration ok$' "check-config still accepts the file"

# Tables: a hash virtual_mailbox_domains, a pcre relay_domains.
printf 'mbox.test OK\n' >"$LAB_PF_CONF/vmd"
ip netns exec "$LAB_NS_GW" postmap -c "$LAB_PF_CONF" "hash:$LAB_PF_CONF/vmd" ||
	fail "postmap hash:$LAB_PF_CONF/vmd failed"
printf '/^pcre[0-9]+\\.test$/ OK\n' >"$LAB_PF_CONF/relay.pcre"
base=$(ld_status domains)
e2e_postconf "virtual_mailbox_domains=hash:$LAB_PF_CONF/vmd" \
	"relay_domains=pcre:$LAB_PF_CONF/relay.pcre"
assert_ok "the hash table's domain is listed within 10 s" \
	rg_wait_for 10 ld_domains_is $((base + 1))
assert_eq "$(ld_status tables_asked_per_domain)" 1 "the pcre table is asked per domain"
n0=$(e2e_maildir_count)
assert_ok "mail to the hash table's domain is taken" \
	ld_send "$LAB_NS_CL" "" user@mbox.test "$RG_TMP/mbox.out"
assert_ok "mail to a domain the pcre table matches is taken" \
	ld_send "$LAB_NS_CL" "" user@pcre7.test "$RG_TMP/pcre.out"
assert_ok "the hash table's mail is in the maildir" rg_wait_for 10 e2e_maildir_ge $((n0 + 1))
assert_ok "relayguardd asked Postfix about pcre7.test" \
	rg_wait_for 10 ld_status_ge queries 1
ld_no_verdict "$LAB_CL4"
# ... and a domain it does not match stays foreign
ld_assert_foreign "${LD_POOL[1]}" other.test

# A table named before it is made: the reading fails (last good list kept);
# its postmap is the change that brings its domain in.
errors=$(ld_status reading_errors)
base=$(ld_status domains)
e2e_postconf "relay_domains=pcre:$LAB_PF_CONF/relay.pcre, hash:$LAB_PF_CONF/later"
assert_ok "the missing table is counted within 10 s" \
	rg_wait_for 10 ld_status_ge reading_errors $((errors + 1))
assert_match "$(ld_status last_error)" "later" "status names the table"
printf 'later.test OK\n' >"$LAB_PF_CONF/later"
ip netns exec "$LAB_NS_GW" postmap -c "$LAB_PF_CONF" "hash:$LAB_PF_CONF/later" ||
	fail "postmap hash:$LAB_PF_CONF/later failed"
assert_ok "postmap of it is picked up within 10 s" \
	rg_wait_for 10 ld_domains_is $((base + 2)) # later.test and its subdomains
assert_ok "mail to its domain is taken" \
	ld_send "$LAB_NS_CL" "" user@later.test "$RG_TMP/later.out"
ld_no_verdict "$LAB_CL4"

# A main.cf postconf cannot read: the last good list stays, the log says
# so once, status counts it; fixed, relayguardd follows again.
domains=$(ld_status domains)
errors=$(ld_status reading_errors)
cp "$LAB_PF_CONF/main.cf" "$RG_TMP/main.cf.good"
echo "broken line without equals" >>"$LAB_PF_CONF/main.cf"
assert_ok "the unreadable config is counted within 10 s" \
	rg_wait_for 10 ld_status_ge reading_errors $((errors + 1))
assert_match "$(ld_status last_error)" "missing '='" "status says why"
echo "# a second broken change" >>"$LAB_PF_CONF/main.cf"
assert_ok "and counted again" rg_wait_for 10 ld_status_ge reading_errors $((errors + 2))
assert_eq "$(ld_status domains)" "$domains" "the last good list is kept"
assert_eq "$(grep -c "cannot read what Postfix.*missing '='" "$E2E_DAEMON_LOG")" 1 "the log says so once"
assert_ok "mail to a listed domain is still taken" \
	ld_send "$LAB_NS_CL" "" user2@mbox.test "$RG_TMP/mbox2.out"
ld_no_verdict "$LAB_CL4"
cp "$RG_TMP/main.cf.good" "$LAB_PF_CONF/main.cf"
readings=$(ld_status readings)
assert_ok "the config fixed: read again" rg_wait_for 10 ld_status_ge readings $((readings + 1))
assert_eq "$(ld_status last_error)" null "no error any more"

# relayguardctl reload reads Postfix again (no file changed)
readings=$(ld_status readings)
assert_ok "relayguardctl reload" e2e_ctl --pid-file "$RG_TMP/relayguardd.pid" reload
assert_ok "a reload reads Postfix again" rg_wait_for 10 ld_status_ge readings $((readings + 1))

# With postfix:DIR, --check-config says what Postfix gave.
printf 'local_domains = postfix:%s\n' "$LAB_PF_CONF" >"$RG_TMP/postfix.conf"
out=$(rg_in "$LAB_NS_GW" "$RG_DAEMON" --check-config -c "$RG_TMP/postfix.conf" 2>&1)
assert_match "$out" "local_domains: Postfix at $LAB_PF_CONF receives for [1-9][0-9]* domains, 1 tables asked per domain" \
	"check-config says what Postfix receives for"
rg_done
