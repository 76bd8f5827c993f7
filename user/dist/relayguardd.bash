# bash completion for relayguardd(8)                      -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

_rgd_options="-f --foreground -c --config --pin-dir --pid-file --metrics-file --replay -t --check-config -d --debug -h --help"

_relayguardd()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	-c | --config | --pid-file | --metrics-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--pin-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--replay)
		COMPREPLY=($(compgen -f -X '!*.@(pcap|pcapng|cap)' -- "$cur"))
		return
		;;
	esac
	COMPREPLY=($(compgen -W "$_rgd_options" -- "$cur"))
}
complete -F _relayguardd relayguardd
