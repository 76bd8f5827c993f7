# bash completion for relayguardctl(8)                    -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

_rg_objects="status attach detach reload ban allow deny stats config help"
_rg_cmds_ban="add del list flush import export"
_rg_cmds_allow="add del list import"
_rg_cmds_deny="add del list import"
_rg_cmds_config="show set"
_rg_options="-j --json -p --pretty --pin-dir --pid-file --force -d --debug"
_rg_reasons="manual relay_attempt relay_accepted relay_probe pregreet non_smtp auth_failure too_many_rcpts session_rate abuse_score imported envelope_padding stream_conflict unauth_pipelining ipv6_rotation"
_rg_config_keys="smtp_ports mode syn_rate syn_burst global_syn_rate global_syn_burst ipv6_prefix sample_bytes"

# The full name of a possibly abbreviated word among a list, or nothing.
_rg_expand()
{
	local w=$1 c match=
	shift
	for c in $*; do
		[[ $c == "$w" ]] && { echo "$c"; return; }
		[[ $c == "$w"* ]] && { [[ -n $match ]] && return; match=$c; }
	done
	echo "$match"
}

_relayguardctl()
{
	local cur prev words=() i obj= cmd= nwords=0
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	--pin-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--pid-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac

	# The words so far, without options and their values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--pin-dir | --pid-file) ((i++)) ;;
		-*) ;;
		*) words+=("${COMP_WORDS[i]}") ;;
		esac
	done
	nwords=${#words[@]}

	if [[ $cur == -* ]]; then
		local extra=
		((nwords >= 1)) && obj=$(_rg_expand "${words[0]}" $_rg_objects)
		((nwords >= 2)) && [[ $obj == ban ]] && cmd=$(_rg_expand "${words[1]}" $_rg_cmds_ban)
		case $obj/$cmd in
		detach/) extra=--purge ;;
		stats/) extra=--prometheus ;;
		ban/list) extra=--sort ;;
		esac
		COMPREPLY=($(compgen -W "$_rg_options $extra" -- "$cur"))
		return
	fi

	if ((nwords == 0)); then
		COMPREPLY=($(compgen -W "$_rg_objects" -- "$cur"))
		return
	fi
	obj=$(_rg_expand "${words[0]}" $_rg_objects)
	local cmds_var=_rg_cmds_$obj
	if [[ -n ${!cmds_var-} ]]; then
		if ((nwords == 1)); then
			COMPREPLY=($(compgen -W "${!cmds_var}" -- "$cur"))
			return
		fi
		cmd=$(_rg_expand "${words[1]}" ${!cmds_var})
	fi

	case $obj/$cmd in
	attach/ | detach/)
		if ((nwords == 1)); then
			COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		elif [[ $obj == attach ]] && ((nwords == 2)); then
			COMPREPLY=($(compgen -W "native generic auto" -- "$cur"))
		fi
		;;
	ban/add)
		case $prev in
		reason) COMPREPLY=($(compgen -W "$_rg_reasons" -- "$cur")) ;;
		for) COMPREPLY=($(compgen -W "1h 1d 1w permanent" -- "$cur")) ;;
		*) ((nwords >= 3)) && COMPREPLY=($(compgen -W "for reason" -- "$cur")) ;;
		esac
		;;
	ban/list)
		[[ $prev == --sort ]] && COMPREPLY=($(compgen -W "hits expiry" -- "$cur"))
		;;
	ban/import | ban/export | allow/import | deny/import)
		((nwords == 2)) && COMPREPLY=($(compgen -f -- "$cur"))
		;;
	config/set)
		((nwords == 2)) && COMPREPLY=($(compgen -W "$_rg_config_keys" -- "$cur"))
		[[ $prev == mode ]] && COMPREPLY=($(compgen -W "enforce monitor" -- "$cur"))
		;;
	esac
}
complete -F _relayguardctl relayguardctl
