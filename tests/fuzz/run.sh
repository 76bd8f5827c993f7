#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...]: run each libFuzzer target (all of
# them by default) for SECONDS with ASan and UBSan, seeded from
# tests/fuzz/corpus/TARGET. Any crash, leak or UB report fails the run
# (exit 1: libFuzzer's own default, 77, is tests/run.sh's "skipped").
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
seconds=${1:?usage: run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in "$BUILD"/fuzz/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	[ -d "tests/fuzz/corpus/$t" ] && cp -r "tests/fuzz/corpus/$t/." "$work/"
	echo "== $t for ${seconds}s"
	"$BUILD/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 \
		-error_exitcode=1 -timeout_exitcode=1 \
		-artifact_prefix="$BUILD/fuzz/$t-" "$work" 2>&1 | tail -n 25
	rm -rf "$work"
done
