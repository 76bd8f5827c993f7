// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The ban store on bans4/bans6. Bulk writes use BPF_MAP_UPDATE_BATCH and
 * are undone on failure; walks use BPF_MAP_LOOKUP_BATCH and fall back to
 * get_next_key where the kernel or map type has no batch ops. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "banstore.h"
#include "array.h"
#include "dpconfig.h"
#include "flowmap.h"
#include "log.h"

#define BATCH_CHUNK 4096

static bool use_batch = true;

void banstore_use_batch(bool on)
{
	use_batch = on;
}

unsigned int banstore_ipv6_prefix(const struct rg_maps *maps)
{
	struct rg_config cfg;
	__u32 key = 0;

	if (maps->config < 0 || bpf_map_lookup_elem(maps->config, &key, &cfg) ||
	    cfg.ipv6_prefix > 128)
		return RG_DEFAULT_IPV6_PREFIX;
	return dpconfig_ipv6_prefix(&cfg);
}

int banstore_source(const struct rg_maps *maps, const struct prefix *addr,
		    struct prefix *source)
{
	unsigned int group;

	if (addr->family == AF_INET) {
		if (addr->len != 32)
			return -EINVAL;
		*source = *addr;
		return 0;
	}
	if (addr->family != AF_INET6)
		return -EINVAL;
	group = banstore_ipv6_prefix(maps);
	*source = *addr;
	if (banstore_is_wide(group, addr)) {
		prefix_mask(source);
		return 0;
	}
	if (addr->len < group)
		return -EINVAL;
	source->len = group;
	prefix_mask(source);
	return 0;
}

static bool wide_group(unsigned int group)
{
	return group > RG_BAN6_WIDE_PREFIX && group <= 64;
}

bool banstore_is_wide(unsigned int group, const struct prefix *source)
{
	return source->family == AF_INET6 &&
	       source->len == RG_BAN6_WIDE_PREFIX && wide_group(group);
}

/* The map key of source: its address, or for a wide ban the /48 tagged
 * (relayguard.h RG_BAN6_WIDE_TAG). */
static const void *source_key(unsigned int group, const struct prefix *source,
			      struct rg_ip6 *buf)
{
	__u32 tag = RG_BAN6_WIDE_TAG;

	if (!banstore_is_wide(group, source))
		return source->addr;
	memcpy(buf->addr, source->addr, 8);
	memcpy(buf->addr + 8, &tag, 4);
	memcpy(buf->addr + 12, &tag, 4);
	return buf->addr;
}

/* The group, read only where a key may be a wide one (a v6 /48). */
static unsigned int group_for(const struct rg_maps *maps,
			      const struct prefix *source)
{
	if (source->family != AF_INET6 || source->len != RG_BAN6_WIDE_PREFIX)
		return 0;
	return banstore_ipv6_prefix(maps);
}

/* Add n at bit position (0 = most significant) of a 128-bit address. */
static void addr_add(uint8_t *addr, unsigned int bit, uint64_t n)
{
	int byte = bit / 8;
	unsigned __int128 add = (unsigned __int128)n << (7 - bit % 8);

	for (; byte >= 0 && add; byte--) {
		add += addr[byte];
		addr[byte] = add & 0xff;
		add >>= 8;
	}
}

/* The unit of target's sources (v4 host, v6 group) and target widened to
 * it where longer. */
static unsigned int expand_unit(unsigned int group, const struct prefix *target,
				struct prefix *base)
{
	unsigned int unit = target->family == AF_INET ? 32 : group;

	*base = *target;
	if (base->len > unit)
		base->len = unit; /* an IPv6 target widens to its group */
	prefix_mask(base);
	return unit;
}

int64_t banstore_expand_count(unsigned int group, const struct prefix *target)
{
	struct prefix base;
	unsigned int unit = expand_unit(group, target, &base);

	if (banstore_is_wide(group, target))
		return 1;
	if (unit - base.len > BANSTORE_EXPAND_BITS)
		return -E2BIG;
	return 1LL << (unit - base.len);
}

