#!/usr/bin/env bash
# ban import at scale: 1,000,000 lines through batched map updates (the
# time is printed, not asserted); a bad last line rejects the whole file;
# a full map (bans6) is a clear error and the import is undone, including
# entries it had overwritten; export -> flush -> import round-trips.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl.sh"
ctl_require

ctl_lab
count() { ctl -j status | jq -r ".maps[] | select(.name==\"$1\") | .entries"; }
ms() { echo $(($(date +%s%N) / 1000000)); }

ctl attach vgw >/dev/null || fail "attach failed"
ctl ban add 192.0.2.1 reason pregreet >/dev/null
ctl ban add 2001:db8:100:5::/64 reason auth_failure >/dev/null

python3 - "$RG_TMP" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/1m.txt", "w") as f:
    f.write("# 1,000,000 bans\n")
    for i in range(1000000):
        a = 0x0b000000 + i * 3
        f.write("%d.%d.%d.%d 1h relay_attempt\n" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255))
with open(d + "/1m-bad.txt", "w") as f, open(d + "/1m.txt") as src:
    f.write(src.read())
    f.write("11.255.255.300 1h\n")
with open(d + "/v6.txt", "w") as f:
    for i in range(270000):
        f.write("2001:db8:%x:%x::/64 1h\n" % (0x100 + (i >> 16), i & 0xffff))
PY

# A bad last line: nothing applied, the line named.
ctl ban export >"$RG_TMP/before"
assert_fails "import with a bad line 1000002 fails" ctl ban import "$RG_TMP/1m-bad.txt"
assert_match "$(cat "$RG_TMP/out")" "1m-bad.txt:1000002: bad address" "error names line 1000002"
assert_eq "$(count bans4)" 1 "nothing of the bad file applied"

# 1,000,000 lines, timed.
t0=$(ms)
assert_ok "import of 1,000,000 bans" ctl ban import "$RG_TMP/1m.txt"
t1=$(ms)
echo "# ban import of 1,000,000 lines: $((t1 - t0)) ms ($(((t1 - t0) * 1000000 / 1000000)) ns/ban)"
assert_eq "$(count bans4)" 1000001 "bans4 holds 1,000,001 entries"
assert_eq "$(ctl -j ban list | jq '[.[] | select(.reason=="relay_attempt")] | length')" 1000000 "ban list shows them all"
# Re-import over them (replace; the undo snapshot walks 1M entries).
t0=$(ms)
assert_ok "re-import of 1,000,000 bans over themselves" ctl ban import "$RG_TMP/1m.txt"
t1=$(ms)
echo "# ban re-import of 1,000,000 lines over existing entries: $((t1 - t0)) ms"
t0=$(ms)
assert_eq "$(ctl -j ban flush | jq -r .flushed)" 1000002 "flush of 1,000,002 bans"
t1=$(ms)
echo "# ban flush of 1,000,002 bans: $((t1 - t0)) ms"
ctl ban import "$RG_TMP/before" >/dev/null

# bans6 holds 262144: 270000 groups do not fit. Undo, and the overwritten
# 2001:db8:100:5::/64 keeps its reason and permanence.
ctl ban export >"$RG_TMP/before"
assert_fails "import beyond bans6's size fails" ctl ban import "$RG_TMP/v6.txt"
assert_match "$(cat "$RG_TMP/out")" "bans6 is full \(max_entries 262144\)" "full map named with its size"
ctl ban export >"$RG_TMP/after"
diff -u "$RG_TMP/before" "$RG_TMP/after" >"$RG_TMP/diff" || fail "full-map import left changes: $(head -20 "$RG_TMP/diff")"
ok "full-map import undone, overwritten entry restored"
assert_eq "$(count bans6)" 1 "bans6 back to one entry"

# Round trip.
ctl ban add 198.51.100.9 for 2h reason too_many_rcpts >/dev/null
ctl ban export "$RG_TMP/rt.txt" >/dev/null
ctl ban flush >/dev/null
ctl ban import "$RG_TMP/rt.txt" >/dev/null
ctl ban export "$RG_TMP/rt2.txt" >/dev/null
diff <(sed 's/ [0-9]*s / Ns /' "$RG_TMP/rt.txt") <(sed 's/ [0-9]*s / Ns /' "$RG_TMP/rt2.txt") >/dev/null ||
	fail "export/import round trip differs"
ok "export -> flush -> import round-trips"
rg_done
