#!/usr/bin/env bash
# relayguardctl refuses bad input: each case exits non-zero with exactly one
# line on stderr (text) or one {"error": ...} object (-j), and leaves the
# bans, the allow/deny lists and the config exactly as they were.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl.sh"
ctl_require

ctl_lab

ctl attach vgw >/dev/null || fail "attach failed"
ctl ban add 192.0.2.1 reason relay_attempt >/dev/null
ctl ban add 2001:db8:1::/64 reason pregreet >/dev/null
ctl ban add 198.51.100.0/30 >/dev/null
ctl allow add 10.1.0.0/16 2001:db8:a::/48 >/dev/null
ctl deny add 203.0.113.0/24 >/dev/null
ctl config set syn_rate 33 >/dev/null

# Permanent bans only, so that the export does not tick.
state() {
	ctl ban export
	ctl allow list
	ctl deny list
	ctl config show
}
state >"$RG_TMP/state0" || fail "cannot read the state"
assert_eq "$(grep -vc '^#' "$RG_TMP/state0" | tr -d " ")" 17 "seeded state: 6 bans, 3 ACL entries, 8 config keys"

# Import files.
mkdir "$RG_TMP/adir"
printf '10.9.0.1\n10.9.0.2 1h\n10.9.0.3 1h manual extra\n' >"$RG_TMP/fields.txt"
printf '10.9.0.1 1h\n# fine\n10.9.0.2 1h manual\nnot-an-address\n' >"$RG_TMP/garbage.txt"
printf '10.9.0.1 1h\n10.9.0.2 forever\n' >"$RG_TMP/baddur.txt"
printf '10.9.0.1 1h\n10.1.2.3 1h\n' >"$RG_TMP/allowed.txt"
printf '10.9.0.1 1h slacking\n' >"$RG_TMP/badreason.txt"
printf '10.9.0.0/24\n10.9.1.0/33\n' >"$RG_TMP/badacl.txt"
head -c 3000 /dev/zero | tr '\0' 'x' >"$RG_TMP/longline.txt"
LONG=$(head -c 5000 /dev/zero | tr '\0' '1')

cases=(
	"bad address|ban add 10.0.0.256"
	"bad IPv4 prefix length|ban add 10.0.0.0/33"
	"bad IPv6 prefix length|ban add 2001:db8::/129"
	"IPv4 with an IPv6 length|ban add 10.0.0.1/64"
	"IPv6 with an IPv4 length (host bits)|ban add 2001:db8::1/32"
	"host bits set|ban add 10.0.0.1/24"
	"negative prefix length|ban add 10.0.0.0/-8"
	"prefix ban too wide|ban add 172.16.0.0/12"
	"IPv6 prefix ban too wide|ban add 2001:db8::/40"
	"empty address|ban add ''"
	"unknown object|frobnicate"
	"ambiguous prefix|st"
	"unknown command|ban bogus"
	"missing object|"
	"missing command|ban"
	"missing address|ban add"
	"missing duration|ban add 10.0.0.1 for"
	"bad duration|ban add 10.0.0.1 for 10x"
	"negative duration|ban add 10.0.0.1 for -5m"
	"zero duration|ban add 10.0.0.1 for 0"
	"duration overflow|ban add 10.0.0.1 for 99999999999999999999w"
	"bad reason|ban add 10.0.0.1 reason slacking"
	"overlong address|ban add $LONG"
	"overlong reason|ban add 10.0.0.1 reason $LONG"
	"trailing junk|ban add 10.0.0.1 for 1h please"
	"allow-listed address|ban add 10.1.2.3"
	"prefix covering an allow entry|ban add 2001:db8:a:1::/64"
	"del of an address not banned|ban del 10.0.0.77"
	"bad sort key|ban list --sort size"
	"flush with an argument|ban flush now"
	"non-existent interface|attach nosuchif0"
	"bad attach mode|attach vgw turbo"
	"detach non-existent interface|detach nosuchif0"
	"no pinned maps|--pin-dir /sys/fs/bpf/rg-nonexistent-$$ ban list"
	"missing --pin-dir value|ban list --pin-dir"
	"import of a missing file|ban import $RG_TMP/nope.txt"
	"import of an unreadable file (a directory)|ban import $RG_TMP/adir"
	"import with a garbage line|ban import $RG_TMP/garbage.txt"
	"import with too many fields|ban import $RG_TMP/fields.txt"
	"import with a bad duration|ban import $RG_TMP/baddur.txt"
	"import with a bad reason|ban import $RG_TMP/badreason.txt"
	"import of an allow-listed address|ban import $RG_TMP/allowed.txt"
	"import with an overlong line|ban import $RG_TMP/longline.txt"
	"allow add with one bad CIDR|allow add 10.7.0.0/16 10.8.0.0/99"
	"deny del of an absent CIDR|deny del 203.0.113.0/24 10.5.5.0/24"
	"deny import with a bad line|deny import $RG_TMP/badacl.txt"
	"allow list with an argument|allow list all"
	"config set bad value|config set mode loud"
	"config set unknown key|config set nosuchkey 1"
	"config set negative number|config set syn_rate -1"
	"config set missing value|config set syn_rate"
	"stats bad option|stats --bogus"
	"reload without a daemon|--pid-file $RG_TMP/nopid reload"
	"newline in an argument|ban add $'10.0.0.1\nx'"
)

n=0
for c in "${cases[@]}"; do
	name=${c%%|*}
	eval "args=(${c#*|})"
	rg_in "$GW" "$RG_CTL" --pin-dir "$PIN" "${args[@]}" >"$RG_TMP/o" 2>"$RG_TMP/e" &&
		fail "$name: succeeded: $(cat "$RG_TMP/o")"
	[ -s "$RG_TMP/o" ] && fail "$name: printed to stdout: $(head -c 300 "$RG_TMP/o")"
	lines=$(wc -l <"$RG_TMP/e")
	[ "$lines" -eq 1 ] || fail "$name: $lines lines on stderr: $(head -c 600 "$RG_TMP/e")"
	assert_match "$(cat "$RG_TMP/e")" '^relayguardctl: ' "$name: $(cat "$RG_TMP/e")"
	rg_in "$GW" "$RG_CTL" -j --pin-dir "$PIN" "${args[@]}" >"$RG_TMP/o" 2>"$RG_TMP/e" &&
		fail "$name (-j): succeeded"
	jq -e '.error | length > 0' "$RG_TMP/o" >/dev/null ||
		fail "$name (-j): no {\"error\": ...}: $(head -c 300 "$RG_TMP/o")"
	state >"$RG_TMP/state1"
	diff -u "$RG_TMP/state0" "$RG_TMP/state1" >"$RG_TMP/diff" ||
		fail "$name: state changed: $(cat "$RG_TMP/diff")"
	n=$((n + 1))
done
assert_gt "$n" 24 "bad inputs refused with maps unchanged"
assert_match "$(ctl ban import "$RG_TMP/garbage.txt" 2>&1)" 'garbage.txt:4: bad address' "import error names the line"
rg_done
