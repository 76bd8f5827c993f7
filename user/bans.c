// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The offence history is a binary tree (tsearch) of sources; a source's
 * count goes up with every ban and is forgotten 2 x ban_time_max after its
 * last one. */
#include <bpf/bpf.h>
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "array.h"
#include "bans.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "policy.h"
#include "snapshot.h"

struct offender {
	struct prefix source;
	uint64_t last_wall_ns;
	uint32_t offences;
};

struct bans {
	const struct rg_maps *maps;
	void *offenders; /* tsearch root of struct offender */
	size_t n_offenders;
	struct banstore_cursor sweep_at; /* where a stepped sweep stands */
	uint64_t counted[RG_REASON_MAX]; /* bans in force, by reason, so far */
	uint64_t counted_map[2];	 /* and in bans4, bans6, so far */
	uint64_t in_map[2]; /* bans4, bans6 at the last complete sweep */
};

static int offender_cmp(const void *a, const void *b)
{
	const struct offender *x = a, *y = b;

	if (x->source.family != y->source.family)
		return x->source.family - y->source.family;
	if (x->source.len != y->source.len)
		return x->source.len < y->source.len ? -1 : 1;
	return memcmp(x->source.addr, y->source.addr, sizeof(x->source.addr));
}

struct bans *bans_new(const struct rg_maps *maps)
{
	struct bans *b = calloc(1, sizeof(*b));

	if (b)
		b->maps = maps;
	return b;
}

const struct rg_maps *bans_maps(const struct bans *b)
{
	return b->maps;
}

void bans_free(struct bans *b)
{
	if (!b)
		return;
	tdestroy(b->offenders, free);
	free(b);
}

static struct offender *offender_find(struct bans *b,
				      const struct prefix *source)
{
	struct offender key = { .source = *source };
	void *node = tfind(&key, &b->offenders, offender_cmp);

	return node ? *(struct offender **)node : NULL;
}

static struct offender *offender_get(struct bans *b,
				     const struct prefix *source)
{
	struct offender *o = offender_find(b, source);
	void *node;

	if (o)
		return o;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->source = *source;
	node = tsearch(o, &b->offenders, offender_cmp);
	if (!node) {
		free(o);
		return NULL;
	}
	b->n_offenders++;
	return o;
}

uint32_t bans_offences(struct bans *b, const struct prefix *source)
{
	struct offender *o = offender_find(b, source);

	return o ? o->offences : 0;
}

/* The allow-list is an LPM trie: a host-length key finds any prefix that
 * covers it. Its value (a byte) does not matter. */
static bool allow_listed(const struct rg_maps *maps, const struct prefix *a)
{
	struct rg_lpm6_key k6 = { .prefixlen = 128 };
	struct rg_lpm4_key k4 = { .prefixlen = 32 };
	__u64 value[8];

	if (a->family == AF_INET) {
		memcpy(&k4.addr, a->addr, 4);
		return maps->allow4 >= 0 &&
		       !bpf_map_lookup_elem(maps->allow4, &k4, value);
	}
	memcpy(k6.addr, a->addr, 16);
	return maps->allow6 >= 0 &&
	       !bpf_map_lookup_elem(maps->allow6, &k6, value);
}

enum ban_outcome bans_exempt(const struct bans *b, const struct rg_conf *conf,
			     const struct prefix *addr)
{
	if (conf_is_trusted(conf, addr))
		return BAN_TRUSTED;
	if (allow_listed(b->maps, addr))
		return BAN_ALLOWED;
	return BAN_ADDED;
}

static bool still_banned(const struct rg_maps *maps,
			 const struct prefix *source, uint64_t now_ns)
{
	struct rg_ban cur;

	if (banstore_get(maps, source, &cur))
		return false;
	return !cur.expires_ns || cur.expires_ns > now_ns;
}

int bans_ban(struct bans *b, const struct rg_conf *conf,
	     const struct prefix *addr, enum rg_reason reason, uint64_t now_ns,
	     struct ban_result *res)
{
	struct ban_entry e = { 0 };
	struct offender *o;
	int err;

