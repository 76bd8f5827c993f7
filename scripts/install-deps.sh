#!/usr/bin/env bash
# Install everything relayguard's build, tests, benchmarks and lab need.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

PACKAGES=(
	# build
	make gcc clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
	libnl-3-dev libnl-route-3-dev libpcap-dev
	# tests and fuzzing
	libcmocka-dev libclang-rt-14-dev libnetfilter-queue-dev
	iproute2 iptables nftables jq python3 python3-scapy
	tcpdump tshark prometheus bash-completion groff-base
	# benchmark baseline: xdp-filter (its BPF objects come with libxdp1)
	xdp-tools
	# the lab
	postfix swaks openssl libnet-ssleay-perl libio-socket-inet6-perl sasl2-bin
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$pkg")
done

if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	debconf-set-selections <<-'SEL'
	postfix postfix/main_mailer_type select No configuration
	postfix postfix/mailname string gw.example.test
	wireshark-common wireshark-common/install-setuid boolean false
	SEL
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The lab's Postfix runs with its own config directory; the host's must not
# run or be touched.
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
