#!/usr/bin/env bash
# Shared helpers for relayguard's shell tests: hosts in network namespaces
# named with a per-run prefix, a private pin dir, processes stopped by pid,
# and a cleanup stack that an EXIT trap unwinds even when a test fails.
# Source it: . "$(dirname "$0")/../lib.sh"
set -uo pipefail

RG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$RG_TOP/$BUILD" ;; esac
RG_CTL="$BUILD/relayguardctl"
RG_DAEMON="$BUILD/relayguardd"
RG_PREFIX="rg$$-"
RG_TMP=$(mktemp -d "/tmp/${RG_PREFIX}XXXX")
RG_PIN_DIR="/sys/fs/bpf/${RG_PREFIX}pins"

# Cleanups live in a file, not a variable, so that helpers called inside
# $(...) (a subshell) can register theirs too.
_RG_CLEANUPS="$RG_TMP/.cleanups"
: >"$_RG_CLEANUPS"

# Run CMD (a string) when the test exits, last added first.
rg_on_exit() {
	printf '%s\n' "$1" >>"$_RG_CLEANUPS"
}

_rg_unwind() {
	local rc=$? cmd
	trap - EXIT
	if [ -f "$_RG_CLEANUPS" ]; then
		while IFS= read -r cmd; do
			eval "$cmd" >/dev/null 2>&1 || true
		done < <(tac "$_RG_CLEANUPS")
	fi
	rm -rf "$RG_TMP"
	exit $rc
}
trap _rg_unwind EXIT
trap 'exit 130' INT TERM

rg_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

# The programs under test must be built, and the tools the tests drive
# installed (`make deps`): missing ones fail the test rather than skip it.
rg_require_built() {
	local f
	for f in "$RG_CTL" "$RG_DAEMON" "$BUILD/relayguard.bpf.o"; do
		[ -e "$f" ] || fail "$f is missing: build first (make BUILD=$BUILD)"
	done
}

rg_require_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || fail "$c is not installed: make deps"
	done
}

# rg_netns NAME: create namespace ${RG_PREFIX}NAME with lo up; prints it.
rg_netns() {
	local ns="${RG_PREFIX}$1"
	ip netns add "$ns" || fail "cannot create netns $ns"
	rg_on_exit "ip netns del '$ns'"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# rg_in NS CMD...: run CMD in namespace NS's network only. Unlike
# `ip netns exec`, which remounts /sys and so hides the pinned maps under
# /sys/fs/bpf, this keeps the host's mounts: use it for relayguard programs.
rg_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# rg_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces.
rg_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		fail "cannot create veth $2/$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# A pin dir of this test's own, removed at exit.
rg_pin_dir() {
	mkdir -p "$RG_PIN_DIR"
	rg_on_exit "rm -rf '$RG_PIN_DIR'"
	echo "$RG_PIN_DIR"
}

# rg_bg LOGFILE CMD...: start CMD in the background, stop it by pid at exit.
# Sets RG_BG_PID.
rg_bg() {
	local log=$1
	shift
	# rg_in as a function would leave $! naming a subshell: exec nsenter
	# directly so that the pid is the program's own.
	if [ "$1" = rg_in ]; then
		set -- nsenter --net="/run/netns/$2" "${@:3}"
	fi
	"$@" >"$log" 2>&1 &
	RG_BG_PID=$!
	rg_on_exit "kill $RG_BG_PID; sleep 0.2; kill -9 $RG_BG_PID"
}

# rg_metric FILE NAME{LABELS}: that sample's value in a Prometheus text
# file (relayguardd --metrics-file), empty if it has none.
rg_metric() {
	awk -v m="$2" '$1 == m { print $2 }' "$1"
}

# rg_wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds.
rg_wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS <= deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

_rg_checks=0
ok() {
	_rg_checks=$((_rg_checks + 1))
	echo "ok - $*"
}

fail() {
	echo "FAIL - $*" >&2
	exit 1
}

assert_eq() { # ACTUAL EXPECTED MESSAGE
	[ "$1" == "$2" ] || fail "$3: got '$1', expected '$2'"
	ok "$3"
}

assert_ne() {
	[ "$1" != "$2" ] || fail "$3: got '$1', expected something else"
	ok "$3"
}

assert_match() { # TEXT REGEX MESSAGE
	[[ "$1" =~ $2 ]] || fail "$3: '$1' does not match /$2/"
	ok "$3"
}

assert_gt() { # ACTUAL MIN MESSAGE
	[ "$1" -gt "$2" ] || fail "$3: got $1, expected more than $2"
	ok "$3"
}

# Run CMD, expect success.
assert_ok() { # MESSAGE CMD...
	local msg=$1
	shift
	"$@" >"$RG_TMP/out" 2>&1 || fail "$msg: exit $?: $(head -c 2000 "$RG_TMP/out")"
	ok "$msg"
}

# Run CMD, expect a non-zero exit.
assert_fails() { # MESSAGE CMD...
	local msg=$1
	shift
	"$@" >"$RG_TMP/out" 2>&1 && fail "$msg: succeeded: $(head -c 2000 "$RG_TMP/out")"
	ok "$msg"
}

# Every test must have checked something; call last.
rg_done() {
	[ "$_rg_checks" -gt 0 ] || fail "no checks ran"
	echo "# $_rg_checks checks passed"
}