int banstore_expand_part(unsigned int group, const struct prefix *target,
			 uint64_t first, uint64_t n, banstore_source_cb cb,
			 void *ctx)
{
	int64_t count = banstore_expand_count(group, target);
	struct prefix src;
	unsigned int unit = expand_unit(group, target, &src);
	uint64_t i;
	int err;

	if (banstore_is_wide(group, target)) { /* one entry: ipv6_escalate's */
		src = *target;
		prefix_mask(&src);
		return first ? 0 : cb(&src, ctx);
	}
	if (count < 0)
		return (int)count;
	if (first >= (uint64_t)count)
		return 0;
	if (n > (uint64_t)count - first)
		n = (uint64_t)count - first;
	src.len = unit;
	addr_add(src.addr, unit - 1, first);
	for (i = 0; i < n; i++) {
		err = cb(&src, ctx);
		if (err)
			return err;
		addr_add(src.addr, unit - 1, 1);
	}
	return 0;
}

int banstore_expand(unsigned int group, const struct prefix *target,
		    banstore_source_cb cb, void *ctx)
{
	return banstore_expand_part(group, target, 0, UINT64_MAX, cb, ctx);
}

static int map_for(const struct rg_maps *maps, int family, const char **name)
{
	*name = family == AF_INET ? RG_MAP_BANS4 : RG_MAP_BANS6;
	return family == AF_INET ? maps->bans4 : maps->bans6;
}

