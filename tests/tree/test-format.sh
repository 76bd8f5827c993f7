#!/usr/bin/env bash
# The product's C (bpf/, headers/, user/) is formatted as .clang-format says
# (kernel style): `clang-format --dry-run --Werror` names every file and
# line that is not. Tests keep their hand-aligned case tables and are not
# checked.
. "$(dirname "$0")/../lib.sh"
rg_require_cmds clang-format
cd "$RG_TOP" || fail "cannot enter $RG_TOP"
files=(bpf/*.c bpf/*.h headers/*.h user/*.c user/*.h)
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run --Werror "$f" 2>/dev/null || bad+=("$f")
done
echo "# ${#files[@]} files checked"
((${#bad[@]})) && clang-format --dry-run "${bad[0]}" 2>&1 | head -n 20
assert_eq "${bad[*]}" "" "every product C file formatted by clang-format"
rg_done
