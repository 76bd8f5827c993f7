/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* relayguard data plane. rg_xdp (ingress) decides: not TCP to an SMTP
 * port -> pass; allow -> pass; ban, deny, SYN over the per-source or
 * global bucket -> drop (or count, in monitor mode); else pass. It samples
 * what it passes. rg_tc_egress samples the server's side and never drops.
 * Anything it cannot parse passes and is counted. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "aclmark.h"
#include "clock.h"
#include "flowtable.h"
#include "maps.h"
#include "parsing.h"
#include "ratelimit.h"
#include "sample.h"

/* What would drop an SMTP packet: cause_counter() picks its drop_* or
 * monitor_* counter. */
enum rg_cause {
	RG_CAUSE_NONE = 0,
	RG_CAUSE_DENY,
	RG_CAUSE_BAN,
	RG_CAUSE_SYN_RATE,
	RG_CAUSE_SYN_GLOBAL,
	RG_CAUSE_FRAG_TINY,
	RG_CAUSE_FRAG_PAYLOAD,
};

static __always_inline struct rg_stats *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline int port_is_smtp(const struct rg_config *cfg, __u16 port)
{
	__u8 n = cfg->n_smtp_ports;
	int i;

	if (!n)
		return port == bpf_htons(RG_DEFAULT_SMTP_PORT);
#pragma unroll
	for (i = 0; i < RG_MAX_SMTP_PORTS; i++) {
		if (i >= n)
			break;
		if (cfg->smtp_ports[i] == port)
			return 1;
	}
	return 0;
}

/* Clear the bits of addr past prefix (bans6 and ratelimit grouping). */
static __always_inline void mask_ip6(__u32 *addr, __u8 prefix)
{
	int i, bits;

#pragma unroll
	for (i = 0; i < 4; i++) {
		bits = (int)prefix - 32 * i;
		if (bits >= 32)
			continue;
		if (bits <= 0)
			addr[i] = 0;
		else
			addr[i] &= bpf_htonl(~0U << (32 - bits));
	}
}

static __always_inline __u8 ipv6_prefix(const struct rg_config *cfg)
{
	__u8 prefix = cfg->ipv6_prefix;

	if (!prefix)
		return RG_DEFAULT_IPV6_PREFIX;
	return prefix > 128 ? 128 : prefix;
}

/* The source as bans and rate limits group it: v4 /32, v6 masked. */
static __always_inline void source_group(const struct rg_config *cfg,
					 const struct rg_pkt *p, __u32 *grp)
{
	__builtin_memcpy(grp, p->saddr, 16);
	if (p->family == AF_INET6)
		mask_ip6(grp, ipv6_prefix(cfg));
}

/* The IPv6 lookups live in their own (not inlined) functions. Inlined,
 * the compiler merges the v4 and v6 lookup into one call whose map is
 * chosen at run time; the verifier then cannot inline that lookup and
 * leaves an indirect call (a retpoline: ~15 ns) on every SMTP packet. */
static __noinline int allow6_hit(const __u32 *addr)
{
	struct rg_lpm6_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&allow6, &k) != NULL;
}

static __noinline int deny6_hit(const __u32 *addr)
{
	struct rg_lpm6_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&deny6, &k) != NULL;
}

static __noinline struct rg_ban *ban6_get(const __u32 *grp, __u32 group)
{
	struct rg_ban *b = bpf_map_lookup_elem(&bans6, grp);
	__u32 wide[4];

	if (b || group <= RG_BAN6_WIDE_PREFIX || group > 64)
		return b;
	wide[0] = grp[0];
	wide[1] = grp[1] & bpf_htonl(0xffff0000);
	wide[2] = RG_BAN6_WIDE_TAG;
	wide[3] = RG_BAN6_WIDE_TAG;
	return bpf_map_lookup_elem(&bans6, wide);
}

static __always_inline int allow_hit(const struct rg_pkt *p)
{
	struct rg_lpm4_key k4 = { .prefixlen = 32, .addr = p->saddr[0] };

	if (p->family == AF_INET6)
		return allow6_hit(p->saddr);
	return bpf_map_lookup_elem(&allow4, &k4) != NULL;
}

static __always_inline int deny_hit(const struct rg_pkt *p)
{
	struct rg_lpm4_key k4 = { .prefixlen = 32, .addr = p->saddr[0] };

	if (p->family == AF_INET6)
		return deny6_hit(p->saddr);
	return bpf_map_lookup_elem(&deny4, &k4) != NULL;
}

