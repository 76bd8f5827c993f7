#!/usr/bin/env bash
# Bad input on the policy service socket of the real daemon (no empty
# line, oversize attributes and requests, binary, HTTP and TLS bytes,
# malformed lines, a connection flood over policy_max_connections, a client
# that never reads): each bad client gets one log line and its connection
# closed, without an answer; a well-behaved client is answered between
# every two cases; the daemon lives on (tests/policy/bad_input.py). A
# SIGHUP moving policy_service closes the old socket and opens the new.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../e2e/e2e.sh"
. "$(dirname "$0")/policy.sh"
e2e_require
CAP=20
e2e_lab none
policy_daemon enforce policy_service=inet:127.0.0.1:10040 policy_max_connections=$CAP

nsenter --net="/run/netns/$LAB_NS_GW" "$SYS_PY" "$(dirname "$0")/bad_input.py" \
	127.0.0.1 10040 "$CAP" >"$RG_TMP/bad.out" 2>&1
rc=$?
cat "$RG_TMP/bad.out"
assert_eq "$rc" 0 "every case was answered as expected"
cases=$(grep -c -v "good client" "$RG_TMP/bad.out" | tr -d ' ')
bad=$(grep -E '^ok ' "$RG_TMP/bad.out" | grep -vcE "good client|pipelined|slow but valid|never reads")
assert_gt "$bad" 14 "at least 15 kinds of bad input were tried ($bad)"
assert_ok "the daemon is alive" kill -0 "$E2E_DAEMON_PID"
lines=$(grep -c 'policy service: \(closing\|connection from\|refusing\)' "$E2E_DAEMON_LOG")
# every bad client one line; the flood one line for all its refusals
assert_eq "$lines" "$bad" "one log line per bad client, one for the flood"
assert_eq "$(grep -c 'refusing connections' "$E2E_DAEMON_LOG")" 1 "the flood is one line"
grep 'policy service:' "$E2E_DAEMON_LOG" | sed 's/^/# /' | head -n 30

# SIGHUP with another policy_service: the old socket closes, the new one
# answers.
sed -i 's/^policy_service = .*/policy_service = inet:127.0.0.1:10041/' "$E2E_CONF"
kill -HUP "$E2E_DAEMON_PID"
assert_ok "the reloaded service listens on the new port" rg_wait_for 5 \
	grep -q "policy service listening on inet:127.0.0.1:10041" "$E2E_DAEMON_LOG"
ask() { # PORT: one request, the answer's first line
	nsenter --net="/run/netns/$LAB_NS_GW" "$SYS_PY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=10.77.0.10\nrecipient=u@example.test\n\n")
print(s.recv(100).decode().splitlines()[0])' "$1" 2>/dev/null
}
assert_eq "$(ask 10041)" "action=DUNNO" "answered on the new port"
assert_fails "nothing listens on the old port" ask 10040
: "$cases"
rg_done
