/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* SYN token buckets (GCRA, see struct rg_bucket): per source in the
 * direct-mapped `ratelimit` array, and one global bucket in rg_gsyn. */
#ifndef RG_BPF_RATELIMIT_H
#define RG_BPF_RATELIMIT_H

#include "aclmark.h"
#include "clock.h"
#include "maps.h"
#include "parsing.h" /* AF_INET6 */

#define RG_NSEC_PER_SEC 1000000000ULL
/* Compare-and-swap attempts before a contended bucket lets the SYN pass
 * (fail open: only many CPUs racing on one source can exhaust them). */
#define RG_BUCKET_TRIES 4

static __always_inline __u64 bucket_interval(__u32 rate)
{
	return RG_NSEC_PER_SEC / rate;
}

/* burst 0 means one second's worth (= rate). */
static __always_inline __u64 bucket_tolerance(__u32 rate, __u32 burst)
{
	if (!burst)
		burst = rate;
	return (__u64)(burst - 1) * bucket_interval(rate);
}

/* Take up to n tokens (n >= 1), as many as conform: how many were taken
 * (0: over the limit), and *until, the time the last of them stands for. */
static __always_inline __u32 bucket_take_n(struct rg_bucket *b, __u64 now,
					   __u32 rate, __u32 burst, __u32 n,
					   __u64 *until)
{
	__u64 interval = bucket_interval(rate);
	__u64 tol = bucket_tolerance(rate, burst);
	__u64 old, tat, room;
	int i;

	for (i = 0; i < RG_BUCKET_TRIES; i++) {
		old = *(volatile __u64 *)&b->tat_ns;
		tat = old > now ? old : now;
		if (tat - now > tol) {
			__sync_fetch_and_add(&b->drops, 1);
			return 0;
		}
		/* only for a lot: a single token (n constant 1 once inlined)
		 * conforms as is, and pays no division */
		if (n > 1) {
			room = (tol - (tat - now)) / interval + 1;
			if (room < n)
				n = room;
		}
		*until = tat + n * interval;
		if (__sync_val_compare_and_swap(&b->tat_ns, old, *until) == old)
			return n;
	}
	*until = now;
	return 1;
}

/* 1: the SYN conforms (a token taken), 0: over the limit. */
static __always_inline int bucket_take(struct rg_bucket *b, __u64 now,
				       __u32 rate, __u32 burst)
{
	__u64 until;

	return bucket_take_n(b, now, rate, burst, 1, &until) != 0;
}

/* A source's bucket key (struct rg_src_key) as its three 64-bit words,
 * kept in registers: the family and the first 4 address bytes, then the
 * rest. An IPv4 key's last two words are 0, constants the compiler folds
 * into the hash and the compares of the IPv4 copy of the SYN path. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "struct rg_src_words assumes the little-endian layout of rg_src_key"
#endif
struct rg_src_words {
	__u64 w[3];
};

static __always_inline struct rg_src_words src_words4(__u32 addr)
{
	struct rg_src_words k = { { AF_INET | (__u64)addr << 32, 0, 0 } };

	return k;
}

static __always_inline struct rg_src_words src_words(__u8 family,
						     const __u32 *grp)
{
	struct rg_src_words k = { { family | (__u64)grp[0] << 32,
				    grp[1] | (__u64)grp[2] << 32, grp[3] } };

	return k;
}

static __always_inline int src_words_eq(const struct rg_src_key *a,
					struct rg_src_words k)
{
	const __u64 *x = (const __u64 *)a;

	return x[0] == k.w[0] && x[1] == k.w[1] && x[2] == k.w[2];
}

/* The ban of a bucket's source: bans4 by address, bans6 by its group
 * (a source under a wide IPv6 ban has none here). */
static __noinline struct rg_ban *ban6_of_src(const struct rg_src_key *k)
{
	struct rg_ip6 a;

	if (!k)
		return NULL;
	__builtin_memcpy(&a, k->addr, sizeof(a));
	return bpf_map_lookup_elem(&bans6, &a);
}

static __always_inline struct rg_ban *ban_of_src(const struct rg_src_key *k)
{
	__u32 a4;

	if (k->family == AF_INET6)
		return ban6_of_src(k);
	__builtin_memcpy(&a4, k->addr, sizeof(a4));
	return bpf_map_lookup_elem(&bans4, &a4);
}

/* The SYNs b's banned mark dropped, moved to the ban's hits (lost if the
 * ban is gone; a drop on another CPU in between may be lost too). */
static __always_inline void ban_hits_add(struct rg_ban *ban,
					 struct rg_bucket *b)
{
	__u64 n = b->ban_hits;

	if (!n)
		return;
	b->ban_hits = 0;
	if (ban)
		__sync_fetch_and_add(&ban->hits, n);
}

/* The slot of the source's bucket (it may hold another source). */
static __always_inline struct rg_bucket *bucket_of(struct rg_src_words key,
						   __u32 seed)
{
	__u32 slot = rg_src_slot_words(key.w, seed);

	return bpf_map_lookup_elem(&ratelimit, &slot);
}

/* A bucket the source key takes over (new, or its slot forgotten), full
 * at tat_ns, without a mark: the last source's marks are cleared before
 * the new source is written, so that no reader takes one for the other
 * (the caller stamps the new source's mark after it). ratelimit_full
 * counts slots taken from a source whose bucket was not full yet (what it
 * had spent is forgotten: fail open); SYNs its banned mark dropped go to
 * that source's ban first. */
