#!/usr/bin/env bash
# Runs every test: cmocka and BPF test programs, shell tests
# (tests/*/test-*.sh), then a short run of each fuzz target. Prints one line
# per test and a closing "N passed, N failed" line; exits non-zero on any
# failure. Exit 77 from a test means skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SMOKE=${FUZZ_SMOKE:-10}
LOGS="$BUILD/test-logs"
mkdir -p "$LOGS"
passed=0 failed=0 skipped=0 failures=()

run_one() { # NAME TIMEOUT CMD...
	local name=$1 limit=$2 log="$LOGS/${1//\//_}.log" rc start=$SECONDS
	shift 2
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	rc=$?
	case $rc in
	0) passed=$((passed + 1)); printf 'PASS  %-44s %4ds\n' "$name" $((SECONDS - start)) ;;
	77) skipped=$((skipped + 1)); printf 'SKIP  %s\n' "$name" ;;
	*)
		failed=$((failed + 1)); failures+=("$name")
		printf 'FAIL  %-44s (exit %d, log %s)\n' "$name" $rc "$log"
		tail -n 30 "$log" | sed 's/^/      | /'
		;;
	esac
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" 600 "$t"
done

for t in $(ls tests/*/test-*.sh 2>/dev/null | sort); do
	run_one "${t#tests/}" 900 bash "$t"
done

for f in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	run_one "$(basename "$f") (${FUZZ_SMOKE}s)" $((FUZZ_SMOKE + 120)) \
		tests/fuzz/run.sh "$FUZZ_SMOKE" "$(basename "$f")"
done

echo
((failed)) && echo "failed: ${failures[*]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