	memset(res, 0, sizeof(*res));
	err = banstore_source(b->maps, addr, &res->source);
	if (err)
		return err;
	res->outcome = bans_exempt(b, conf, addr);
	if (res->outcome != BAN_ADDED)
		return 0;
	if (still_banned(b->maps, &res->source, now_ns)) {
		res->outcome = BAN_EXISTS;
		return 0;
	}
	o = offender_get(b, &res->source);
	if (!o)
		return -ENOMEM;
	res->offences = o->offences + 1;
	res->duration_s = policy_ban_duration(conf, res->offences);
	res->expires_ns = now_ns + res->duration_s * NSEC_PER_SEC;
	e.source = res->source;
	e.ban.expires_ns = res->expires_ns;
	e.ban.created_ns = now_ns;
	e.ban.reason = reason;
	e.ban.offences = res->offences;
	err = banstore_put(b->maps, &e);
	if (err)
		return err;
	o->offences = res->offences;
	o->last_wall_ns = clock_ns(CLOCK_REALTIME);
	res->outcome = BAN_ADDED;
	return 0;
}

struct sweep_ctx {
	uint64_t now_ns;
	uint64_t *by_reason;
	uint64_t *by_map; /* bans4, bans6 */
	struct ban_entry *expired;
	size_t n, cap;
	int err;
};

static int sweep_one(const struct ban_entry *e, void *data)
{
	struct sweep_ctx *c = data;

	if (!e->ban.expires_ns || e->ban.expires_ns > c->now_ns) {
		if (c->by_reason && e->ban.reason < RG_REASON_MAX)
			c->by_reason[e->ban.reason]++;
		c->by_map[e->source.family == AF_INET6]++;
		return 0;
	}
	if (array_room(c->expired, c->cap, c->n, 256))
		return -ENOMEM;
	c->expired[c->n++] = *e;
	return 0;
}

struct forget_ctx {
	uint64_t cutoff_wall_ns;
	struct offender **old;
	size_t n;
};

static void collect_old(const void *node, VISIT v, void *data)
{
	struct offender *o = *(struct offender *const *)node;
	struct forget_ctx *c = data;

	if ((v == postorder || v == leaf) &&
	    o->last_wall_ns < c->cutoff_wall_ns)
		c->old[c->n++] = o;
}

/* Collected first, then deleted: the tree is not changed while walked. */
static void forget_old(struct bans *b, const struct rg_conf *conf)
{
	uint64_t keep_ns = 2 * conf->ban_time_max * NSEC_PER_SEC;
	uint64_t now = clock_ns(CLOCK_REALTIME);
	struct forget_ctx c = { 0 };
	size_t i;

	if (!b->n_offenders || !keep_ns || keep_ns >= now)
		return;
	c.cutoff_wall_ns = now - keep_ns;
	c.old = calloc(b->n_offenders, sizeof(*c.old));
	if (!c.old)
		return;
	twalk_r(b->offenders, collect_old, &c);
	for (i = 0; i < c.n; i++) {
		tdelete(c.old[i], &b->offenders, offender_cmp);
		free(c.old[i]);
		b->n_offenders--;
	}
	free(c.old);
}

/* Remove what the walk found expired, re-reading each first: a ban
 * renewed since the walk is kept. Returns how many were removed. */
static int unban_expired(struct bans *b, const struct sweep_ctx *c,
			 bans_unban_cb cb, void *ctx)
{
	struct rg_ban cur;
	int removed = 0;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (banstore_get(b->maps, &c->expired[i].source, &cur) ||
		    !cur.expires_ns || cur.expires_ns > c->now_ns)
			continue;
		if (banstore_del(b->maps, &c->expired[i].source))
			continue;
		removed++;
		if (cb)
			cb(&c->expired[i], ctx);
	}
	return removed;
}

