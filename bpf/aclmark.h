/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Marks of a verdict on a source (struct rg_acl_mark): an entry the data
 * plane reads anyway (a flow, a ban, a SYN bucket) remembers that its
 * source was clean, or not allowed, for the current ACL generation and
 * epoch; while the mark is current the ban, deny and allow lookups are
 * skipped. They are the dearest steps of a packet (~45 ns of a clean one
 * on the benchmark machine), and an established SMTP session repeats them
 * for every segment with the same answer. */
#ifndef RG_BPF_ACLMARK_H
#define RG_BPF_ACLMARK_H

#include "maps.h"

static __always_inline void acl_mark_now(struct rg_acl_mark *m, __u64 now)
{
	__u32 zero = 0;
	__u64 *gen = bpf_map_lookup_elem(&acl_gen, &zero);

	m->gen = gen ? (__u32)*gen : 0;
	m->epoch = (__u32)(now >> RG_ACL_EPOCH_SHIFT) + 1;
}

static __always_inline int acl_mark_current(const struct rg_acl_mark *m,
					    const struct rg_acl_mark *now)
{
	return m->gen == now->gen && m->epoch == now->epoch;
}

#endif
