#!/usr/bin/env bash
# Install everything relayguard's build, tests, benchmarks and lab need.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

PACKAGES=(
	# build
	make gcc clang llvm pkg-config clang-format
	libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
	libnl-3-dev libnl-route-3-dev libpcap-dev
	libcurl4-openssl-dev libjson-c-dev
	# the Debian package (make deb)
	debhelper dpkg-dev fakeroot lintian logrotate
	# tests and fuzzing
	libcmocka-dev libclang-rt-14-dev libnetfilter-queue-dev
	iproute2 iptables nftables jq python3 python3-scapy
	tcpdump tshark prometheus bash-completion groff-base
	# the flood benchmark (trafgen)
	netsniff-ng
	# the fleet tests: a private CrowdSec Local API
	crowdsec
	# benchmark baseline: xdp-filter (its BPF objects come with libxdp1)
	xdp-tools
	# the lab
	postfix swaks openssl libnet-ssleay-perl libio-socket-inet6-perl sasl2-bin
	# the lab: a pcre table relayguard asks Postfix about (local_domains)
	postfix-pcre
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$pkg")
done

# crowdsec (the fleet tests start private Local APIs from it) must neither
# run host-wide nor register with the Central API: a non-empty
# online_api_credentials.yaml made before the install stops its postinst
# from calling `cscli capi register` (README.Debian), and a policy-rc.d of
# our own, only while apt runs and only if none exists, stops the service
# from being started.
own_policy_rc=
cleanup() { if [[ -n $own_policy_rc ]]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT
if [[ " ${missing[*]-} " == *" crowdsec "* ]]; then
	mkdir -p /etc/crowdsec
	capi=/etc/crowdsec/online_api_credentials.yaml
	if [[ ! -s $capi ]]; then
		echo '# relayguard: no Central API on this machine' >"$capi"
	fi
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		own_policy_rc=1
	fi
fi

if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	debconf-set-selections <<-'SEL'
	postfix postfix/main_mailer_type select No configuration
	postfix postfix/mailname string gw.example.test
	wireshark-common wireshark-common/install-setuid boolean false
	SEL
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=900 "${missing[@]}"
fi
cleanup
own_policy_rc=

# Whatever installed it, the packaged crowdsec service stays off (disable
# works on the unit links even where systemd is not running).
if command -v systemctl >/dev/null && [[ -e /lib/systemd/system/crowdsec.service ]]; then
	systemctl disable crowdsec.service >/dev/null 2>&1 || true
	if [[ -d /run/systemd/system ]]; then
		systemctl stop crowdsec.service >/dev/null 2>&1 || true
	fi
fi

# The lab's Postfix runs with its own config directory; the host's must not
# run or be touched.
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