int bans_sweep_step(struct bans *b, const struct rg_conf *conf, uint64_t now_ns,
		    size_t max, uint64_t *by_reason, bans_unban_cb cb,
		    void *ctx, bool *done)
{
	struct sweep_ctx c = { .now_ns = now_ns,
			       .by_reason = b->counted,
			       .by_map = b->counted_map };
	bool start = !b->sweep_at.map && !b->sweep_at.started;
	int rc, removed;

	if (start) {
		memset(b->counted, 0, sizeof(b->counted));
		memset(b->counted_map, 0, sizeof(b->counted_map));
	}
	rc = banstore_walk_step(b->maps, &b->sweep_at, max, sweep_one, &c);
	removed = unban_expired(b, &c, cb, ctx);
	free(c.expired);
	*done = rc != 0;
	if (rc < 0)
		return rc;
	if (rc) {
		if (by_reason)
			memcpy(by_reason, b->counted, sizeof(b->counted));
		memcpy(b->in_map, b->counted_map, sizeof(b->in_map));
		forget_old(b, conf);
	}
	return removed;
}

void bans_in_maps(const struct bans *b, uint64_t *v4, uint64_t *v6)
{
	*v4 = b->in_map[0];
	*v6 = b->in_map[1];
}

int bans_sweep(struct bans *b, const struct rg_conf *conf, uint64_t now_ns,
	       uint64_t *by_reason, bans_unban_cb cb, void *ctx)
{
	bool done = false;
	int rc, removed = 0;

	b->sweep_at = (struct banstore_cursor){ 0 };
	while (!done) {
		rc = bans_sweep_step(b, conf, now_ns, SIZE_MAX, by_reason, cb,
				     ctx, &done);
		if (rc < 0)
			return rc;
		removed += rc;
	}
	return removed;
}

/* Snapshot: every ban, then every offender. */
struct snap_ctx {
	struct snapshot *s;
	size_t cap;
	uint64_t wall_minus_boot;
};

static uint64_t to_wall(const struct snap_ctx *c, uint64_t boot)
{
	return boot ? boot + c->wall_minus_boot : 0;
}

static int snap_ban(const struct ban_entry *e, void *data)
{
	struct snap_ctx *c = data;
	struct snap_ban *sb;

	if (array_room(c->s->bans, c->cap, c->s->n_bans, 1024))
		return -ENOMEM;
	sb = &c->s->bans[c->s->n_bans++];
	sb->source = e->source;
	sb->expires_wall_ns = to_wall(c, e->ban.expires_ns);
	sb->created_wall_ns = to_wall(c, e->ban.created_ns);
	sb->hits = e->ban.hits;
	sb->reason = e->ban.reason;
	sb->offences = e->ban.offences;
	sb->origin = e->ban.origin;
	memcpy(sb->origin_tag, e->ban.origin_tag, sizeof(sb->origin_tag));
	return 0;
}

static void snap_offender(const void *node, VISIT v, void *data)
{
	const struct offender *o = *(struct offender *const *)node;
	struct snapshot *s = data;
	struct snap_offence *f;

	if (v != postorder && v != leaf)
		return;
	f = &s->offences[s->n_offences++];
	f->source = o->source;
	f->offences = o->offences;
	f->last_wall_ns = o->last_wall_ns;
}

int bans_snapshot(struct bans *b, const char *path)
{
	struct snapshot s = { 0 };
	struct snap_ctx c = { .s = &s };
	int err;

	c.wall_minus_boot = clock_ns(CLOCK_REALTIME) - boot_ns();
	s.written_wall_ns = clock_ns(CLOCK_REALTIME);
	snapshot_boot_id(s.boot_id);
	/* hits as shown: a restore on another boot finds no bucket */
	err = banstore_for_each_shown(b->maps, snap_ban, &c);
	if (err)
		goto out;
	s.offences = calloc(b->n_offenders + 1, sizeof(*s.offences));
	if (!s.offences) {
		err = -ENOMEM;
		goto out;
	}
	twalk_r(b->offenders, snap_offender, &s);
	err = snapshot_write(path, &s);
out:
	if (err)
		log_err("cannot write ban snapshot %s: %s", path,
			log_strerror(err));
	snapshot_free(&s);
	return err;
}

static void merge_offences(struct bans *b, const struct snapshot *s)
{
	struct offender *o;
	size_t i;

	for (i = 0; i < s->n_offences; i++) {
		o = offender_get(b, &s->offences[i].source);
		if (!o)
			return;
		if (s->offences[i].offences > o->offences)
			o->offences = s->offences[i].offences;
		if (s->offences[i].last_wall_ns > o->last_wall_ns)
			o->last_wall_ns = s->offences[i].last_wall_ns;
	}
}