static unsigned int map_max_entries(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

/* Kernel hashes say E2BIG when full, tries ENOSPC: one message for both. */
static int update_error(int fd, const char *name, int err)
{
	if (err == -E2BIG || err == -ENOSPC) {
		log_err("ban map %s is full (max_entries %u)", name,
			map_max_entries(fd));
		return -ENOSPC;
	}
	log_err("cannot update ban map %s: %s", name, log_strerror(err));
	return err;
}

int banstore_put(const struct rg_maps *maps, const struct ban_entry *e)
{
	const char *name;
	int fd = map_for(maps, e->source.family, &name);
	struct rg_ip6 buf;
	const void *key =
		source_key(group_for(maps, &e->source), &e->source, &buf);

	if (bpf_map_update_elem(fd, key, &e->ban, BPF_ANY))
		return update_error(fd, name, -errno);
	maps_acl_changed(maps);
	return 0;
}

int banstore_get(const struct rg_maps *maps, const struct prefix *source,
		 struct rg_ban *ban)
{
	const char *name;
	int fd = map_for(maps, source->family, &name);
	struct rg_ip6 buf;

	if (bpf_map_lookup_elem(
		    fd, source_key(group_for(maps, source), source, &buf), ban))
		return -errno;
	return 0;
}

int banstore_del(const struct rg_maps *maps, const struct prefix *source)
{
	const char *name;
	int fd = map_for(maps, source->family, &name);
	struct rg_ip6 buf;

	if (bpf_map_delete_elem(
		    fd, source_key(group_for(maps, source), source, &buf)))
		return -errno;
	return 0;
}

/* One family's part of a batch, as packed key and value arrays, with what
 * was there before each key (to undo a failed batch exactly). */
struct batch {
	int fd;
	const char *name;
	size_t key_size, n, written;
	unsigned char *keys;
	struct rg_ban *vals, *old;
	bool *had_old;
};

static void batch_free(struct batch *b)
{
	free(b->keys);
	free(b->vals);
	free(b->old);
	free(b->had_old);
}

/* The map's current entries, sorted by key: what a failed batch restores. */
struct snapshot {
	size_t key_size, n, cap;
	unsigned char *keys;
	struct rg_ban *vals;
};

static size_t snap_key_size;

static int snap_cmp(const void *a, const void *b)
{
	return memcmp(a, b, snap_key_size);
}

static int snap_add(const struct ban_entry *e, void *ctx)
{
	struct snapshot *s = ctx;
	unsigned char *keys;
	struct rg_ban *vals;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		keys = realloc(s->keys, s->cap * s->key_size);
		if (!keys)
			return -ENOMEM;
		s->keys = keys;
		vals = realloc(s->vals, s->cap * sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		s->vals = vals;
	}
	memcpy(s->keys + s->n * s->key_size, e->source.addr, s->key_size);
	s->vals[s->n++] = e->ban;
	return 0;
}

static int walk(int fd, int family, unsigned int group, banstore_cb cb,
		void *ctx);

/* Sorted keys with their values in a parallel array: sort an index. */
static int snapshot_take(struct snapshot *s, int fd, int family)
{
	unsigned char *keys;
	struct rg_ban *vals;
	size_t *idx, i;
	int err;

	memset(s, 0, sizeof(*s));
	s->key_size = family == AF_INET ? 4 : sizeof(struct rg_ip6);
	err = walk(fd, family, 128, snap_add, s);
	if (err || s->n < 2)
		return err;
	/* Sort key+index records, then permute the values. */
	snap_key_size = s->key_size + sizeof(size_t);
	keys = malloc(s->n * snap_key_size);
	vals = malloc(s->n * sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++) {
		memcpy(keys + i * snap_key_size, s->keys + i * s->key_size,
		       s->key_size);
		memcpy(keys + i * snap_key_size + s->key_size, &i, sizeof(i));
	}
	snap_key_size = s->key_size;
	qsort(keys, s->n, s->key_size + sizeof(size_t), snap_cmp);
	for (i = 0; i < s->n; i++) {
		idx = (size_t *)(keys + i * (s->key_size + sizeof(size_t)) +
				 s->key_size);
		memcpy(s->keys + i * s->key_size,
		       keys + i * (s->key_size + sizeof(size_t)), s->key_size);
		memcpy(&vals[i], &s->vals[*idx], sizeof(vals[i]));
	}
	free(keys);
	free(s->vals);
	s->vals = vals;
	return 0;
}

static const struct rg_ban *snapshot_find(const struct snapshot *s,
					  const void *key)
{
	size_t lo = 0, hi = s->n, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = memcmp(key, s->keys + mid * s->key_size, s->key_size);
		if (!c)
			return &s->vals[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Stage e's entries of family; with undo, what they replace is kept so
 * that batch_undo can put it back (a walk of the whole map). */
static int batch_fill(struct batch *b, const struct rg_maps *maps, int family,
		      const struct ban_entry *e, size_t n, bool undo)
{
	unsigned int group =
		family == AF_INET6 ? banstore_ipv6_prefix(maps) : 0;
	struct snapshot snap = { 0 };
	const struct rg_ban *old;
	size_t i, count = 0;
	struct rg_ip6 buf;
	const void *key;
	int err;

	memset(b, 0, sizeof(*b));
	b->fd = map_for(maps, family, &b->name);
	b->key_size = family == AF_INET ? 4 : sizeof(struct rg_ip6);
	for (i = 0; i < n; i++)
		count += e[i].source.family == family;
	if (!count)
		return 0;
	b->keys = malloc(count * b->key_size);
	b->vals = malloc(count * sizeof(*b->vals));
	b->old = malloc(count * sizeof(*b->old));
	b->had_old = calloc(count, sizeof(*b->had_old));
	if (!b->keys || !b->vals || !b->old || !b->had_old)
		return -ENOMEM;
	err = undo ? snapshot_take(&snap, b->fd, family) : 0;
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		if (e[i].source.family != family)
			continue;
		key = source_key(group, &e[i].source, &buf);
		memcpy(b->keys + b->n * b->key_size, key, b->key_size);
		b->vals[b->n] = e[i].ban;
		old = snap.n ? snapshot_find(&snap, key) : NULL;
		if (old) {
			b->had_old[b->n] = true;
			b->old[b->n] = *old;
		}
		b->n++;
	}
out:
	free(snap.keys);
	free(snap.vals);
	return err;
}

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUP ||
	       err == -524 /* ENOTSUPP */;
}

/* A kernel without batch ops for the map rejects the call before touching
 * anything and never writes the count back: libbpf then hands back the
 * count it was given. A count of 0 or the one asked for, with such an
 * error, means nothing was done and one-at-a-time is the way. */
static bool batch_rejected(int err, __u32 count, __u32 asked)
{
	return batch_unsupported(err) && (count == 0 || count == asked);
}

static int put_one(struct batch *b)
{
	if (bpf_map_update_elem(b->fd, b->keys + b->written * b->key_size,
				b->vals + b->written, BPF_ANY))
		return update_error(b->fd, b->name, -errno);
	b->written++;
	return 0;
}

/* Write b's entries from b->written on; b->written counts what is in. */
static int batch_write(struct batch *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	bool batch = use_batch;
	__u32 count, want;
	int err;

	while (b->written < b->n) {
		if (!batch) {
			err = put_one(b);
			if (err)
				return err;
			continue;
		}
		want = b->n - b->written < BATCH_CHUNK ? b->n - b->written
						       : BATCH_CHUNK;
		count = want;
		err = bpf_map_update_batch(b->fd,
					   b->keys + b->written * b->key_size,
					   b->vals + b->written, &count, &opts);
		err = err ? -errno : 0;
		if (err && batch_rejected(err, count, want)) {
			batch = false; /* no batch ops here: one at a time */
			continue;
		}
		b->written += count;
		if (err)
			return update_error(b->fd, b->name, err);
	}
	return 0;
}

/* Put back what was there before, delete what was not. */
static void batch_undo(struct batch *b)
{
	size_t i;
	void *key;

	for (i = 0; i < b->written; i++) {
		key = b->keys + i * b->key_size;
		if (b->had_old[i])
			bpf_map_update_elem(b->fd, key, &b->old[i], BPF_ANY);
		else
			bpf_map_delete_elem(b->fd, key);
	}
	b->written = 0;
}

/* Stage e's entries into b4 and b6 (both initialised even on error). */
static int batch_stage(struct batch *b4, struct batch *b6,
		       const struct rg_maps *maps, const struct ban_entry *e,
		       size_t n, bool undo)
{
	int err;

	err = batch_fill(b4, maps, AF_INET, e, n, undo);
	if (!err)
		err = batch_fill(b6, maps, AF_INET6, e, n, undo);
	else
		memset(b6, 0, sizeof(*b6));
	return err;
}

int banstore_put_batch(const struct rg_maps *maps, const struct ban_entry *e,
		       size_t n)
{
	struct batch b4, b6;
	int err;

	err = batch_stage(&b4, &b6, maps, e, n, true);
	if (err) {
		log_err("cannot stage %zu bans: %s", n, log_strerror(err));
		goto out;
	}
	err = batch_write(&b4);
	if (!err)
		err = batch_write(&b6);
	if (err) {
		batch_undo(&b6);
		batch_undo(&b4);
	}
	maps_acl_changed(maps);
out:
	batch_free(&b4);
	batch_free(&b6);
	return err;
}

int banstore_put_many(const struct rg_maps *maps, const struct ban_entry *e,
		      size_t n, size_t *written)
{
	struct batch b4, b6;
	int err;

	err = batch_stage(&b4, &b6, maps, e, n, false);
	if (!err)
		err = batch_write(&b4);
	if (!err)
		err = batch_write(&b6);
	*written = b4.written + b6.written;
	if (*written)
		maps_acl_changed(maps);
	batch_free(&b4);
	batch_free(&b6);
	return err;
}

static void entry_from_key(struct ban_entry *e, int family, const void *key,
			   const struct rg_ban *ban, unsigned int group)
{
	__u32 tail[2];

	memset(&e->source, 0, sizeof(e->source));
	e->source.family = family;
	e->source.len = family == AF_INET ? 32 : group;
	memcpy(e->source.addr, key, family == AF_INET ? 4 : 16);
	memcpy(tail, e->source.addr + 8, 8);
	if (family == AF_INET6 && wide_group(group) &&
	    tail[0] == RG_BAN6_WIDE_TAG && tail[1] == RG_BAN6_WIDE_TAG) {
		e->source.len = RG_BAN6_WIDE_PREFIX;
		prefix_mask(&e->source);
	}
	e->ban = *ban;
}

/* Walk with get_next_key: for kernels or maps without batch lookups. */
static int walk_slow(int fd, int family, unsigned int group, banstore_cb cb,
		     void *ctx)
{
	unsigned char key[16], next[16];
	struct ban_entry e;
	struct rg_ban ban;
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &ban))
			continue; /* deleted under us */
		entry_from_key(&e, family, key, &ban, group);
		err = cb(&e, ctx);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* From c's position in one map, whole batches until at least max entries
 * were passed to cb. Returns 1 when the map is done, 0 when max was
 * reached first, or a negative errno (or cb's non-zero return). */
/* Room for one BATCH_CHUNK of a ban map's keys and values. */
struct chunk {
	size_t key_size;
	unsigned char *keys;
	struct rg_ban *vals;
};

static void chunk_free(struct chunk *ch)
{
	free(ch->keys);
	free(ch->vals);
	ch->keys = NULL;
	ch->vals = NULL;
}

static int chunk_alloc(struct chunk *ch, int family)
{
	ch->key_size = family == AF_INET ? 4 : sizeof(struct rg_ip6);
	ch->keys = malloc(BATCH_CHUNK * ch->key_size);
	ch->vals = malloc(BATCH_CHUNK * sizeof(*ch->vals));
	if (ch->keys && ch->vals)
		return 0;
	chunk_free(ch);
	return -ENOMEM;
}

static int walk_batches(int fd, int family, unsigned int group,
			struct banstore_cursor *c, size_t max, banstore_cb cb,
			void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct chunk ch = { 0 };
	struct ban_entry e;
	__u64 out_batch;
	size_t seen = 0;
	__u32 count, i;
	int err = 0, rc;

	if (!use_batch)
		return walk_slow(fd, family, group, cb, ctx) ?: 1;
	err = chunk_alloc(&ch, family);
	if (err)
		goto out;
	for (;;) {
		count = BATCH_CHUNK;
		rc = bpf_map_lookup_batch(fd, c->started ? &c->token : NULL,
					  &out_batch, ch.keys, ch.vals, &count,
					  &opts);
		rc = rc ? -errno : 0;
		if (rc && !c->started && batch_unsupported(rc)) {
			err = walk_slow(fd, family, group, cb, ctx) ?: 1;
			goto out;
		}
		if (rc && rc != -ENOENT) {
			err = rc;
			goto out;
		}
		for (i = 0; i < count; i++) {
			entry_from_key(&e, family, ch.keys + i * ch.key_size,
				       &ch.vals[i], group);
			err = cb(&e, ctx);
			if (err)
				goto out;
		}
		if (rc == -ENOENT) {
			err = 1;
			goto out;
		}
		c->token = out_batch;
		c->started = true;
		seen += count;
		if (seen >= max)
			goto out;
	}
out:
	chunk_free(&ch);
	return err;
}

static int walk(int fd, int family, unsigned int group, banstore_cb cb,
		void *ctx)
{
	struct banstore_cursor c = { 0 };
	int rc = walk_batches(fd, family, group, &c, SIZE_MAX, cb, ctx);

	return rc < 0 ? rc : 0;
}

int banstore_walk_step(const struct rg_maps *maps, struct banstore_cursor *c,
		       size_t max, banstore_cb cb, void *ctx)
{
	unsigned int group = banstore_ipv6_prefix(maps);
	int rc;

	while (c->map < 2) {
		rc = walk_batches(c->map ? maps->bans6 : maps->bans4,
				  c->map ? AF_INET6 : AF_INET, group, c, max,
				  cb, ctx);
		if (rc <= 0) {
			if (rc < 0)
				*c = (struct banstore_cursor){ 0 };
			return rc;
		}
		c->map++;
		c->started = false;
	}
	*c = (struct banstore_cursor){ 0 };
	return 1;
}

int banstore_for_each(const struct rg_maps *maps, banstore_cb cb, void *ctx)
{
	struct banstore_cursor c = { 0 };
	int rc = banstore_walk_step(maps, &c, SIZE_MAX, cb, ctx);

	return rc < 0 ? rc : 0;
}

struct banstore_pending {
	struct rg_src_key src;
	__u64 ban_hits;
};

static int pending_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct banstore_pending *)a)->src,
		      &((const struct banstore_pending *)b)->src,
		      sizeof(struct rg_src_key));
}

