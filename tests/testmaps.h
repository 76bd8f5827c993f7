/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Unpinned BPF maps shaped like the loader's ban and allow/deny maps, for
 * the tests and benchmarks that drive user-space modules on real maps. */
#ifndef RG_TESTMAPS_H
#define RG_TESTMAPS_H

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "loader.h"
#include "parse.h"
#include "relayguard.h"

static inline int testmaps_lpm(size_t key_size, unsigned int max)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, NULL, key_size, 1, max,
			      &o);
}

/* The ACL generation every writer bumps (bpf/maps.h). */
static inline int testmaps_acl_gen(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);

	return bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, sizeof(__u64), 1,
			      &o);
}

/* The ratelimit map, RG_MAX_RATELIMIT slots as in bpf/maps.h. */
static inline int testmaps_ratelimit(void)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4,
			      sizeof(struct rg_bucket), RG_MAX_RATELIMIT, NULL);
}

/* In ratelimit map fd, the SYN bucket of source (a v4 /32 or v6 group,
 * as a ban is keyed) in its slot under seed, as the data plane keeps it,
 * with `pending` SYNs dropped on its banned mark not yet added to the
 * ban. holder: the source the slot holds instead (NULL: source). */
static inline int testmaps_bucket(int fd, __u32 seed,
				  const struct prefix *source,
				  const struct prefix *holder, __u64 pending)
{
	struct rg_bucket b = { .tat_ns = 1, .ban_hits = pending };
	struct rg_src_key src = { .family = source->family };
	__u32 slot;

	memcpy(src.addr, source->addr, sizeof(src.addr));
	slot = rg_src_slot(&src, seed);
	b.src = src;
	if (holder)
		memcpy(b.src.addr, holder->addr, sizeof(b.src.addr));
	return bpf_map_update_elem(fd, &slot, &b, 0) ? -errno : 0;
}

/* bans4/bans6 (hashes without preallocation, as in bpf/maps.h), the
 * allow and deny tries and acl_gen; every other fd -1. 0 or -errno. */
static inline int testmaps_create(struct rg_maps *m, unsigned int bans4,
				  unsigned int bans6, unsigned int acl)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	memset(m, -1, sizeof(*m));
	m->bans4 = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4,
				  sizeof(struct rg_ban), bans4, &o);
	m->bans6 = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 16,
				  sizeof(struct rg_ban), bans6, &o);
	m->allow4 = testmaps_lpm(sizeof(struct rg_lpm4_key), acl);
	m->allow6 = testmaps_lpm(sizeof(struct rg_lpm6_key), acl);
	m->deny4 = testmaps_lpm(sizeof(struct rg_lpm4_key), acl);
	m->deny6 = testmaps_lpm(sizeof(struct rg_lpm6_key), acl);
	m->acl_gen = testmaps_acl_gen();
	if (m->bans4 < 0 || m->bans6 < 0 || m->allow4 < 0 || m->allow6 < 0 ||
	    m->deny4 < 0 || m->deny6 < 0 || m->acl_gen < 0)
		return -errno;
	return 0;
}

#endif