/* Wall-clock instant -> boot clock, now; an instant before this boot
 * began maps to 1 (0 means "none" in struct rg_ban). */
static uint64_t to_boot(uint64_t wall, uint64_t now_wall, uint64_t now_boot)
{
	if (!wall)
		return 0;
	if (wall >= now_wall)
		return now_boot + (wall - now_wall);
	return now_wall - wall < now_boot ? now_boot - (now_wall - wall) : 1;
}

/* The snapshot's live bans not already in the map, as ban entries. */
static size_t live_bans(struct bans *b, const struct snapshot *s,
			struct ban_entry *out)
{
	uint64_t now_wall = clock_ns(CLOCK_REALTIME), now_boot = boot_ns();
	struct rg_ban cur;
	size_t i, n = 0;

	for (i = 0; i < s->n_bans; i++) {
		const struct snap_ban *sb = &s->bans[i];
		struct ban_entry *e = &out[n];

		if (sb->expires_wall_ns && sb->expires_wall_ns <= now_wall)
			continue;
		if (!banstore_get(b->maps, &sb->source, &cur))
			continue; /* the map wins */
		memset(e, 0, sizeof(*e));
		e->source = sb->source;
		e->ban.expires_ns =
			to_boot(sb->expires_wall_ns, now_wall, now_boot);
		e->ban.created_ns =
			to_boot(sb->created_wall_ns, now_wall, now_boot);
		e->ban.hits = sb->hits;
		e->ban.reason = sb->reason;
		e->ban.offences = sb->offences;
		e->ban.origin = sb->origin;
		memcpy(e->ban.origin_tag, sb->origin_tag,
		       sizeof(e->ban.origin_tag));
		n++;
	}
	return n;
}

static int load(const char *path, struct snapshot *s)
{
	char err[256], aside[4096];
	int rc;

	rc = snapshot_read(path, s, err, sizeof(err));
	if (rc != -EBADMSG)
		return rc;
	if (snapshot_set_aside(path, aside, sizeof(aside)))
		log_err("ban snapshot %s is corrupt (%s) and cannot be moved aside: %s; starting without it",
			path, err, strerror(errno));
	else
		log_err("ban snapshot %s is corrupt (%s); moved to %s, starting without it",
			path, err, aside);
	return -EBADMSG;
}

/* The next snapshot would overwrite bans that could not be put back (a
 * full map...): keep the file under another name for the operator. */
static void keep_unrestored(const char *path, size_t n, int err)
{
	char aside[4096];

	snprintf(aside, sizeof(aside), "%s.unrestored-%lld", path,
		 (long long)time(NULL));
	if (rename(path, aside))
		snprintf(aside, sizeof(aside), "%s (not moved: %s)", path,
			 strerror(errno));
	log_err("cannot restore %zu bans: %s; snapshot kept as %s", n,
		log_strerror(err), aside);
}

int bans_restore(struct bans *b, const char *path, bool restore_bans,
		 unsigned long *restored)
{
	struct ban_entry *entries = NULL;
	char boot_id[SNAP_BOOT_ID_LEN];
	struct snapshot s;
	size_t n;
	int err;

	if (restored)
		*restored = 0;
	err = load(path, &s);
	if (err == -ENOENT || err == -EBADMSG)
		return 0;
	if (err) {
		log_err("cannot read ban snapshot %s: %s", path,
			log_strerror(err));
		return 0;
	}
	merge_offences(b, &s);
	snapshot_boot_id(boot_id);
	if (!restore_bans && !strcmp(boot_id, s.boot_id))
		goto out; /* same boot, maps kept: they are the truth */
	entries = calloc(s.n_bans + 1, sizeof(*entries));
	if (!entries) {
		err = -ENOMEM;
		goto out;
	}
	n = live_bans(b, &s, entries);
	err = banstore_put_batch(b->maps, entries, n);
	if (!err && restored)
		*restored = n;
	if (err)
		keep_unrestored(path, n, err);
out:
	free(entries);
	snapshot_free(&s);
	return err;
}