/* Whether the source is allowed, looked up once and only when a drop is
 * at stake: the allow LPM lookup is the dearest step of a clean packet,
 * and a source that nothing would drop passes the same either way. */
enum rg_allow { RG_ALLOW_UNKNOWN = 0, RG_ALLOW_NO, RG_ALLOW_YES };

/* What the verdict on one packet has found out so far. */
struct rg_judge {
	__u64 now;		 /* rg_now() */
	struct rg_acl_mark mark; /* the current generation and epoch */
	int allow;		 /* enum rg_allow */
	struct rg_ban *ban;	 /* the ban in force ban_check found */
};

static __always_inline int allowed(const struct rg_pkt *p, int *state)
{
	if (*state == RG_ALLOW_UNKNOWN)
		*state = allow_hit(p) ? RG_ALLOW_YES : RG_ALLOW_NO;
	return *state == RG_ALLOW_YES;
}

/* RG_CAUSE_BAN for a ban in force on a source not allowed (its hit counter
 * bumped, the ban in j->ban), else NONE. The ban's mark spares a banned
 * source's every packet the allow lookup. */
static __always_inline int ban_check(const struct rg_config *cfg,
				     const __u32 *grp, const struct rg_pkt *p,
				     struct rg_judge *j, struct rg_stats *st)
{
	struct rg_ban *b;

	if (p->family == AF_INET6)
		b = ban6_get(grp, ipv6_prefix(cfg));
	else
		b = bpf_map_lookup_elem(&bans4, grp);
	if (!b)
		return RG_CAUSE_NONE;
	if (!acl_mark_current(&b->not_allowed, &j->mark)) {
		if (allowed(p, &j->allow))
			return RG_CAUSE_NONE;
		b->not_allowed = j->mark;
	}
	if (b->expires_ns && b->expires_ns <= j->now) {
		st->ban_expired++;
		return RG_CAUSE_NONE;
	}
	__sync_fetch_and_add(&b->hits, 1);
	if (!b->first_hit_ns)
		b->first_hit_ns = j->now;
	j->ban = b;
	return RG_CAUSE_BAN;
}

static __always_inline int is_conn_attempt(const struct rg_pkt *p)
{
	return (p->tcp_flags & (RG_TCP_SYN | RG_TCP_ACK)) == RG_TCP_SYN;
}

/* A source known to be neither allowed, banned nor denied (*j's mark is
 * stamped on its bucket) trying a connection: over either bucket? */
static __always_inline int
syn_take(const struct rg_config *cfg, struct rg_bucket *b,
	 struct rg_src_words key, const struct rg_judge *j, struct rg_stats *st)
{
	if (cfg->syn_rate && !ratelimit_source(b, key, j->now, cfg->syn_rate,
					       cfg->syn_burst, &j->mark, st))
		return RG_CAUSE_SYN_RATE;
	if (cfg->global_syn_rate &&
	    !ratelimit_global(j->now, cfg->global_syn_rate,
			      cfg->global_syn_burst))
		return RG_CAUSE_SYN_GLOBAL;
	return RG_CAUSE_NONE;
}

/* A connection attempt over either bucket. An allowed source takes no
 * token from either. */
static __always_inline int syn_check(const struct rg_config *cfg,
				     struct rg_bucket *b,
				     struct rg_src_words key,
				     const struct rg_pkt *p, struct rg_judge *j,
				     struct rg_stats *st)
{
	if (!is_conn_attempt(p) || (!cfg->syn_rate && !cfg->global_syn_rate))
		return RG_CAUSE_NONE;
	if (allowed(p, &j->allow))
		return RG_CAUSE_NONE;
	return syn_take(cfg, b, key, j, st);
}

/* The counter of cause: its drop_* one, or in monitor mode its monitor_*
 * twin (the drop that monitor mode did not do). */
static __always_inline __u64 *cause_counter(struct rg_stats *st, int cause,
					    int monitor)
{
	switch (cause) {
	case RG_CAUSE_DENY:
		return monitor ? &st->monitor_deny : &st->drop_deny;
	case RG_CAUSE_BAN:
		return monitor ? &st->monitor_ban : &st->drop_ban;
	case RG_CAUSE_SYN_RATE:
		return monitor ? &st->monitor_syn_rate : &st->drop_syn_rate;
	case RG_CAUSE_SYN_GLOBAL:
		return monitor ? &st->monitor_syn_global : &st->drop_syn_global;
	case RG_CAUSE_FRAG_PAYLOAD:
		return monitor ? &st->monitor_frag_payload
			       : &st->drop_frag_payload;
	default:
		return monitor ? &st->monitor_frag_tiny : &st->drop_frag_tiny;
	}
}

