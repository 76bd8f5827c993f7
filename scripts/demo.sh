#!/usr/bin/env bash
# make demo: relayguard stops a relay attacker in front of a real Postfix.
#
# Brings up the lab (scripts/lab.sh: a gateway running Postfix, a legitimate
# client, an attacker, in network namespaces), starts relayguardd on the
# gateway's client-facing interface and as Postfix's policy service, then: a
# legitimate message is delivered, the attacker's relay attempts are banned
# inside their own session, a second attacker's relay attempts hidden by
# STARTTLS are banned through the policy service, and the attacker's next
# connection is dropped at XDP. Everything is torn down at
# the end, also on failure or Ctrl-C. Needs root; `make demo` builds first.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
LAB="$TOP/scripts/lab.sh"
PREFIX="rd$$-"
PIN="/sys/fs/bpf/${PREFIX}pins"
WORK=$(mktemp -d /tmp/relayguard-demo.XXXX)
DAEMON_PID=

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
show() { sed 's/^/   | /'; }
die() {
	echo "demo: $*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	say "Tearing down"
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill "$DAEMON_PID"
		sleep 0.3
		kill -9 "$DAEMON_PID" 2>/dev/null
	fi
	"$LAB" down "$PREFIX"
	rm -rf "$PIN" "$WORK"
	echo "   lab, daemon and pinned maps removed"
	exit $rc
}

in_gw() { nsenter --net="/run/netns/$LAB_NS_GW" "$@"; }
ctl() { in_gw "$BUILD/relayguardctl" --pin-dir "$PIN" --pid-file "$WORK/relayguardd.pid" "$@"; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, BPF)"
for f in "$BUILD/relayguardd" "$BUILD/relayguardctl" "$BUILD/relayguard.bpf.o"; do
	[ -e "$f" ] || die "$f is missing: run 'make demo' (it builds first)"
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Setting up the lab: a mail gateway, a legitimate client, an attacker"
"$LAB" up "$PREFIX" strict policy || die "lab set-up failed"
# shellcheck disable=SC1090
. "/run/relayguard-lab-$PREFIX.env"
cat <<EOF
   gateway   $LAB_GW4  Postfix as gw.example.test (local domain example.test,
                       relays only for the trusted network 10.77.1.0/24);
                       relayguard follows what it receives for (postfix:DIR)
   client    $LAB_CL4 a legitimate sender
   attacker  $LAB_AT4 a spam bot looking for an open relay
   relayguard protects the gateway's interface $LAB_IF_GW, and Postfix asks
   it about every recipient (check_policy_service $LAB_POLICY_SERVICE)
EOF

say "Starting relayguardd on the gateway"
"$LAB" conf "$PREFIX" enforce >"$WORK/relayguard.conf"
# what is local is Postfix's to say: relayguardd follows its config
sed -i "s|^local_domains .*|local_domains    = postfix:$LAB_PF_CONF|" "$WORK/relayguard.conf"
show <"$WORK/relayguard.conf"
mkdir -p "$PIN"
in_gw "$BUILD/relayguardd" -f -c "$WORK/relayguard.conf" --pin-dir "$PIN" \
	--pid-file "$WORK/relayguardd.pid" >"$WORK/relayguardd.log" 2>&1 &
DAEMON_PID=$!
for ((i = 0; i < 200; i++)); do
	ip -n "$LAB_NS_GW" -d link show "$LAB_IF_GW" | grep -q prog/xdp &&
		[ -s "$WORK/relayguardd.pid" ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$DAEMON_PID" 2>/dev/null || die "relayguardd exited: $(tail "$WORK/relayguardd.log")"
for ((i = 0; i < 200; i++)); do # Postfix's local domains read
	grep -q '^readings=[1-9]' "$WORK/local_domains.state" 2>/dev/null && break
	sleep 0.05
done
ctl status | show

say "1. The legitimate client sends a message to user@example.test"
ip netns exec "$LAB_NS_CL" swaks --timeout 3 --server "$LAB_GW4" \
	--from alice@client.test --to user@example.test \
	--header "Subject: hello from the demo" >"$WORK/legit.out" 2>&1
grep -E '^ *(->|<-) *(MAIL|RCPT|250 2.0.0)' "$WORK/legit.out" | show
sleep 0.5
msg=$(ls -t "$LAB_MAILDIR/new" | head -n 1)
[ -n "$msg" ] || die "the message did not reach the maildir"
echo "   delivered to the maildir: $LAB_MAILDIR/new/$msg"
grep -E '^(From|To|Subject):' "$LAB_MAILDIR/new/$msg" | show

say "2. The attacker tries to relay through the gateway to victim@gmail.com"
echo "   (a bot: after each refusal it waits a moment and tries the next recipient)"
ip netns exec "$LAB_NS_AT" /usr/bin/python3 "$TOP/tests/e2e/smtp_session.py" \
	--server "$LAB_GW4" --pause 0.3 --timeout 2 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com --rcpt victim3@gmail.com | show
echo "   Postfix refused the first recipient (554 Relay access denied): one"
echo "   refused recipient is what a mail server does when a domain's MX wrongly"
echo "   points here, so relayguard only notes it (a finding). relayguard hears"
echo "   of each recipient twice, from Postfix's policy request and on the wire,"
echo "   and counts it once. The second one bans the attacker, so the bot's next"
echo "   command in the same session was never answered."
sleep 0.2
echo "   relayguardd's decision (event log $LAB_RUN/events.json):"
grep '"ban"' "$LAB_RUN/events.json" 2>/dev/null | head -n 1 | jq . | show

say "3. A second bot says STARTTLS first: the wire is opaque after it"
at2=$("$LAB" pool "$PREFIX" 1)
echo "   from $at2; Postfix asks relayguardd (the policy service) at each RCPT,"
echo "   after TLS, and relayguardd answers REJECT to a relay attempt"
ip netns exec "$LAB_NS_AT" /usr/bin/python3 "$TOP/tests/e2e/smtp_session.py" \
	--server "$LAB_GW4" --src "$at2" --starttls --pause 0.3 --timeout 2 \
	--rcpt victim@gmail.com --rcpt victim2@gmail.com --rcpt victim3@gmail.com | show
sleep 0.2
echo "   the ban, decided through the policy service (\"via\": \"policy\"):"
grep '"ban"' "$LAB_RUN/events.json" 2>/dev/null | grep "\"$at2\"" | head -n 1 | jq . | show
echo "   the ban, as relayguardctl lists it:"
ctl ban list | show

say "4. The first attacker connects again: its SYNs are dropped at XDP"
ip netns exec "$LAB_NS_AT" swaks --timeout 3 --server "$LAB_GW4" \
	--to user@example.test 2>&1 | grep -E '^\*\*\*|Trying' | show
echo "   the connection timed out; Postfix never saw it. The counters:"
ctl stats | grep -E '^(packets|pass_smtp|drop_ban) ' | show
echo "   the same counter straight from the pinned map, one value per CPU"
echo "   (bpftool map dump pinned $PIN/stats):"
in_gw bpftool map dump pinned "$PIN/stats" | grep -E '"cpu"|"drop_ban"' | paste - - |
	tr -s ' \t' ' ' | show

say "5. The legitimate client is not affected"
ip netns exec "$LAB_NS_CL" swaks --timeout 3 --server "$LAB_GW4" \
	--from alice@client.test --to user@example.test \
	--header "Subject: still fine" 2>&1 | grep -E '<- *250 2.0.0' | show

say "Done: relay attempts banned in-session (on the wire and inside STARTTLS), attacker dropped at XDP, mail flows"