struct pending_scan {
	struct banstore_hits *h;
	size_t cap;
	bool oom;
};

/* Buckets with pending hits are few: the banned sources that sent within
 * the last epoch or so. */
static void pending_visit(const void *val, void *ctx)
{
	const struct rg_bucket *b = val;
	struct pending_scan *c = ctx;
	struct banstore_hits *h = c->h;

	if (!b->ban_hits || !b->src.family || c->oom)
		return;
	if (array_room(h->v, c->cap, h->n, 64)) {
		c->oom = true;
		return;
	}
	h->v[h->n].src = b->src;
	h->v[h->n++].ban_hits = b->ban_hits;
}

void banstore_hits_init(const struct rg_maps *maps, struct banstore_hits *h)
{
	struct pending_scan c = { .h = h };

	memset(h, 0, sizeof(*h));
	h->group = banstore_ipv6_prefix(maps);
	if (maps->ratelimit < 0 ||
	    flowmap_scan(maps->ratelimit, sizeof(struct rg_bucket),
			 pending_visit, &c) ||
	    c.oom) {
		banstore_hits_free(h); /* the bans' own hits, then */
		return;
	}
	qsort(h->v, h->n, sizeof(*h->v), pending_cmp);
}

void banstore_hits_free(struct banstore_hits *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

uint64_t banstore_hits(const struct banstore_hits *h, const struct ban_entry *e)
{
	struct banstore_pending key = { .src.family = e->source.family };
	const struct banstore_pending *p;

	if (!h->n || (key.src.family == AF_INET6 &&
		      banstore_is_wide(h->group, &e->source)))
		return e->ban.hits;
	memcpy(key.src.addr, e->source.addr,
	       key.src.family == AF_INET ? 4 : 16);
	p = bsearch(&key, h->v, h->n, sizeof(*h->v), pending_cmp);
	return e->ban.hits + (p ? p->ban_hits : 0);
}

struct shown_ctx {
	struct banstore_hits hits;
	banstore_cb cb;
	void *ctx;
};

static int shown_one(const struct ban_entry *e, void *data)
{
	struct shown_ctx *c = data;
	struct ban_entry shown = *e;

	shown.ban.hits = banstore_hits(&c->hits, e);
	return c->cb(&shown, c->ctx);
}

int banstore_for_each_shown(const struct rg_maps *maps, banstore_cb cb,
			    void *ctx)
{
	struct shown_ctx c = { .cb = cb, .ctx = ctx };
	int err;

	banstore_hits_init(maps, &c.hits);
	err = banstore_for_each(maps, shown_one, &c);
	banstore_hits_free(&c.hits);
	return err;
}

/* Delete one key at a time, fetching the next key before deleting the
 * current one (restarting from the first key would be quadratic): for
 * maps or kernels without batch ops. */
static int flush_slow(int fd, size_t *n)
{
	unsigned char key[16], next[16];
	bool more;

	if (bpf_map_get_next_key(fd, NULL, key))
		return errno == ENOENT ? 0 : -errno;
	do {
		more = !bpf_map_get_next_key(fd, key, next);
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
			return -errno;
		(*n)++;
		memcpy(key, next, sizeof(key));
	} while (more);
	return 0;
}

static int flush_map(int fd, int family, const char *name, size_t *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct chunk ch = { 0 };
	__u64 in_batch = 0, out_batch;
	bool first = true;
	__u32 count;
	int err = 0;

	if (!use_batch)
		return flush_slow(fd, n);
	err = chunk_alloc(&ch, family);
	if (err)
		goto out;
	for (;;) {
		count = BATCH_CHUNK;
		err = bpf_map_lookup_and_delete_batch(
			fd, first ? NULL : &in_batch, &out_batch, ch.keys,
			ch.vals, &count, &opts);
		err = err ? -errno : 0;
		if (err && first && batch_rejected(err, count, BATCH_CHUNK)) {
			err = flush_slow(fd, n);
			break;
		}
		*n += count;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err)
			break;
		in_batch = out_batch;
		first = false;
	}
out:
	if (err)
		log_err("cannot flush ban map %s: %s", name, log_strerror(err));
	chunk_free(&ch);
	return err;
}

int banstore_flush(const struct rg_maps *maps, size_t *n)
{
	int err;

	*n = 0;
	err = flush_map(maps->bans4, AF_INET, RG_MAP_BANS4, n);
	if (!err)
		err = flush_map(maps->bans6, AF_INET6, RG_MAP_BANS6, n);
	return err;
}
