#!/usr/bin/env bash
# Helpers for the fleet tests (tests/fleet/test-*.sh): a CrowdSec Local API
# private to the test (its own config, SQLite database and namespace under
# the test's temp dir, `crowdsec -no-cs -no-capi`: never the host's service,
# never the Central API) and one or more gateways, each a lab of its own
# (scripts/lab.sh) with relayguardd, linked to the LAPI's namespace by a
# veth. fleet_use N makes gateway N the one the e2e.sh helpers (e2e_stat,
# e2e_ban4, e2e_session...) talk to. Sourcing this sources tests/lib.sh and
# tests/e2e/e2e.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/e2e.sh"

FLEET_CS_PORT=8080

# Skip without what the fleet tests need; on failure, dump the logs.
fleet_require() {
	e2e_require
	rg_require_cmds crowdsec cscli curl
	rg_on_exit '[ "$rc" = 0 ] || fleet_dump_logs >&$E2E_ERR 2>&1'
}

fleet_dump_logs() {
	local f
	for f in "$RG_TMP"/gw*/relayguardd.log "$RG_TMP"/cs/crowdsec.log; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f"
		tail -n 25 "$f"
	done
	return 0
}

# fleet_lapi: write the LAPI's config under $RG_TMP/cs, create its
# namespace ($FLEET_NS_CS), register a cscli machine and start crowdsec.
fleet_lapi() {
	local d="$RG_TMP/cs"
	mkdir -p "$d/data" "$d/hub" "$d/etc"
	cp /etc/crowdsec/profiles.yaml /etc/crowdsec/simulation.yaml "$d/etc/" ||
		fail "no /etc/crowdsec: make deps"
	: >"$d/etc/acquis.yaml"
	cat >"$d/etc/config.yaml" <<-EOF
	common:
	  daemonize: false
	  log_media: stdout
	  log_level: info
	  working_dir: $d
	config_paths:
	  config_dir: $d/etc/
	  data_dir: $d/data/
	  simulation_path: $d/etc/simulation.yaml
	  hub_dir: $d/hub/
	  index_path: $d/hub/.index.json
	  notification_dir: $d/etc/notifications/
	  plugin_dir: /usr/lib/crowdsec/plugins/
	crowdsec_service:
	  acquisition_path: $d/etc/acquis.yaml
	cscli:
	  output: human
	  color: never
	db_config:
	  log_level: warning
	  type: sqlite
	  db_path: $d/data/crowdsec.db
	  use_wal: true
	api:
	  client:
	    insecure_skip_verify: false
	    credentials_path: $d/etc/local_api_credentials.yaml
	  server:
	    log_level: info
	    listen_uri: 0.0.0.0:$FLEET_CS_PORT
	    profiles_path: $d/etc/profiles.yaml
	    trusted_ips:
	      - 127.0.0.1
	prometheus:
	  enabled: false
	EOF
	FLEET_CS_CONF="$d/etc/config.yaml"
	FLEET_NS_CS=$(rg_netns cs)
	ip -n "$FLEET_NS_CS" addr add 127.0.0.1/8 dev lo 2>/dev/null
	# the credentials cscli itself uses (url from listen_uri: loopback)
	fleet_cscli machines add cscli --auto \
		-f "$d/etc/local_api_credentials.yaml" >/dev/null ||
		fail "cscli machines add failed"
	sed -i "s|^url: .*|url: http://127.0.0.1:$FLEET_CS_PORT|" \
		"$d/etc/local_api_credentials.yaml"
	fleet_lapi_start
}

fleet_lapi_start() {
	rg_bg "$RG_TMP/cs/crowdsec.log" rg_in "$FLEET_NS_CS" crowdsec \
		-c "$FLEET_CS_CONF" -no-cs -no-capi
	FLEET_CS_PID=$RG_BG_PID
	rg_wait_for 30 fleet_lapi_up || fail "the LAPI did not come up: $(tail -5 "$RG_TMP/cs/crowdsec.log")"
}

