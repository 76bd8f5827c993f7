#!/usr/bin/env bash
# user/dist/relayguard.rules.yml: promtool accepts the rules, and its unit
# test (relayguard.rules.test.yml) sees each alert fire on series that
# should fire it and stay silent on look-alikes that should not. Every
# metric an alert reads is one the daemon writes (user/metrics.c,
# user/stats.c, user/cs_*.c).
. "$(dirname "$0")/../lib.sh"
rg_require_cmds promtool
RULES="$RG_TOP/user/dist/relayguard.rules.yml"

assert_ok "promtool check rules" promtool check rules "$RULES"
assert_ok "promtool test rules" promtool test rules "$RG_TOP/tests/dist/relayguard.rules.test.yml"

# The names the rules read, against what the writers print.
written=$(cat "$RG_TOP"/user/metrics.c "$RG_TOP"/user/cs_*.c)
stats=$(sed -n 's/^\tF(\([a-z_0-9]*\),.*/relayguard_\1_total/p' "$RG_TOP/user/stats.c")
for m in $(grep -o 'relayguard_[a-z_0-9]*' "$RULES" | sort -u); do
	grep -qx "$m" <<<"$stats" && continue
	name=${m#relayguard_}
	[[ $written == *"\"$name"[\"\ \{]* || $written == *"relayguard_$name"[\ \{]* ||
		$written == *"\"${name#crowdsec_}\""* ]] || fail "the rules read $m, which nothing writes"
done
ok "every metric the rules read is written by the daemon"
rg_done
