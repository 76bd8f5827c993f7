#!/usr/bin/env bash
# The help text, the man page and the bash completion name the same
# objects and commands, the same options, reasons and config keys; and the
# completion completes them.
. "$(dirname "$0")/../lib.sh"
MAN="$RG_TOP/user/dist/relayguardctl.8"
COMP="$RG_TOP/user/dist/relayguardctl.bash"
[ -x "$RG_CTL" ] || fail "no $RG_CTL"

# "allow|deny add|del CIDR..." -> "allow add", "allow del", "deny add", ...
pairs_of_grammar() {
	sed 's/ | /\n/g' | while read -r objs cmds _; do
		[[ $objs =~ ^[a-z|]+$ ]] || continue
		for o in ${objs//|/ }; do
			if [[ $cmds =~ ^[a-z]+(\|[a-z]+)*$ ]]; then
				for c in ${cmds//|/ }; do echo "$o $c"; done
			else
				echo "$o"
			fi
		done
	done | sort -u
}

"$RG_CTL" help | grep '^  [a-z]' | sed 's/^  //; s/  .*//' | pairs_of_grammar >"$RG_TMP/help"
# Man: the .TP headings of the COMMANDS section, fonts stripped.
sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$MAN" | grep -A1 '^\.TP' | grep -v '^\.TP\|^--' |
	sed 's/\\f[BIR]//g; s/\\-/-/g' | pairs_of_grammar >"$RG_TMP/man"
# shellcheck disable=SC1090
. "$COMP"
for o in $_rg_objects; do
	v=_rg_cmds_$o
	if [ -n "${!v-}" ]; then
		for c in ${!v}; do echo "$o $c"; done
	else
		echo "$o"
	fi
done | sort -u >"$RG_TMP/comp"

assert_gt "$(wc -l <"$RG_TMP/help")" 20 "help names more than 20 commands"
diff -u "$RG_TMP/help" "$RG_TMP/man" >"$RG_TMP/d1" || fail "help and man page differ: $(cat "$RG_TMP/d1")"
ok "help text and man page name the same commands"
diff -u "$RG_TMP/help" "$RG_TMP/comp" >"$RG_TMP/d2" || fail "help and completion differ: $(cat "$RG_TMP/d2")"
ok "help text and completion name the same commands"

# Options, reasons and config keys appear in all three.
help=$("$RG_CTL" help)
man=$(sed 's/\\-/-/g; s/\\f[BIR]//g' "$MAN")
for opt in $_rg_options; do
	[[ $help =~ (^|[^a-z-])$opt([^a-z-]|$) ]] || fail "help lacks option $opt"
	[[ $man =~ (^|[^a-z-])$opt([^a-z-]|$) ]] || fail "man page lacks option $opt"
done
ok "options named in help, man page and completion"
want=$(echo "$help" | sed -n 's/^REASON: //p')
assert_eq "$want" "$_rg_reasons" "completion reasons match the help's"
for r in $want; do [[ $man == *"$r"* ]] || fail "man page lacks reason $r"; done
ok "man page names every reason"
want=$(echo "$help" | sed -n 's/^KEY: //p')
assert_eq "$want" "$_rg_config_keys" "completion config keys match the help's"
for k in $want; do [[ $man == *"$k"* ]] || fail "man page lacks config key $k"; done
ok "man page names every config key"

# relayguardd: its usage text, man page and completion name the same
# options.
MAND="$RG_TOP/user/dist/relayguardd.8"
# shellcheck disable=SC1090
. "$RG_TOP/user/dist/relayguardd.bash"
options_in() { grep -oE '(^|[][ |,])--?[a-z][a-z-]*' | sed 's/^[][ |,]//' | sort -u; }
"$RG_DAEMON" --help | options_in >"$RG_TMP/dhelp"
tr ' ' '\n' <<<"$_rgd_options" | sort -u >"$RG_TMP/dcomp"
diff -u "$RG_TMP/dhelp" "$RG_TMP/dcomp" >"$RG_TMP/d3" ||
	fail "relayguardd usage and completion differ: $(cat "$RG_TMP/d3")"
ok "relayguardd usage and completion name the same options"
sed -n '/^\.SH SYNOPSIS/,/^\.SH SIGNALS/p' "$MAND" | sed 's/\\-/-/g; s/\\f[BIR]//g' | options_in >"$RG_TMP/dman"
missing=$(comm -23 "$RG_TMP/dhelp" "$RG_TMP/dman")
[ -z "$missing" ] || fail "relayguardd(8) lacks options: $missing"
ok "relayguardd(8) names every option of its usage"

# README's Layout names every file of user/: as `X`, `X.c` or `X.h`.
layout=$(sed -n '/^## Layout$/,/^## /p' "$RG_TOP/README.md")
[ -n "$layout" ] || fail "README has no Layout section"
for f in "$RG_TOP"/user/*.[ch]; do
	b=${f##*/} m=${b%.?}
	[[ $layout == *"\`$m\`"* || $layout == *"\`$b\`"* ]] ||
		fail "README's Layout does not name user/$b"
done
ok "README's Layout names every file of user/"

# The completion works.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_relayguardctl
	echo "${COMPREPLY[*]}"
}
assert_eq "$(complete_words relayguardctl ba)" ban "completes an object prefix"
assert_eq "$(complete_words relayguardctl ban '')" "$_rg_cmds_ban" "completes ban commands"
assert_eq "$(complete_words relayguardctl -j b l --sort '')" "hits expiry" "completes sort keys after prefixes"
assert_eq "$(complete_words relayguardctl config set mode '')" "enforce monitor" "completes mode values"
COMP_WORDS=(relayguardd --check) COMP_CWORD=1 COMPREPLY=()
_relayguardd
assert_eq "${COMPREPLY[*]}" --check-config "relayguardd completes --check-config"
rg_done