/* A deny entry drops unless the source is allowed (looked up only then,
 * see allowed(); j->allow keeps the answer). */
static __always_inline int deny_check(const struct rg_pkt *p,
				      struct rg_judge *j)
{
	if (deny_hit(p) && !allowed(p, &j->allow))
		return RG_CAUSE_DENY;
	return RG_CAUSE_NONE;
}

/* Ban, then deny: the first that would drop decides, unless the source is
 * allowed; the cause of a drop or NONE. The ban is looked up before deny:
 * both drop, so only the counter of a source in both differs (drop_ban,
 * and the ban's hit counter sees it), and a banned packet is spared the
 * deny lookup. */
static __always_inline int source_cause(const struct rg_config *cfg,
					const struct rg_pkt *p,
					const __u32 *grp, struct rg_judge *j,
					struct rg_stats *st)
{
	int cause;

	cause = ban_check(cfg, grp, p, j, st);
	if (cause || j->allow == RG_ALLOW_YES)
		return cause;
	return deny_check(p, j);
}

/* A first fragment (more follow, offset 0) with the whole TCP header: the
 * rest of its datagram is TCP payload that only the kernel's reassembly
 * sees, never the daemon. Whether its flow's client side is being read:
 * no entry (unknown), or one neither paused for a message body nor
 * stopped (STARTTLS, QUIT). Fragmented commands are how a client would
 * hide one (no honest stack fragments them: MSS and DF); a body segment
 * on a paused flow, or anything after STARTTLS, is not read either way. */
static __noinline int frag_hides_command(const struct rg_config *cfg,
					 const struct rg_pkt *p)
{
	struct rg_flow_key key;
	struct rg_flow *f;

	if (!cfg || !p)
		return 1;
	flow_key_fill(&key, p, RG_DIR_IN);
	f = flow_lookup(&key, cfg->hash_seed);
	return !f || !(f->flags & (RG_FLOW_PAUSE_IN | RG_FLOW_STOP));
}

/* What a connection attempt's bucket says without a lookup: a current
 * banned mark drops it (counted for the ban, see bucket_mark_banned); a
 * current clean mark (neither banned, denied nor allowed) sends it
 * straight to the buckets, as a segment of a marked flow goes by its
 * mark. A first fragment never goes by a mark (its flow's state decides
 * it first). RG_CAUSE_UNMARKED: no current mark, look the source up
 * (*bp: its bucket, or NULL without a per-source rate). */
#define RG_CAUSE_UNMARKED (-1)

static __always_inline int
syn_cause_marked(const struct rg_config *cfg, const struct rg_pkt *p,
		 struct rg_src_words key, struct rg_bucket **bp,
		 struct rg_judge *j, struct rg_stats *st)
{
	struct rg_bucket *b;

	if (!cfg->syn_rate)
		return RG_CAUSE_UNMARKED;
	b = *bp = bucket_of(key, cfg->hash_seed);
	if (p->first_frag)
		return RG_CAUSE_UNMARKED;
	switch (bucket_mark_of(b, key, &j->mark)) {
	case RG_MARK_BANNED:
		st->acl_cached++;
		b->ban_hits++;
		return RG_CAUSE_BAN;
	case RG_MARK_CLEAN:
		st->acl_cached++;
		return syn_take(cfg, b, key, j, st);
	default:
		return RG_CAUSE_UNMARKED;
	}
}

/* syn_cause_marked, inlined twice: for an IPv4 source its key's zero
 * words are constants (a shorter hash and compares). */
static __always_inline int
syn_cause_by_family(const struct rg_config *cfg, const struct rg_pkt *p,
		    const __u32 *grp, struct rg_bucket **bp, struct rg_judge *j,
		    struct rg_stats *st)
{
	if (p->family == AF_INET)
		return syn_cause_marked(cfg, p, src_words4(grp[0]), bp, j, st);
	return syn_cause_marked(cfg, p, src_words(p->family, grp), bp, j, st);
}

/* The cause that would drop an SMTP packet, or NONE. A connection
 * attempt goes by its bucket's mark when it has a current one (the ban
 * lookup is the dearest step of a SYN). */
