/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The ban store: bans4/bans6 entries addressed by source. IPv4 sources are
 * /32; IPv6 sources are grouped by the prefix in `config` (default /64).
 * The one interface through which the ctl command and the daemon touch
 * bans, so that a shared store (many gateways) can later sit behind it. */
#ifndef RG_BANSTORE_H
#define RG_BANSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"
#include "parse.h"

struct ban_entry {
	struct prefix source; /* v4 /32, or v6 masked to the group prefix */
	struct rg_ban ban;
};

/* The IPv6 grouping prefix in force (config map; default 64). */
unsigned int banstore_ipv6_prefix(const struct rg_maps *maps);
/* A wide ban: a v6 /48 (RG_BAN6_WIDE_PREFIX) where the group is longer
 * than /48 and at most /64 (ipv6_escalate). It is a source of its own:
 * put, got, deleted, walked and listed as the /48. */
bool banstore_is_wide(unsigned int group, const struct prefix *source);
/* Turn an address into the source a ban is keyed by (v6: masked to the
 * group prefix; a wide /48 stays a /48). A v6 prefix shorter than the
 * group (and not wide) is -EINVAL. */
int banstore_source(const struct rg_maps *maps, const struct prefix *addr,
		    struct prefix *source);

/* A prefix ban is expanded into the sources it covers, at most
 * 2^BANSTORE_EXPAND_BITS of them; wider ranges belong in the deny list. */
#define BANSTORE_EXPAND_BITS 16
/* Call cb for each source (v4 host, v6 group of `group` bits) that target
 * covers; an IPv6 target longer than the group widens to its group; a
 * wide /48 (banstore_is_wide) is one source.
 * -E2BIG (nothing called) when there are more than 2^BANSTORE_EXPAND_BITS;
 * a non-zero return of cb stops the walk and is returned. */
typedef int (*banstore_source_cb)(const struct prefix *source, void *ctx);
int banstore_expand(unsigned int group, const struct prefix *target,
		    banstore_source_cb cb, void *ctx);
/* The same in parts, for a caller that must not stall on a wide range:
 * how many sources target covers (or -E2BIG), and cb for those of index
 * first .. first + n - 1 (in address order; past the end: none). */
int64_t banstore_expand_count(unsigned int group, const struct prefix *target);
int banstore_expand_part(unsigned int group, const struct prefix *target,
			 uint64_t first, uint64_t n, banstore_source_cb cb,
			 void *ctx);

/* Insert or replace. -ENOSPC, with a message naming the map and its size,
 * when the map is full. */
int banstore_put(const struct rg_maps *maps, const struct ban_entry *e);
/* Many at once with batched map updates; all or nothing: on error the
 * entries already written are removed again. */
int banstore_put_batch(const struct rg_maps *maps, const struct ban_entry *e,
		       size_t n);
/* Many at once with batched map updates, as far as they go: no undo (no
 * walk of the map), *written says how many are in. */
int banstore_put_many(const struct rg_maps *maps, const struct ban_entry *e,
		      size_t n, size_t *written);
/* 0 and *ban filled, or -ENOENT. */
int banstore_get(const struct rg_maps *maps, const struct prefix *source,
		 struct rg_ban *ban);
/* 0 or -ENOENT. */
int banstore_del(const struct rg_maps *maps, const struct prefix *source);

/* Delete every ban (batched); *n says how many there were. */
int banstore_flush(const struct rg_maps *maps, size_t *n);

/* Use single-element map operations instead of batched ones (kernels
 * without batch ops are detected on their own; this is for tests). */
void banstore_use_batch(bool on);

/* Call cb for every entry of bans4 then bans6 (batched reads); a non-zero
 * return stops the walk and is returned. */
typedef int (*banstore_cb)(const struct ban_entry *e, void *ctx);
int banstore_for_each(const struct rg_maps *maps, banstore_cb cb, void *ctx);

/* A ban's hits as user space shows them (ban list, snapshots): ban.hits
 * plus the SYNs dropped on the banned mark of its source's SYN bucket
 * that the data plane has not added to the ban yet (it does so when it
 * next looks the ban up, at most one mark epoch, ~1.07 s, later while
 * the source keeps sending): the ban_hits of the bucket holding that
 * source (in the slot rg_src_slot() gives it). A wide /48 has no bucket
 * of its own. Read against the buckets of one moment: */
struct banstore_pending; /* buckets with ban_hits, by source */
struct banstore_hits {
	struct banstore_pending *v;
	size_t n;
	unsigned int group; /* the IPv6 source group */
};
/* One scan of the ratelimit map (256K slots: ~65 ms); none pending when
 * it cannot be read. Free with banstore_hits_free(). */
void banstore_hits_init(const struct rg_maps *maps, struct banstore_hits *h);
void banstore_hits_free(struct banstore_hits *h);
uint64_t banstore_hits(const struct banstore_hits *h,
		       const struct ban_entry *e);
/* banstore_for_each() with each ban's hits as banstore_hits() shows
 * them: for what shows or exports bans, not for what writes them back. */
int banstore_for_each_shown(const struct rg_maps *maps, banstore_cb cb,
			    void *ctx);

/* The same walk in steps, so that a caller with a million bans never
 * stalls on one: where the walk stands between steps (zeroed: the start;
 * zeroed again when the walk ends or fails). */
struct banstore_cursor {
	int map;      /* 0: bans4, 1: bans6 */
	bool started; /* token is a position in that map */
	__u64 token;  /* batch position */
};
/* Walk on from c, whole batches until at least max entries were passed to
 * cb. Returns 1 when the walk is complete, 0 when more remains, or a
 * negative errno (or cb's non-zero return). Bans added or removed between
 * steps may or may not be seen. */
int banstore_walk_step(const struct rg_maps *maps, struct banstore_cursor *c,
		       size_t max, banstore_cb cb, void *ctx);

#endif
