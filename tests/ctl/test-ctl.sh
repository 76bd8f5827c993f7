#!/usr/bin/env bash
# relayguardctl end to end: attach to the gateway side of a veth in a
# network namespace, ban the client, watch a real SYN to port 25 die (and
# drop_ban rise), unban, watch it pass; deny, allow, monitor mode, reload,
# detach; every command's JSON parsed by jq.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl.sh"
ctl_require

ctl_lab
ip -n "$GW" addr add 10.99.0.1/24 dev vgw
ip -n "$CL" addr add 10.99.0.2/24 dev vcl

jctl() { ctl -j "$@" | jq -e . >"$RG_TMP/json" || fail "not JSON: relayguardctl -j $*"; cat "$RG_TMP/json"; }
stat() { ctl -j stats | jq -r ".$1"; }

# A listener on port 25 in the gateway namespace.
rg_bg "$RG_TMP/listener.log" ip netns exec "$GW" python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.1", 25))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
'
connects() { # a real TCP handshake from the client namespace
	ip netns exec "$CL" python3 -c '
import socket, sys
try:
    socket.create_connection(("10.99.0.1", 25), timeout=1.5).close()
except OSError:
    sys.exit(1)
'
}
rg_wait_for 5 connects || fail "listener never came up"

# attach, status
out=$(jctl attach vgw)
assert_eq "$(jq -r .interface <<<"$out")" vgw "attach -j names the interface"
assert_eq "$(jq -r .xdp <<<"$out")" true "attach -j: XDP attached"
assert_eq "$(jq -r .tc_egress <<<"$out")" true "attach -j: TC egress attached"
out=$(jctl status)
assert_eq "$(jq -r '.interfaces[0].interface' <<<"$out")" vgw "status lists vgw"
assert_match "$(jq -r '.interfaces[0].xdp_mode' <<<"$out")" '^(native|generic)$' "status shows the XDP mode"
assert_gt "$(jq -r '.interfaces[0].xdp_prog_id' <<<"$out")" 0 "status shows the program id"
assert_eq "$(jq -r '.maps[] | select(.name=="bans4") | .max_entries' <<<"$out")" 2097152 "status shows bans4 size"
assert_eq "$(jq -r .mode <<<"$out")" enforce "status shows the mode"
assert_match "$(ctl status)" "vgw +xdp yes" "status text lists vgw"
ctl -p status >"$RG_TMP/pretty" || fail "status -p failed"
jq -e .interfaces "$RG_TMP/pretty" >/dev/null || fail "status -p is not JSON"
assert_gt "$(wc -l <"$RG_TMP/pretty")" 10 "-p indents over several lines"
# re-attach replaces our own programs
assert_ok "re-attach replaces relayguard's own programs" ctl attach vgw
assert_ok "attach in generic mode after native" ctl attach vgw generic
assert_eq "$(jctl status | jq -r '.interfaces[0].xdp_mode')" generic "mode switched to generic"
assert_ok "back to auto" ctl attach vgw auto
[ -e "$PIN/bans4" ] || fail "maps not pinned under $PIN"
ok "maps pinned under the pin dir"

# a clean source connects
connects || fail "clean client cannot connect"
ok "clean client connects to port 25"

# ban: the SYN is dropped, drop_ban rises, hits counted
before=$(stat drop_ban)
out=$(jctl ban add 10.99.0.2 for 10m reason relay_attempt)
assert_eq "$(jq -r .banned <<<"$out")" 10.99.0.2 "ban add -j"
assert_eq "$(jq -r .duration <<<"$out")" 600 "ban add -j duration"
connects && fail "banned client still connects"
ok "banned client's SYN is dropped"
assert_gt "$(stat drop_ban)" "$before" "drop_ban rose"
out=$(jctl ban list)
assert_eq "$(jq -r '.[0].source' <<<"$out")" 10.99.0.2 "ban list -j source"
assert_eq "$(jq -r '.[0].reason' <<<"$out")" relay_attempt "ban list -j reason"
assert_gt "$(jq -r '.[0].hits' <<<"$out")" 0 "ban list -j hits"
assert_match "$(jq -r '.[0].time_left' <<<"$out")" '^(59[0-9]|600)$' "ban list -j time left"
assert_match "$(ctl ban list | tail -1)" '^10\.99\.0\.2 +relay_attempt +[1-9][0-9]* +(9m|10m)' "ban list text columns"
assert_match "$(ctl ba l --sort hits | tail -1)" '^10\.99\.0\.2' "unique prefixes: ba l --sort hits"
jctl ban list --sort expiry >/dev/null

# unban: passes again
out=$(jctl ban del 10.99.0.2)
assert_eq "$(jq -r .unbanned <<<"$out")" 10.99.0.2 "ban del -j"
connects || fail "unbanned client cannot connect"
ok "unbanned client connects again"

