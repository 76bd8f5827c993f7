/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The `flows` table (see struct rg_flow): a set-associative array of
 * RG_FLOW_WAYS slots per set, found by the flow's key (always client ->
 * server), shared by the verdict path (ACL marks) and the sampler. */
#ifndef RG_BPF_FLOWTABLE_H
#define RG_BPF_FLOWTABLE_H

#include "maps.h"
#include "parsing.h"

static __always_inline void flow_key_fill(struct rg_flow_key *k,
					  const struct rg_pkt *p, __u8 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = p->family;
	if (dir == RG_DIR_IN) {
		__builtin_memcpy(k->client, p->saddr, 16);
		__builtin_memcpy(k->server, p->daddr, 16);
		k->client_port = p->sport;
		k->server_port = p->dport;
	} else {
		__builtin_memcpy(k->client, p->daddr, 16);
		__builtin_memcpy(k->server, p->saddr, 16);
		k->client_port = p->dport;
		k->server_port = p->sport;
	}
}

static __always_inline int flow_key_eq(const struct rg_flow_key *a,
				       const struct rg_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

/* key's entry in its set, or NULL with *victim set to the slot a new entry
 * would take: a free one (last_ns 0), else the least recently seen. */
static __always_inline struct rg_flow *
flow_find(const struct rg_flow_key *key, __u32 seed, struct rg_flow **victim)
{
	__u32 slot = rg_flow_set_first(key, seed), w;
	struct rg_flow *f, *old = NULL;

	for (w = 0; w < RG_FLOW_WAYS; w++, slot++) {
		f = bpf_map_lookup_elem(&flows, &slot);
		if (!f)
			return NULL;
		if (flow_key_eq(&f->key, key))
			return f;
		/* Wrap-safe, like the idle test below: a time before
		 * boot (a test's) still compares as older. */
		if (!old || (__s64)(f->last_ns - old->last_ns) < 0)
			old = f;
	}
	*victim = old;
	return NULL;
}

static __always_inline struct rg_flow *
flow_lookup(const struct rg_flow_key *key, __u32 seed)
{
	struct rg_flow *victim = NULL;

	return flow_find(key, seed, &victim);
}

/* key's entry, or a slot claimed for it when p may open the flow: the
 * server's SYN-ACK (egress), a SYN with payload, or the first payload;
 * never the client's bare SYN (the sampler does not ask). Claiming the
 * slot of a flow seen in the last RG_FLOW_IDLE_NS is counted (*full):
 * that flow is sampled afresh if it comes back. */
static __always_inline struct rg_flow *
flow_find_or_claim(const struct rg_flow_key *key, const struct rg_pkt *p,
		   __u32 seed, __u64 now, __u64 *full)
{
	struct rg_flow *f, *victim = NULL;

	f = flow_find(key, seed, &victim);
	if (f)
		return f;
	if (!(p->tcp_flags & RG_TCP_SYN) && !p->payload_len)
		return NULL;
	if ((p->tcp_flags & RG_TCP_RST) || !victim)
		return NULL;
	if (victim->last_ns && now - victim->last_ns < RG_FLOW_IDLE_NS)
		(*full)++;
	victim->key = *key;
	victim->sampled_in = 0;
	victim->sampled_out = 0;
	victim->flags = 0;
	victim->win_in = 0;
	victim->srv_ack = 0;
	victim->clean.gen = 0;
	victim->clean.epoch = 0;
	victim->last_ns = now;
	return victim;
}

#endif
