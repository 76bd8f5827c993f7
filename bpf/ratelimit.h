/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* SYN token buckets (GCRA, see struct rg_bucket): per source in the
 * `ratelimit` LRU hash, and one global bucket in rg_gsyn. */
#ifndef RG_BPF_RATELIMIT_H
#define RG_BPF_RATELIMIT_H

#include "maps.h"

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

/* 1: the SYN conforms (a token taken), 0: over the limit. */
static __always_inline int bucket_take(struct rg_bucket *b, __u64 now,
				       __u32 rate, __u32 burst)
{
	__u64 interval = bucket_interval(rate);
	__u64 tol = bucket_tolerance(rate, burst);
	__u64 old, tat;
	int i;

	for (i = 0; i < RG_BUCKET_TRIES; i++) {
		old = *(volatile __u64 *)&b->tat_ns;
		tat = old > now ? old : now;
		if (tat - now > tol) {
			__sync_fetch_and_add(&b->drops, 1);
			return 0;
		}
		if (__sync_val_compare_and_swap(&b->tat_ns, old,
						tat + interval) == old)
			return 1;
	}
	return 1;
}

static __always_inline void src_key_fill(struct rg_src_key *k, __u8 family,
					 const __u32 *addr)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = family;
	__builtin_memcpy(k->addr, addr, 16);
}

/* Per-source bucket; a new source starts full and pays for this SYN. */
static __always_inline int ratelimit_source(const struct rg_src_key *key,
					    __u64 now, __u32 rate,
					    __u32 burst, struct rg_stats *st)
{
	struct rg_bucket *b, nb = {};
	long err;

	b = bpf_map_lookup_elem(&ratelimit, key);
	if (b)
		return bucket_take(b, now, rate, burst);
	nb.tat_ns = now + bucket_interval(rate);
	err = bpf_map_update_elem(&ratelimit, key, &nb, BPF_NOEXIST);
	if (!err)
		return 1;
	b = bpf_map_lookup_elem(&ratelimit, key);
	if (b)
		return bucket_take(b, now, rate, burst);
	st->ratelimit_full++;
	return 1;
}

static __always_inline int ratelimit_global(__u64 now, __u32 rate,
					    __u32 burst)
{
	__u32 zero = 0;
	struct rg_bucket *b = bpf_map_lookup_elem(&rg_gsyn, &zero);

	if (!b)
		return 1;
	return bucket_take(b, now, rate, burst);
}

#endif