# prefix ban expands to hosts, and covers the client
out=$(jctl ban add 10.99.0.0/30 for 1h)
assert_eq "$(jq -r .entries <<<"$out")" 4 "a /30 ban is 4 host entries"
connects && fail "client in a banned /30 still connects"
ok "prefix ban drops the client"
out=$(jctl ban del 10.99.0.0/30)
assert_eq "$(jq -r .entries <<<"$out")" 4 "ban del of the /30 removes 4 entries"
connects || fail "client cannot connect after prefix unban"
ok "prefix unban lets it pass"

# IPv6 group bans
out=$(jctl ban add 2001:db8:5::7 reason pregreet)
assert_eq "$(jq -r .source <<<"$out")" 2001:db8:5::/64 "IPv6 ban is keyed by its /64"
assert_eq "$(jctl ban list | jq -r '.[] | select(.source=="2001:db8:5::/64") | .time_left')" null "permanent ban has no time left"
jctl ban del 2001:db8:5::1 >/dev/null

# export / flush / import round trip
ctl ban add 192.0.2.7 for 1d >/dev/null
ctl ban add 198.51.100.0/29 reason non_smtp >/dev/null
out=$(jctl ban export "$RG_TMP/bans.txt")
assert_eq "$(jq -r .exported <<<"$out")" 9 "ban export FILE -j"
assert_eq "$(jctl ban export | jq length)" 9 "ban export -j to stdout"
ctl ban export >"$RG_TMP/bans-stdout.txt"
assert_eq "$(grep -vc '^#' "$RG_TMP/bans-stdout.txt")" 9 "ban export text to stdout"
assert_eq "$(jctl ban flush | jq -r .flushed)" 9 "ban flush -j"
assert_eq "$(jctl ban list | jq length)" 0 "nothing left after flush"
assert_eq "$(jctl ban import "$RG_TMP/bans.txt" | jq -r .imported)" 9 "ban import -j"
assert_eq "$(jctl ban list | jq -r '.[] | select(.source=="198.51.100.3") | .reason')" non_smtp "import kept the reason"
assert_match "$(jctl ban list | jq -r '.[] | select(.source=="192.0.2.7") | .time_left')" '^8[0-9]{4}$' "import kept the time left"
ctl ban flush >/dev/null

# deny drops, allow beats ban
out=$(jctl deny add 10.99.0.0/24 203.0.113.0/24)
assert_eq "$(jq -r .added <<<"$out")" 2 "deny add -j"
assert_eq "$(jctl deny list | jq -c .)" '["10.99.0.0/24","203.0.113.0/24"]' "deny list -j"
before=$(stat drop_deny)
connects && fail "denied client still connects"
ok "deny list drops the client"
assert_gt "$(stat drop_deny)" "$before" "drop_deny rose"
assert_eq "$(jctl deny del 10.99.0.0/24 | jq -r .removed)" 1 "deny del -j"
connects || fail "client cannot connect after deny del"
ok "deny del lets it pass"
printf '# partners\n198.18.0.0/15\n2001:db8:ffff::/48  # v6\n' >"$RG_TMP/acl.txt"
assert_eq "$(jctl deny import "$RG_TMP/acl.txt" | jq -r .added)" 2 "deny import -j"
assert_eq "$(jctl allow add 10.99.0.2/32 | jq -r .added)" 1 "allow add -j"
assert_eq "$(jctl allow list | jq -r '.[0]')" 10.99.0.2 "allow list -j"
assert_fails "ban of an allow-listed address is refused" ctl ban add 10.99.0.2
assert_match "$(cat "$RG_TMP/out")" "allow-listed 10.99.0.2" "refusal names the allow entry"
assert_fails "ban of a prefix covering an allow entry is refused" ctl ban add 10.99.0.0/24
assert_ok "--force bans it anyway" ctl ban add 10.99.0.2 --force
connects || fail "allow-listed client dropped"
ok "allow beats ban in the data plane"
assert_eq "$(jctl allow import "$RG_TMP/acl.txt" | jq -r .added)" 2 "allow import -j"
assert_eq "$(jctl allow del 10.99.0.2 | jq -r .removed)" 1 "allow del -j"
connects && fail "banned client passes after allow del"
ok "ban applies once the allow entry is gone"

# monitor mode: the ban is counted, not enforced
out=$(jctl config set mode monitor)
assert_eq "$(jq -r .value <<<"$out")" monitor "config set -j"
before=$(stat monitor_ban)
connects || fail "monitor mode dropped the client"
ok "monitor mode lets the banned client through"
assert_gt "$(stat monitor_ban)" "$before" "monitor_ban rose"
assert_eq "$(jctl config show | jq -r .mode)" monitor "config show -j"
assert_match "$(ctl config show)" "smtp_ports += 25" "config show text"
ctl config set mode enforce >/dev/null
ctl ban flush >/dev/null

