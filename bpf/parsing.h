/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Packet parsing for both programs: a cursor over direct packet access and
 * one parse_* helper per header, each checking bounds before it reads.
 * Ethernet, up to two VLAN tags, IPv4 (with options) or IPv6 (with a
 * bounded number of extension headers), then TCP. */
#ifndef RG_BPF_PARSING_H
#define RG_BPF_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "relayguard.h" /* RG_TCP_* */

#define RG_MAX_VLAN	2
#define RG_MAX_IPV6_EXT 6

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

enum rg_parse {
	RG_PARSE_TCP = 0,  /* TCP ports present: pkt filled in */
	RG_PARSE_NOT_TCP,  /* parsed, not TCP (ARP, UDP, ICMP...) */
	RG_PARSE_FRAGMENT, /* non-first IP fragment: source filled in,
			    * frag_tcp when its IP header says TCP */
	RG_PARSE_BAD,	   /* truncated or malformed before the source */
	RG_PARSE_OPAQUE,   /* source known, TCP ports not reached (extension
			    * headers past the bound, truncated headers) */
};

struct hdr_cursor {
	void *pos;
};

/* What the verdict and sampling code needs from a TCP packet. Addresses,
 * ports, seq and ack stay in network order. */
struct rg_pkt {
	__u32 saddr[4]; /* v4 in saddr[0] */
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	__u8 family;
	__u8 tcp_flags;
	__u8 first_frag; /* MF set, offset 0: more of the datagram follows */
	__u8 frag_tcp;	 /* RG_PARSE_FRAGMENT: the IP header says TCP */
	__u32 ip_end; /* offset of the end of the IP datagram (0: packet end) */
	void *l3;     /* the IP header: pkt_addrs() copies the addresses */
	struct tcphdr *tcp;
	__u32 payload_off; /* from the start of the packet */
	__u32 payload_len;
};

struct rg_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct rg_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

struct rg_ipv6_opt {
	__u8 nexthdr;
	__u8 hdrlen;
};

static __always_inline int proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) ||
	       proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet and up to RG_MAX_VLAN tags; *proto: the inner ethertype. */
static __always_inline int parse_ethhdr(struct hdr_cursor *c, void *end,
					__be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct rg_vlan_hdr *vlh;
	int i;

	if ((void *)(eth + 1) > end)
		return RG_PARSE_BAD;
	c->pos = eth + 1;
	*proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < RG_MAX_VLAN; i++) {
		if (!proto_is_vlan(*proto))
			break;
		vlh = c->pos;
		if ((void *)(vlh + 1) > end)
			return RG_PARSE_BAD;
		c->pos = vlh + 1;
		*proto = vlh->proto;
	}
	return RG_PARSE_TCP;
}

static __always_inline int parse_iphdr(struct hdr_cursor *c, void *end,
				       struct rg_pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > end)
		return RG_PARSE_BAD;
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph))
		return RG_PARSE_BAD;
	if (c->pos + hlen > end)
		return RG_PARSE_BAD;
	if (iph->protocol != IPPROTO_TCP)
		return (iph->frag_off & bpf_htons(0x1fff)) ? RG_PARSE_FRAGMENT
							   : RG_PARSE_NOT_TCP;
	p->family = AF_INET;
	p->l3 = iph;
	if (iph->frag_off & bpf_htons(0x1fff)) {
		p->frag_tcp = 1;
		return RG_PARSE_FRAGMENT;
	}
	c->pos += hlen;
	return RG_PARSE_TCP;
}

/* Skip extension headers until TCP (or give up after RG_MAX_IPV6_EXT:
 * RG_PARSE_BAD, which the caller reports as OPAQUE, the source known). */
static __always_inline int parse_ipv6_ext(struct hdr_cursor *c, void *end,
					  __u8 *nexthdr, struct rg_pkt *p)
{
	struct rg_ipv6_opt *opt;
	struct rg_ipv6_frag *fh;
	int i;

#pragma unroll
	for (i = 0; i < RG_MAX_IPV6_EXT; i++) {
		switch (*nexthdr) {
		case IPPROTO_TCP:
			return RG_PARSE_TCP;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			opt = c->pos;
			if ((void *)(opt + 1) > end)
				return RG_PARSE_BAD;
			/* AH counts 4-byte units less 2 (RFC 4302), the
			 * others 8-byte units less 1 (RFC 8200) */
			if (*nexthdr == IPPROTO_AH)
				c->pos += (opt->hdrlen + 2) * 4;
			else
				c->pos += (opt->hdrlen + 1) * 8;
			*nexthdr = opt->nexthdr;
			break;
		case IPPROTO_FRAGMENT:
			fh = c->pos;
			if ((void *)(fh + 1) > end)
				return RG_PARSE_BAD;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->frag_tcp = fh->nexthdr == IPPROTO_TCP;
				return RG_PARSE_FRAGMENT;
			}
			p->first_frag = !!(fh->frag_off & bpf_htons(1));
			*nexthdr = fh->nexthdr;
			c->pos = fh + 1;
			break;
		default:
			return RG_PARSE_NOT_TCP;
		}
	}
	return *nexthdr == IPPROTO_TCP ? RG_PARSE_TCP : RG_PARSE_BAD;
}