fleet_lapi_up() {
	rg_in "$FLEET_NS_CS" curl -s -o /dev/null -m 1 \
		"http://127.0.0.1:$FLEET_CS_PORT/health" ||
		rg_in "$FLEET_NS_CS" curl -s -o /dev/null -m 1 \
			"http://127.0.0.1:$FLEET_CS_PORT/v1/decisions"
}

fleet_lapi_kill() {
	kill "$FLEET_CS_PID"
	wait "$FLEET_CS_PID" 2>/dev/null
	! fleet_lapi_up || fail "the LAPI still answers after kill"
}

# fleet_cscli ARGS...: cscli on the test's LAPI (from its namespace).
fleet_cscli() {
	rg_in "$FLEET_NS_CS" cscli -c "$FLEET_CS_CONF" "$@"
}

# fleet_gw N VARIANT: lab N (strict|none), a veth to the LAPI
# (10.99.N.1 there, 10.99.N.2 on the gateway), a bouncer key and machine
# password of its own in 0600 files.
fleet_gw() {
	local n=$1 p="f$$$1" d="$RG_TMP/gw$1"
	mkdir -p "$d"
	rg_on_exit "'$LAB' down '$p'"
	"$LAB" up "$p" "$2" >/dev/null || fail "lab $p up failed"
	# shellcheck disable=SC1090
	. "/run/relayguard-lab-$p.env"
	rg_veth "$FLEET_NS_CS" "${RG_PREFIX}c$n" "$LAB_NS_GW" "${RG_PREFIX}g$n"
	ip -n "$FLEET_NS_CS" addr add "10.99.$n.1/30" dev "${RG_PREFIX}c$n"
	ip -n "$LAB_NS_GW" addr add "10.99.$n.2/30" dev "${RG_PREFIX}g$n"
	(umask 077
	 fleet_cscli bouncers add "gw$n-$$" -o raw >"$d/bouncer.key" &&
	 head -c 24 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' >"$d/machine.pw" &&
	 fleet_cscli machines add "gw$n-$$" --password "$(cat "$d/machine.pw")" \
		-f "$d/machine.yaml" >/dev/null) ||
		fail "cannot register gw$n with the LAPI"
	cp "/run/relayguard-lab-$p.env" "$d/lab.env"
	mkdir -p "${RG_PIN_DIR}$n"
	rg_on_exit "rm -rf '${RG_PIN_DIR}$n'"
}

# fleet_open_relay: the LAPI and gateway 1 (lab variant open), the one the
# e2e.sh helpers use.
fleet_open_relay() {
	fleet_lapi
	fleet_gw 1 open
	fleet_use 1
}

# fleet_use N: gateway N for the e2e.sh helpers.
fleet_use() {
	# shellcheck disable=SC1090
	. "$RG_TMP/gw$1/lab.env"
	PIN="${RG_PIN_DIR}$1"
	E2E_EVENTS="$LAB_RUN/events.json"
	E2E_DAEMON_LOG="$RG_TMP/gw$1/relayguardd.log"
	FLEET_GW_DIR="$RG_TMP/gw$1"
	FLEET_N=$1
}

# fleet_conf N [KEY=VALUE...]: gateway N's config (the lab's, the LAPI's
# keys, extra keys override; KEY= removes KEY) in
# $FLEET_GW_DIR/relayguard.conf.
fleet_conf() {
	local n=$1 kv conf
	shift
	fleet_use "$n"
	conf="$FLEET_GW_DIR/relayguard.conf"
	"$LAB" conf "$LAB_PREFIX" enforce >"$conf"
	cat >>"$conf" <<-EOF
	crowdsec_lapi_url = http://10.99.$n.1:$FLEET_CS_PORT/
	crowdsec_bouncer_key_file = $FLEET_GW_DIR/bouncer.key
	crowdsec_machine_id = gw$n-$$
	crowdsec_machine_password_file = $FLEET_GW_DIR/machine.pw
	crowdsec_poll_interval = 1s
	metrics_interval = 1s
	EOF
	for kv in "$@"; do
		sed -i "/^${kv%%=*} *=/d" "$conf"
		[ -z "${kv#*=}" ] || echo "${kv%%=*} = ${kv#*=}" >>"$conf"
	done
}