static __always_inline void bucket_claim(struct rg_bucket *b,
					 struct rg_src_words key, __u64 tat_ns,
					 __u64 now, struct rg_stats *st)
{
	__u64 *src = (__u64 *)&b->src;

	if (b->src.family && b->tat_ns > now)
		st->ratelimit_full++;
	if (b->ban_hits)
		ban_hits_add(ban_of_src(&b->src), b);
	b->clean.epoch = 0;
	b->banned.epoch = 0;
	asm volatile("" ::: "memory");
	src[0] = key.w[0];
	src[1] = key.w[1];
	src[2] = key.w[2];
	b->drops = 0;
	b->tat_ns = tat_ns;
}

/* Per-source bucket b, key's slot. A source not in its slot (new, or
 * forgotten) takes the slot with a full bucket and pays for this SYN.
 * Only two sources of one slot taking it at the same instant on two CPUs
 * can have one SYN judged by the other's bucket (a SYN wrongly dropped is
 * retransmitted). The caller has found the source neither allowed,
 * banned nor denied: clean, stamped on the slot, says so. */
static __always_inline int ratelimit_source(struct rg_bucket *b,
					    struct rg_src_words key, __u64 now,
					    __u32 rate, __u32 burst,
					    const struct rg_acl_mark *clean,
					    struct rg_stats *st)
{
	if (!b)
		return 1;
	if (src_words_eq(&b->src, key)) {
		/* SYNs dropped on a banned mark of a ban that no longer holds
		 * (removed, expired, allowed): not the next ban's hits */
		if (b->ban_hits)
			b->ban_hits = 0;
		b->clean = *clean;
		return bucket_take(b, now, rate, burst);
	}
	bucket_claim(b, key, now + bucket_interval(rate), now, st);
	/* The mark after the source it speaks for (see bucket_mark_of). */
	asm volatile("" ::: "memory");
	b->clean = *clean;
	return 1;
}

/* Which of b's marks is current for key's bucket. The source is read
 * again after the marks: a slot taken over by another source meanwhile
 * (source written first, then its mark) is not taken for this one. */
enum rg_bucket_mark { RG_MARK_NONE = 0, RG_MARK_CLEAN, RG_MARK_BANNED };

static __always_inline int bucket_mark_of(struct rg_bucket *b,
					  struct rg_src_words key,
					  const struct rg_acl_mark *now)
{
	int mark = RG_MARK_NONE;

	if (!b || !src_words_eq(&b->src, key))
		return RG_MARK_NONE;
	if (acl_mark_current(&b->banned, now))
		mark = RG_MARK_BANNED;
	else if (acl_mark_current(&b->clean, now))
		mark = RG_MARK_CLEAN;
	asm volatile("" ::: "memory");
	return mark && src_words_eq(&b->src, key) ? mark : RG_MARK_NONE;
}

/* A SYN of key dropped by ban, found in force for mark m: the SYNs the
 * bucket's banned mark dropped since the last look are added to the
 * ban's hits, and the mark is stamped if the ban lasts past m's epoch (so
 * a mark never outlives its ban's expiry). The slot is taken from another
 * source as ratelimit_source takes it. Not inlined: it runs once an
 * epoch per banned source, and kept out of the verdict's body it leaves
 * the hot paths their registers. */
static __noinline void bucket_mark_banned(struct rg_bucket *b,
					  const struct rg_src_words *key,
					  struct rg_ban *ban,
					  const struct rg_acl_mark *m,
					  struct rg_stats *st)
{
	__u64 epoch_end, now = rg_now();

	if (!b || !key || !ban || !m || !st)
		return;
	epoch_end = (__u64)m->epoch << RG_ACL_EPOCH_SHIFT;
	if (src_words_eq(&b->src, *key))
		ban_hits_add(ban, b);
	else
		bucket_claim(b, *key, now, now, st);
	if (ban->expires_ns && ban->expires_ns < epoch_end)
		return;
	asm volatile("" ::: "memory");
	b->banned = *m;
}

/* The global bucket is taken in lots: a CPU takes up to RG_GSYN_LOT
 * tokens with one compare-and-swap and spends them without one. The line
 * every CPU shares is then written once a lot, not once a SYN: a locked
 * instruction waits for every store of the packet before it (~5 ns of a
 * clean SYN on the benchmark machine), and under a SYN flood on a
 * multi-queue NIC the line would bounce between all CPUs. A CPU passes
 * only tokens it has taken, so the cap holds exactly; a lot is at most
 * 1/RG_GSYN_LOT_SHARE of the burst and lapses once the time its last
 * token stands for has come, so few tokens lie idle on other CPUs. */
#define RG_GSYN_LOT	  8
#define RG_GSYN_LOT_SHARE 16

static __always_inline __u32 gsyn_lot(__u32 rate, __u32 burst)
{
	__u32 lot = (burst ? burst : rate) / RG_GSYN_LOT_SHARE;

	if (lot > RG_GSYN_LOT)
		return RG_GSYN_LOT;
	return lot ? lot : 1;
}

static __always_inline int ratelimit_global(__u64 now, __u32 rate, __u32 burst)
{
	__u32 zero = 0, taken;
	struct rg_percpu *pc = bpf_map_lookup_elem(&rg_scratch, &zero);
	struct rg_bucket *b;
	__u64 until;

	if (pc && pc->gsyn_left && now < pc->gsyn_until) {
		pc->gsyn_left--;
		return 1;
	}
	b = bpf_map_lookup_elem(&rg_gsyn, &zero);
	if (!b)
		return 1;
	taken = bucket_take_n(b, now, rate, burst, gsyn_lot(rate, burst),
			      &until);
	if (taken && pc) {
		pc->gsyn_left = taken - 1;
		pc->gsyn_until = until;
	}
	return taken != 0;
}

#endif