static __always_inline int parse_ip6hdr(struct hdr_cursor *c, void *end,
					struct rg_pkt *p)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 nexthdr;
	int ret;

	if ((void *)(ip6h + 1) > end)
		return RG_PARSE_BAD;
	if (ip6h->version != 6)
		return RG_PARSE_BAD;
	c->pos = ip6h + 1;
	nexthdr = ip6h->nexthdr;
	ret = parse_ipv6_ext(c, end, &nexthdr, p);
	if (ret == RG_PARSE_NOT_TCP)
		return ret;
	p->family = AF_INET6;
	p->l3 = ip6h;
	if (ret != RG_PARSE_TCP)
		return ret == RG_PARSE_BAD ? RG_PARSE_OPAQUE : ret;
	return RG_PARSE_TCP;
}

/* The TCP ports only (a tiny first fragment may carry no more);
 * parse_tcp_payload checks the whole header. */
static __always_inline int parse_tcphdr(struct hdr_cursor *c, void *end,
					struct rg_pkt *p)
{
	struct tcphdr *th = c->pos;

	if ((void *)th + 4 > end)
		return RG_PARSE_OPAQUE;
	p->tcp = th;
	p->sport = th->source;
	p->dport = th->dest;
	return RG_PARSE_TCP;
}

/* Ethernet to TCP ports. Everything past the ports is read only for SMTP
 * packets, by parse_tcp_payload. */
static __always_inline int parse_packet(void *data, void *end, struct rg_pkt *p)
{
	struct hdr_cursor c = { .pos = data };
	__be16 proto;
	int ret;

	p->first_frag = 0;
	p->frag_tcp = 0;
	ret = parse_ethhdr(&c, end, &proto);
	if (ret != RG_PARSE_TCP)
		return ret;
	if (proto == bpf_htons(ETH_P_IP))
		ret = parse_iphdr(&c, end, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ip6hdr(&c, end, p);
	else
		return RG_PARSE_NOT_TCP;
	if (ret != RG_PARSE_TCP)
		return ret;
	return parse_tcphdr(&c, end, p);
}

/* The addresses of the packet parse_packet found TCP (or its source). */
static __always_inline void pkt_addrs(struct rg_pkt *p, void *end)
{
	struct ipv6hdr *ip6h = p->l3;
	struct iphdr *iph = p->l3;

	if (p->family == AF_INET && (void *)(iph + 1) <= end) {
		p->saddr[0] = iph->saddr;
		p->daddr[0] = iph->daddr;
		p->saddr[1] = p->saddr[2] = p->saddr[3] = 0;
		p->daddr[1] = p->daddr[2] = p->daddr[3] = 0;
	} else if (p->family == AF_INET6 && (void *)(ip6h + 1) <= end) {
		__builtin_memcpy(p->saddr, &ip6h->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6h->daddr, 16);
	} else {
		__builtin_memset(p->saddr, 0, 16);
		__builtin_memset(p->daddr, 0, 16);
	}
}

/* Where the IP datagram ends (0: at the packet's end) and, for IPv4,
 * whether it is a first fragment (IPv6 found that in its fragment
 * header): read only once a packet is known to go to an SMTP port, which
 * spares every other packet the work. RG_PARSE_BAD: a total length
 * shorter than the IPv4 header. */
static __always_inline int parse_ip_end(void *data, void *end, struct rg_pkt *p)
{
	struct ipv6hdr *ip6h = p->l3;
	struct iphdr *iph = p->l3;
	__u32 len;

	if (p->family == AF_INET) {
		if ((void *)(iph + 1) > end)
			return RG_PARSE_BAD;
		len = bpf_ntohs(iph->tot_len);
		if (len && len < iph->ihl * 4U)
			return RG_PARSE_BAD;
		p->first_frag = !!(iph->frag_off & bpf_htons(0x2000));
		p->ip_end = len ? (__u32)((void *)iph - data) + len : 0;
		return RG_PARSE_TCP;
	}
	if ((void *)(ip6h + 1) > end)
		return RG_PARSE_BAD;
	len = bpf_ntohs(ip6h->payload_len);
	p->ip_end = len ? (__u32)((void *)(ip6h + 1) - data) + len : 0;
	return RG_PARSE_TCP;
}

/* Flags, seq, ack and where the payload is. pkt_len: bytes in the whole
 * packet (may exceed the linear part for an skb). */
static __always_inline int parse_tcp_payload(void *data, void *end,
					     __u32 pkt_len, struct rg_pkt *p)
{
	struct tcphdr *th = p->tcp;
	__u32 off, last;

	if (parse_ip_end(data, end, p) != RG_PARSE_TCP)
		return RG_PARSE_BAD;
	if ((void *)(th + 1) > end)
		return RG_PARSE_BAD;
	if (th->doff < 5)
		return RG_PARSE_BAD;
	p->tcp_flags = ((__u8 *)th)[13];
	p->seq = th->seq;
	p->ack = th->ack_seq;
	off = (void *)th - data + th->doff * 4;
	last = pkt_len;
	if (p->ip_end && p->ip_end < last)
		last = p->ip_end;
	if (off > last)
		return RG_PARSE_BAD;
	p->payload_off = off;
	p->payload_len = last - off;
	return RG_PARSE_TCP;
}

#endif
