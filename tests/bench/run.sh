#!/usr/bin/env bash
# make bench: every benchmark program ($BUILD/bench/bench_*) and script
# (tests/bench/bench-*.sh). Each compares against a baseline in the same run
# and prints its own table of ratios.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
failed=0
for b in "$BUILD"/bench/bench_* tests/bench/bench-*.sh; do
	[ -e "$b" ] || continue
	echo "=== $(basename "$b")"
	case "$b" in
	*.sh) bash "$b" ;;
	*) "$b" ;;
	esac || { echo "benchmark $b failed"; failed=1; }
	echo
done
exit $failed