static __always_inline int smtp_cause(const struct rg_config *cfg,
				      const struct rg_pkt *p,
				      struct rg_judge *j, struct rg_stats *st)
{
	struct rg_bucket *b = NULL;
	struct rg_src_words key;
	__u32 grp[4];
	int cause;

	source_group(cfg, p, grp);
	key = src_words(p->family, grp);
	if (is_conn_attempt(p)) {
		cause = syn_cause_by_family(cfg, p, grp, &b, j, st);
		if (cause != RG_CAUSE_UNMARKED)
			return cause;
	}
	cause = ban_check(cfg, grp, p, j, st);
	if (cause == RG_CAUSE_BAN && b && !p->first_frag)
		bucket_mark_banned(b, &key, j->ban, &j->mark, st);
	if (cause || j->allow == RG_ALLOW_YES)
		return cause;
	cause = deny_check(p, j);
	if (cause || j->allow == RG_ALLOW_YES)
		return cause;
	if (p->first_frag && frag_hides_command(cfg, p) &&
	    !allowed(p, &j->allow))
		return RG_CAUSE_FRAG_PAYLOAD;
	return syn_check(cfg, b, key, p, j, st);
}

/* Enforce mode drops for a cause; monitor mode counts it and passes. */
static __always_inline int enforce(const struct rg_config *cfg,
				   struct rg_stats *st, int cause)
{
	int monitor = !!(cfg->flags & RG_CFG_MONITOR);

	(*cause_counter(st, cause, monitor))++;
	if (!monitor)
		return XDP_DROP;
	st->pass_monitor++;
	return XDP_PASS;
}

/* Whether f, key's entry, carries a current mark. The key is read again
 * after the mark: an entry another CPU gave to another flow meanwhile
 * (flow_find_or_claim) is not taken for this one. */
static __always_inline int flow_clean(struct rg_flow *f,
				      const struct rg_flow_key *key,
				      const struct rg_acl_mark *now)
{
	int clean;

	if (!f)
		return 0;
	clean = acl_mark_current(&f->clean, now);
	asm volatile("" ::: "memory");
	return clean && flow_key_eq(&f->key, key);
}

static __always_inline void judge_start(struct rg_judge *j)
{
	j->now = rg_now();
	acl_mark_now(&j->mark, j->now);
	j->allow = RG_ALLOW_UNKNOWN;
}

/* The cause that would drop an SMTP packet of flow f (NULL: not looked
 * up, or none), or NONE. A segment of a flow whose mark is current needs
 * no lookup; a clean verdict is stamped on the flow, unless it rests on
 * the allow list (the packets of an allowed source are counted as such). A
 * SYN never goes by the flow's mark (the buckets judge it), nor does a
 * first fragment (its flow's state decides). */
static __always_inline int flow_cause(const struct rg_config *cfg,
				      const struct rg_pkt *p,
				      const struct rg_flow_key *key,
				      struct rg_flow *f, struct rg_judge *j,
				      struct rg_stats *st)
{
	int cause;

	if (flow_clean(f, key, &j->mark)) {
		st->acl_cached++;
		return RG_CAUSE_NONE;
	}
	cause = smtp_cause(cfg, p, j, st);
	if (f && !cause && j->allow != RG_ALLOW_YES)
		f->clean = j->mark;
	return cause;
}

static __always_inline int smtp_verdict(struct xdp_md *ctx,
					const struct rg_config *cfg,
					const struct rg_pkt *p,
					struct rg_stats *st)
{
	struct rg_sample_ctx sc = { .ctx = ctx, .st = st, .dir = RG_DIR_IN };
	struct rg_flow *f = NULL;
	struct rg_flow_key key;
	struct rg_judge j;
	int cause, keyed;

	judge_start(&j);
	keyed = !(p->tcp_flags & RG_TCP_SYN) && !p->first_frag;
	if (keyed) {
		flow_key_fill(&key, p, RG_DIR_IN);
		f = flow_lookup(&key, cfg->hash_seed);
	}
	cause = flow_cause(cfg, p, &key, f, &j, st);
	if (cause) {
		if (enforce(cfg, st, cause) == XDP_DROP)
			return XDP_DROP;
	} else if (j.allow == RG_ALLOW_YES) {
		st->pass_allow++;
	} else {
		st->pass_smtp++;
	}
	if (client_syn(&sc, p))
		return XDP_PASS;
	if (!keyed)
		flow_key_fill(&key, p, RG_DIR_IN);
	sc.now = j.now;
	sc.ifindex = ctx->ingress_ifindex;
	sample_packet(&sc, cfg, p, &key, f);
	return XDP_PASS;
}