# fleet_daemon N [KEY=VALUE...]: relayguardd on gateway N, bouncer and
# machine of the test's LAPI. Sets FLEET_PID_<N>.
fleet_daemon() {
	local n=$1 conf
	shift
	fleet_conf "$n" "$@"
	conf="$FLEET_GW_DIR/relayguard.conf"
	rm -f "$FLEET_GW_DIR/relayguardd.pid"
	rg_bg "$E2E_DAEMON_LOG" nsenter --net="/run/netns/$LAB_NS_GW" \
		"$RG_DAEMON" -f -c "$conf" --pin-dir "$PIN" \
		--pid-file "$FLEET_GW_DIR/relayguardd.pid" \
		--metrics-file "$FLEET_GW_DIR/metrics.prom"
	eval "FLEET_PID_$n=$RG_BG_PID"
	E2E_DAEMON_PID=$RG_BG_PID
	rg_wait_for 10 fleet_ready || fail "relayguardd on gw$n not ready: $(e2e_daemon_log)"
}

fleet_ready() {
	kill -0 "$E2E_DAEMON_PID" 2>/dev/null || return 1
	[ -s "$FLEET_GW_DIR/relayguardd.pid" ] || return 1
	e2e_attached && [ -e "$PIN/stats" ]
}

# fleet_ctl ARGS...: relayguardctl on the current gateway.
fleet_ctl() {
	rg_in "$LAB_NS_GW" "$RG_CTL" --pin-dir "$PIN" \
		--pid-file "$FLEET_GW_DIR/relayguardd.pid" "$@"
}

# fleet_origin4 SOURCE: the origin of SOURCE's ban on the current gateway
# ("local", "crowdsec:cscli"...), from `relayguardctl -j ban list` (SOURCE
# as it lists it: "10.77.0.66", "fd77::/64").
fleet_origin4() {
	fleet_ctl -j ban list | jq -er --arg a "$1" \
		'.[] | select(.source == $a) | .origin'
}

# fleet_syn ADDR PORT [SRC]: one TCP connection attempt from the current
# gateway's attacker; prints refused, open or timeout.
fleet_syn() {
	ip netns exec "$LAB_NS_AT" "$SYS_PY" - "$@" <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
	s.settimeout(2)
	if len(sys.argv) > 3:
	    s.bind((sys.argv[3], 0))
	try:
	    s.connect((sys.argv[1], int(sys.argv[2])))
	    print("open")
	except ConnectionRefusedError:
	    print("refused")
	except OSError:
	    print("timeout")
	EOF
}

# fleet_count4 N: bans4 entries on gateway N now.
fleet_count4() {
	fleet_use "$1"
	e2e_ban4_count
}

# fleet_import N: N decisions (4h, scope Ip, 11.0.0.0 on) imported into the
# LAPI with `cscli decisions import`. crowdsec 1.4.6 on SQLite may answer
# "database is locked" when the import meets a bouncer's pull: retried (the
# same decisions twice are the same bans).
fleet_import() {
	local try
	awk -v n="$1" 'BEGIN {
		print "duration,scope,value"
		for (i = 0; i < n; i++)
			printf "4h,ip,11.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256
	}' >"$RG_TMP/decisions.csv"
	for try in 1 2 3; do
		fleet_cscli decisions import -i "$RG_TMP/decisions.csv" \
			>"$RG_TMP/import.out" 2>&1 && return 0
		echo "# import try $try: $(grep -o 'msg=.*' "$RG_TMP/import.out" | tail -1)"
		sleep 1
	done
	fail "cscli decisions import: $(tail -3 "$RG_TMP/import.out")"
}

