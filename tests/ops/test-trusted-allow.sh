#!/usr/bin/env bash
# trusted_networks pass the data plane as README says (never dropped,
# rate-limited or banned): relayguardd writes them into allow4/allow6 at
# start and on reload, removes those it wrote that left the config, and
# never touches an entry an operator added with `relayguardctl allow`.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ops.sh"
ops_require
ops_setup
TRUSTED=10.88.0.2
OTHER=10.88.0.3
ip -n "$OPS_PEER_NS" addr add "$OTHER/24" dev "${RG_PREFIX}c0"
N=30

stat() { ops_ctl -j stats | jq -r ".$1"; }
# syns SRC: N connection attempts to the gateway's port 25 from SRC
# (refused or dropped: only the SYN matters).
syns() {
	rg_in "$OPS_PEER_NS" /usr/bin/python3 - "$1" "$N" <<'PY'
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.socket()
    s.bind((sys.argv[1], 0))
    s.settimeout(0.2)
    s.connect_ex(("10.88.0.1", 25))
    s.close()
PY
}
allowed() { ops_ctl -j allow list | jq -r '.[]' | sort | tr '\n' ' '; }

# The operator's own entries, one of them also a trusted network.
ops_start
assert_ok "operator allows 10.99.0.0/16 and 192.0.2.0/24" ops_ctl allow add 10.99.0.0/16 192.0.2.0/24
ops_stop

ops_conf syn_rate=2 syn_burst=2 "trusted_networks=127.0.0.0/8, ::1/128, $TRUSTED/32, 192.0.2.0/24, 2001:db8::/32"
ops_start
assert_eq "$(allowed)" "10.88.0.2 10.99.0.0/16 127.0.0.0/8 192.0.2.0/24 2001:db8::/32 ::1 " \
	"allow list: trusted networks and the operator's entries"

drops0=$(stat drop_syn_rate)
allow0=$(stat pass_allow)
syns "$TRUSTED"
assert_eq "$(stat drop_syn_rate)" "$drops0" "a trusted host's $N SYNs (syn_rate 2): none dropped"
assert_eq "$(($(stat pass_allow) - allow0))" "$N" "all $N passed as allowed"

syns "$OTHER"
assert_gt "$(stat drop_syn_rate)" "$drops0" "control: an untrusted host's SYNs over syn_rate are dropped"

# The operator adds a network the daemon wrote: it becomes the operator's.
assert_ok "operator allows 2001:db8::/32 (already there, from the config)" \
	ops_ctl allow add 2001:db8::/32

# Reload without $TRUSTED, 192.0.2.0/24 and 2001:db8::/32: what the daemon
# wrote goes, what the operator wrote stays.
ops_conf syn_rate=2 syn_burst=2 "trusted_networks=127.0.0.0/8, ::1/128"
ops_ctl --pid-file "$OPS_PID" reload >/dev/null || fail "reload failed"
rg_wait_for 10 grep -q "reloaded" "$OPS_CUR_LOG" || fail "no reload in the log"
assert_eq "$(allowed)" "10.99.0.0/16 127.0.0.0/8 192.0.2.0/24 2001:db8::/32 ::1 " \
	"reload: dropped trusted networks removed, operator entries kept"
drops1=$(stat drop_syn_rate)
syns "$TRUSTED"
assert_gt "$(stat drop_syn_rate)" "$drops1" "the no-longer-trusted host is rate-limited again"

# Stopping leaves the entries in force (kernel state outlives the daemon).
ops_stop
assert_eq "$(allowed)" "10.99.0.0/16 127.0.0.0/8 192.0.2.0/24 2001:db8::/32 ::1 " "entries stay after stop"
rg_done
