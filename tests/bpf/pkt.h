/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Test packet builder for the BPF verdict tests and the benchmark:
 * Ethernet, optional VLAN tags, IPv4 (options, fragments) or IPv6
 * (extension headers), TCP or UDP or ICMP, payload, then an optional
 * truncation. Every field has a usable default, so a case names only what
 * it is about. Header-only: static functions. */
#ifndef RG_TEST_PKT_H
#define RG_TEST_PKT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#define PKT_MAX 9000
#define PKT_MAX_EXT 8

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

struct pkt_spec {
	int family; /* 4 (default) or 6; 0 with ethertype set: raw */
	uint16_t ethertype; /* non-IP frame (e.g. ETH_P_ARP), 28-byte body */
	const char *src, *dst;
	int proto; /* IPPROTO_TCP (default), IPPROTO_UDP, IPPROTO_ICMP... */
	uint16_t sport, dport; /* host order; defaults 40000 -> 25 */
	uint8_t flags; /* TCP flags; default SYN (use TH_ACK etc.) */
	int noflags; /* really no TCP flags */
	uint32_t seq, ack; /* host order */
	const char *payload; /* text payload */
	int payload_len; /* else: this many pattern bytes ('a' + i % 26) */
	int vlans; /* 0..3 tags */
	uint16_t vlan_tpid[3]; /* default 0x8100 */
	int ip_opts; /* IPv4 option bytes (multiple of 4) */
	uint16_t frag; /* IPv4 frag_off field, host order (MF 0x2000) */
	uint8_t ext[PKT_MAX_EXT]; /* IPv6 extension headers, in order */
	int n_ext;
	uint16_t v6frag; /* IPv6 fragment header's offset field, host order */
	int tcp_opts; /* TCP option bytes (multiple of 4) */
	int trunc; /* cut the packet to this many bytes */
	int ihl, doff, version; /* overrides, for malformed headers */
	int tot_len; /* IPv4 total length (-1: header only) or IPv6 payload
		      * length override */
};

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static int pkt_l4(const struct pkt_spec *s, uint8_t *p, int proto)
{
	int plen = s->payload ? (int)strlen(s->payload) : s->payload_len;
	int hlen, i;

	if (proto == IPPROTO_TCP) {
		struct tcphdr th = { 0 };
		uint8_t flags = s->flags ? s->flags : (s->noflags ? 0 : TH_SYN);

		hlen = sizeof(th) + s->tcp_opts;
		th.source = htons(s->sport ? s->sport : 40000);
		th.dest = htons(s->dport ? s->dport : 25);
		th.seq = htonl(s->seq);
		th.ack_seq = htonl(s->ack);
		th.doff = s->doff ? s->doff : hlen / 4;
		th.window = htons(65535);
		memcpy(p, &th, sizeof(th));
		p[13] = flags;
		memset(p + sizeof(th), 1, s->tcp_opts); /* NOPs */
	} else if (proto == IPPROTO_UDP) {
		struct udphdr uh = { 0 };

		hlen = sizeof(uh);
		uh.source = htons(s->sport ? s->sport : 40000);
		uh.dest = htons(s->dport ? s->dport : 53);
		uh.len = htons(hlen + plen);
		memcpy(p, &uh, sizeof(uh));
	} else {
		hlen = 8; /* ICMP echo */
		memset(p, 0, hlen);
		p[0] = proto == IPPROTO_ICMPV6 ? 128 : 8;
	}
	if (s->payload)
		memcpy(p + hlen, s->payload, plen);
	else
		for (i = 0; i < plen; i++)
			p[hlen + i] = 'a' + i % 26;
	return hlen + plen;
}

static int pkt_ipv4(const struct pkt_spec *s, uint8_t *p, int proto)
{
	struct iphdr ip = { 0 };
	int hlen = sizeof(ip) + s->ip_opts, l4;

	l4 = pkt_l4(s, p + hlen, proto);
	ip.version = s->version ? s->version : 4;
	ip.ihl = s->ihl ? s->ihl : hlen / 4;
	ip.ttl = 64;
	ip.protocol = proto;
	ip.frag_off = htons(s->frag);
	ip.tot_len = htons(s->tot_len == -1 ? hlen :
			   s->tot_len ? s->tot_len : hlen + l4);
	inet_pton(AF_INET, s->src ? s->src : "192.0.2.10", &ip.saddr);
	inet_pton(AF_INET, s->dst ? s->dst : "198.51.100.1", &ip.daddr);
	memcpy(p, &ip, sizeof(ip));
	memset(p + sizeof(ip), 1, s->ip_opts); /* NOP options */
	return hlen + l4;
}

static int pkt_ipv6(const struct pkt_spec *s, uint8_t *p, int proto)
{
	struct ipv6hdr ip6 = { 0 };
	uint8_t *q = p + sizeof(ip6);
	int i, l4;

	ip6.version = s->version ? s->version : 6;
	ip6.hop_limit = 64;
	ip6.nexthdr = s->n_ext ? s->ext[0] : proto;
	inet_pton(AF_INET6, s->src ? s->src : "2001:db8:1:2::10", &ip6.saddr);
	inet_pton(AF_INET6, s->dst ? s->dst : "2001:db8:ff::1", &ip6.daddr);
	for (i = 0; i < s->n_ext; i++) {
		uint8_t next = i + 1 < s->n_ext ? s->ext[i + 1] : proto;

		memset(q, 0, 8);
		q[0] = next;
		if (s->ext[i] == IPPROTO_FRAGMENT)
			pkt_put16(q + 2, s->v6frag);
		if (s->ext[i] == IPPROTO_AH) {
			memset(q, 0, 24);
			q[0] = next;
			q[1] = 4; /* 24 bytes: (4 + 2) * 4 */
			q += 16;
		}
		q += 8; /* hdrlen 0: 8 bytes for every kind we build */
	}
	l4 = pkt_l4(s, q, proto);
	ip6.payload_len = htons(s->tot_len ? (size_t)s->tot_len :
					    q + l4 - p - sizeof(ip6));
	memcpy(p, &ip6, sizeof(ip6));
	return q + l4 - p;
}

/* Build s into buf (PKT_MAX bytes); returns the length. */
static int pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	static const uint8_t dmac[6] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t smac[6] = { 2, 0, 0, 0, 0, 2 };
	int proto = s->proto ? s->proto : IPPROTO_TCP;
	uint16_t etype;
	uint8_t *p = buf;
	int i, len;

	memset(buf, 0, PKT_MAX);
	memcpy(p, dmac, 6);
	memcpy(p + 6, smac, 6);
	p += 12;
	for (i = 0; i < s->vlans; i++) {
		pkt_put16(p, s->vlan_tpid[i] ? s->vlan_tpid[i] : ETH_P_8021Q);
		pkt_put16(p + 2, 100 + i);
		p += 4;
	}
	if (s->ethertype)
		etype = s->ethertype;
	else
		etype = s->family == 6 ? ETH_P_IPV6 : ETH_P_IP;
	pkt_put16(p, etype);
	p += 2;
	if (s->ethertype)
		len = 28; /* an ARP body's size; content irrelevant */
	else if (s->family == 6)
		len = pkt_ipv6(s, p, proto);
	else
		len = pkt_ipv4(s, p, proto);
	len += p - buf;
	if (len < 60 && !s->trunc) {
		len = 60; /* Ethernet minimum: zero padding after the IP end */
	}
	if (s->trunc && s->trunc < len)
		len = s->trunc;
	return len;
}

#endif