# stats: text, JSON, Prometheus
assert_gt "$(stat packets)" 0 "stats -j packets"
assert_match "$(ctl stats)" "drop_ban +[0-9]+" "stats text"
ctl stats --prometheus >"$RG_TMP/prom.txt"
assert_match "$(cat "$RG_TMP/prom.txt")" "# TYPE relayguard_drop_ban_total counter" "Prometheus TYPE lines"
if command -v promtool >/dev/null; then
	promtool check metrics <"$RG_TMP/prom.txt" >"$RG_TMP/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$RG_TMP/promtool.out")"
	ok "stats --prometheus passes promtool check metrics"
fi

# help, reload, daemon alive
assert_match "$(jctl help | jq -r .usage)" "ban add ADDR" "help -j"
# A stand-in daemon: relayguardd replaying a FIFO nobody writes, blocked in
# its open; it touches no map and SIGHUP kills it. reload checks its config
# file with its own binary first: here --config=FILE, relative to the
# daemon's cwd.
mkfifo "$RG_TMP/fifo"
echo "syn_rate = 30" >"$RG_TMP/fake.conf"
pushd "$RG_TMP" >/dev/null || fail "no $RG_TMP"
rg_bg "$RG_TMP/fake.log" "$RG_DAEMON" --replay fifo --config=fake.conf
popd >/dev/null || fail "cannot return"
echo "$RG_BG_PID" >"$RG_TMP/pid"
rg_wait_for 5 grep -q relayguardd "/proc/$RG_BG_PID/comm" || fail "fake daemon did not start"
assert_eq "$(ctl -j --pid-file "$RG_TMP/pid" status | jq -r .daemon.alive)" true "status: daemon alive"
echo "syn_rate = lots" >"$RG_TMP/fake.conf"
out=$(ctl --pid-file "$RG_TMP/pid" reload 2>&1) && fail "reload took a bad file: $out"
assert_match "$out" "reload refused.*fake.conf:1: bad value 'lots' for syn_rate" "reload refuses a file --check-config refuses"
# the stand-in dies of a SIGHUP: a second later, it is still alive
if rg_wait_for 1 sh -c "! kill -0 $RG_BG_PID"; then
	fail "a refused reload signalled the daemon"
fi
ok "a refused reload leaves the daemon alone"
echo "syn_rate = 30" >"$RG_TMP/fake.conf"
out=$(ctl -j --pid-file "$RG_TMP/pid" reload | jq -e .) || fail "reload -j not JSON"
assert_eq "$(jq -r .reloaded <<<"$out")" "$RG_BG_PID" "reload -j names the pid"
rg_wait_for 5 sh -c "! kill -0 $RG_BG_PID" || fail "SIGHUP not delivered"
ok "reload sent SIGHUP (the fake daemon died of it)"
assert_eq "$(ctl -j --pid-file "$RG_TMP/pid" status | jq -r .daemon.alive)" false "status: daemon not alive"

# detach, then purge
out=$(jctl detach vgw)
assert_eq "$(jq -r .detached <<<"$out")" vgw "detach -j"
assert_eq "$(jctl status | jq '.interfaces | length')" 0 "nothing attached after detach"
[ -e "$PIN/bans4" ] || fail "detach without --purge removed the maps"
ok "maps stay pinned after detach"
ctl ban add 10.99.0.2 >/dev/null
connects || fail "client dropped after detach"
ok "traffic passes after detach"
# --purge is refused while another interface's programs use the maps.
ip -n "$GW" link add vdum type veth peer name vdum1
ip -n "$GW" link set vdum up && ip -n "$GW" link set vdum1 up
ctl attach vdum >/dev/null || fail "attach vdum"
ctl attach vgw >/dev/null || fail "attach vgw"
rc=0
ctl detach vgw --purge >/dev/null 2>"$RG_TMP/err" || rc=$?
assert_eq "$rc" 1 "detach vgw --purge refused while vdum uses the maps"
assert_match "$(cat "$RG_TMP/err")" "still used by relayguard XDP program" "the refusal says why"
[ -e "$PIN/bans4" ] || fail "a refused purge removed the maps"
assert_eq "$(jctl status | jq '.interfaces | length')" 2 "a refused purge detached nothing"
ok "detach --purge refused while other programs use the maps; nothing changed"
ctl detach vdum >/dev/null || fail "detach vdum"
ctl detach vgw >/dev/null || fail "detach vgw"
out=$(jctl detach vgw --purge)
assert_eq "$(jq -r .purged <<<"$out")" true "detach --purge -j"
[ -e "$PIN" ] && fail "pin dir still there after --purge"
ok "--purge removed the pinned maps"
assert_eq "$(jctl status | jq -r .maps_pinned)" false "status without maps"
rg_done