/* What the parser could not finish but whose source it knows (kind):
 * RG_PARSE_FRAGMENT, a non-first TCP fragment; RG_PARSE_OPAQUE, extension
 * headers past the bound or a header cut short; RG_PARSE_TCP, a TCP header
 * to an SMTP port without the rest of itself. Its port may be (or is) an
 * SMTP one, so a ban or deny holds for it; a first fragment to an SMTP
 * port without the whole TCP header is dropped from everyone not allowed
 * (no real stack sends one; RFC 1858, 3128). Anything else passes (fail
 * open) under its counter. Never sampled. */
static __noinline int suspect_verdict(const struct rg_config *cfg,
				      const struct rg_pkt *p,
				      struct rg_stats *st, int kind)
{
	struct rg_judge j;
	__u32 grp[4];
	int cause;

	if (!cfg || !p || !st)
		return XDP_PASS;
	judge_start(&j);
	source_group(cfg, p, grp);
	cause = source_cause(cfg, p, grp, &j, st);
	if (!cause && p->first_frag && kind == RG_PARSE_TCP &&
	    !allowed(p, &j.allow))
		cause = RG_CAUSE_FRAG_TINY;
	if (cause)
		return enforce(cfg, st, cause);
	if (kind == RG_PARSE_FRAGMENT)
		st->pass_fragment++;
	else
		st->pass_unparsed++;
	return XDP_PASS;
}

static __always_inline void count_parse(struct rg_stats *st, int ret)
{
	if (ret == RG_PARSE_FRAGMENT)
		st->pass_fragment++;
	else if (ret == RG_PARSE_BAD)
		st->pass_unparsed++;
	else
		st->pass_not_smtp++;
}

SEC("xdp")
int rg_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct rg_config *cfg;
	struct rg_stats *st;
	struct rg_pkt p;
	__u32 zero = 0;
	int ret;

	st = stats_get();
	if (!st)
		return XDP_PASS;
	st->packets++;
	ret = parse_packet(data, end, &p);
	if (ret == RG_PARSE_OPAQUE ||
	    (ret == RG_PARSE_FRAGMENT && p.frag_tcp)) {
		cfg = bpf_map_lookup_elem(&config, &zero);
		pkt_addrs(&p, end);
		return suspect_verdict(cfg, &p, st, ret);
	}
	if (ret != RG_PARSE_TCP) {
		count_parse(st, ret);
		return XDP_PASS;
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !port_is_smtp(cfg, p.dport)) {
		st->pass_not_smtp++;
		return XDP_PASS;
	}
	pkt_addrs(&p, end);
	/* kind RG_PARSE_TCP: the ports are there, the rest of the header is not
	 */
	if (parse_tcp_payload(data, end, end - data, &p) != RG_PARSE_TCP)
		return suspect_verdict(cfg, &p, st, RG_PARSE_TCP);
	return smtp_verdict(ctx, cfg, &p, st);
}

/* Make sure the headers are in the linear part of the skb. */
#define RG_TC_PULL 128

SEC("tc")
int rg_tc_egress(struct __sk_buff *skb)
{
	struct rg_sample_ctx sc = { .ctx = skb, .dir = RG_DIR_OUT };
	const struct rg_config *cfg;
	struct rg_flow_key key;
	void *data, *end;
	struct rg_pkt p;
	__u32 zero = 0;

	sc.st = stats_get();
	if (!sc.st)
		return TC_ACT_OK;
	sc.st->egress_packets++;
	if (skb->data_end - skb->data < RG_TC_PULL &&
	    skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < RG_TC_PULL ? skb->len
							     : RG_TC_PULL);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (parse_packet(data, end, &p) != RG_PARSE_TCP)
		return TC_ACT_OK;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !port_is_smtp(cfg, p.sport))
		return TC_ACT_OK;
	if (parse_tcp_payload(data, end, skb->len, &p) != RG_PARSE_TCP)
		return TC_ACT_OK;
	pkt_addrs(&p, end);
	sc.st->egress_smtp++;
	sc.now = rg_now();
	sc.ifindex = skb->ifindex;
	flow_key_fill(&key, &p, RG_DIR_OUT);
	sample_packet(&sc, cfg, &p, &key, NULL);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