# fleet_whole_sets: whole sets the current gateway has applied (the log
# line of each: info after a start or an outage, debug otherwise).
fleet_whole_sets() {
	grep -c 'crowdsec bouncer: whole set' "$E2E_DAEMON_LOG"
}

fleet_whole_sets_gt() { [ "$(fleet_whole_sets)" -gt "$1" ]; }

# fleet_lapi_refuse on|off: the LAPI resets the current gateway's
# connections (iptables-legacy in the LAPI's namespace only).
fleet_lapi_refuse() {
	local op=-D
	[ "$1" = on ] && op=-I
	ip netns exec "$FLEET_NS_CS" iptables-legacy $op INPUT -p tcp \
		--dport $FLEET_CS_PORT -s "10.99.$FLEET_N.2" \
		-j REJECT --reject-with tcp-reset
}

# fleet_force_whole_set: a short outage of the LAPI for the current
# gateway: once a pull has failed, the next takes the whole set. Waits
# until that whole set is applied.
fleet_force_whole_set() {
	local n
	n=$(fleet_whole_sets)
	fleet_lapi_refuse on || fail "cannot make the LAPI refuse gw$FLEET_N"
	rg_wait_for 30 grep -qx bouncer=unreachable "$FLEET_GW_DIR/crowdsec.state" ||
		fail "gw$FLEET_N's pulls did not fail"
	fleet_lapi_refuse off
	rg_wait_for 120 fleet_whole_sets_gt "$n" ||
		fail "no whole set applied after the outage: $(e2e_daemon_log)"
}

# fleet_attempts_start NAME FIRST N: from the current gateway's attacker,
# a relay attempt every 100 ms (tests/fleet/relay_attempts.py), each from a
# fresh address of its pool (the N from number FIRST on, at most 4000), until
# fleet_attempts_stop NAME; their transcripts then in $RG_TMP/NAME.attempts.
fleet_attempts_start() {
	# the whole pool at once: `lab.sh pool` adds nothing to a pool it made
	[ -s "$RG_TMP/pool" ] || "$LAB" pool "$LAB_PREFIX" 4000 >"$RG_TMP/pool" ||
		fail "cannot give the attacker its address pool"
	sed -n "$(($2 + 1)),$(($2 + $3))p" "$RG_TMP/pool" >"$RG_TMP/$1.sources"
	rm -f "$RG_TMP/$1.stop"
	rg_bg "$RG_TMP/$1.attempts" ip netns exec "$LAB_NS_AT" "$SYS_PY" \
		"$RG_TOP/tests/fleet/relay_attempts.py" --server "$LAB_GW4" \
		--sources "$RG_TMP/$1.sources" --stop "$RG_TMP/$1.stop"
	eval "FLEET_ATTEMPTS_$1=$RG_BG_PID"
}

fleet_attempts_stop() {
	local pid
	eval "pid=\$FLEET_ATTEMPTS_$1"
	touch "$RG_TMP/$1.stop"
	rg_wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" ||
		fail "the relay attempts did not stop"
}

# fleet_bans_from_cs N: at least N bans from CrowdSec on the current
# gateway (relayguardctl status).
fleet_bans_from_cs() {
	fleet_ctl -j status | jq -e ".crowdsec.bans_from_crowdsec >= $1" >/dev/null
}

# fleet_open_relay_attacker: the attacker 20 ms from the current gateway
# (e2e_slow_attacker), whose open relay keeps up with a relay attempt
# every 100 ms: a banned client's session holds an smtpd until
# smtpd_timeout (its packets are dropped), and 3 s keeps that many within
# Postfix's process limit.
fleet_open_relay_attacker() {
	e2e_slow_attacker 20
	e2e_postconf smtpd_timeout=3s
}
