#!/usr/bin/env bash
# The modules of user/ depend on each other one way: module X (X.c and
# X.h) depends on Y when either includes "Y.h"; that graph must have no
# cycle, so that each floor builds only on those below it (pure policy code
# never pulls in the loader, flow never reaches back up to the pipeline).
# Prints every cycle it finds.
. "$(dirname "$0")/../lib.sh"
rg_require_cmds python3
out=$(python3 - "$RG_TOP/user" <<'PY'
import os, re, sys
top = sys.argv[1]
inc = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)\.h"', re.M)
mods = {f.rsplit(".", 1)[0] for f in os.listdir(top) if f.endswith((".c", ".h"))}
deps = {m: set() for m in mods}
for f in os.listdir(top):
    if not f.endswith((".c", ".h")):
        continue
    m = f.rsplit(".", 1)[0]
    with open(os.path.join(top, f)) as fh:
        for d in inc.findall(fh.read()):
            if d != m and d in mods:
                deps[m].add(d)
cycles, state, stack = set(), {}, []
def visit(m):
    state[m] = 1
    stack.append(m)
    for d in sorted(deps[m]):
        if state.get(d) == 1:
            c = stack[stack.index(d):]
            i = c.index(min(c))
            cycles.add(" -> ".join(c[i:] + c[:i] + [c[i]]))
        elif d not in state:
            visit(d)
    stack.pop()
    state[m] = 2
for m in sorted(mods):
    if m not in state:
        visit(m)
print(len(mods), "modules")
for c in sorted(cycles):
    print("cycle:", c)
PY
) || fail "the include scan failed"
echo "$out" | sed 's/^/# /'
assert_eq "$(grep -c '^cycle:' <<<"$out")" 0 "no include cycle between the modules of user/"
rg_done
