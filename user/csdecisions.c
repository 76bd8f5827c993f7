// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "config.h"
#include "csdecisions.h"
#include "log.h"
#include "origin.h"

/* Bans are written in batches of this many (a startup stream of 100,000
 * decisions would otherwise be 100,000 update syscalls). */
#define PENDING_MAX 4096

struct apply_ctx {
	struct bans *b;
	const struct rg_conf *conf;
	const struct lapi_decision *d;
	const struct rg_maps *maps;
	uint64_t now;
	struct csdec_stats *st;
	bool allow_any;	     /* the allow tries hold something: look them up */
	struct csdeny *deny; /* NULL: wide ranges are skipped */
	struct ban_entry *pending;
	size_t n_pending;
};

static bool map_empty(int fd)
{
	unsigned char key[sizeof(struct rg_lpm6_key)];

	return fd < 0 || bpf_map_get_next_key(fd, NULL, key);
}

static void flush(struct apply_ctx *c)
{
	size_t written = 0;

	if (!c->n_pending)
		return;
	if (banstore_put_many(c->maps, c->pending, c->n_pending, &written))
		c->st->errors += c->n_pending - written; /* a full map */
	c->st->applied += written;
	c->n_pending = 0;
}

static bool exempt(const struct apply_ctx *c, const struct prefix *source)
{
	if (c->allow_any)
		return bans_exempt(c->b, c->conf, source) != BAN_ADDED;
	return conf_is_trusted(c->conf, source);
}

static uint64_t expiry_of(const struct apply_ctx *c)
{
	int64_t ms = c->d->duration_ms > 0 ? c->d->duration_ms : 0;

	return c->now + (uint64_t)ms * 1000000ULL;
}

static int add_source(const struct prefix *source, void *arg)
{
	struct apply_ctx *c = arg;
	struct ban_entry e = { .source = *source };
	struct rg_ban cur;

	if (exempt(c, source)) {
		c->st->exempt++;
		return 0;
	}
	e.ban.expires_ns = expiry_of(c);
	e.ban.created_ns = c->now;
	e.ban.reason = RG_REASON_IMPORTED;
	e.ban.offences = 1;
	origin_set_crowdsec(&e.ban, c->d->origin, c->d->scenario);
	if (!banstore_get(c->maps, source, &cur) &&
	    (!cur.expires_ns || cur.expires_ns > c->now)) {
		if (!origin_is_crowdsec(&cur)) {
			c->st->kept_local++;
			return 0;
		}
		/* another decision for the same source: the longer one */
		e.ban.hits = cur.hits;
		e.ban.first_hit_ns = cur.first_hit_ns;
		if (!cur.expires_ns || cur.expires_ns > e.ban.expires_ns) {
			e.ban.expires_ns = cur.expires_ns;
			e.ban.origin = cur.origin;
			memcpy(e.ban.origin_tag, cur.origin_tag,
			       sizeof(e.ban.origin_tag));
		}
	}
	if (c->pending) {
		c->pending[c->n_pending++] = e;
		if (c->n_pending == PENDING_MAX)
			flush(c);
	} else if (banstore_put(c->maps, &e)) {
		c->st->errors++; /* out of memory for the batch */
	} else {
		c->st->applied++;
	}
	return 0;
}

static int del_source(const struct prefix *source, void *arg)
{
	struct apply_ctx *c = arg;
	struct rg_ban cur;

	if (banstore_get(c->maps, source, &cur) || !origin_is_crowdsec(&cur))
		return 0;
	if (!banstore_del(c->maps, source))
		c->st->deleted++;
	return 0;
}

static bool overlaps_trusted(const struct rg_conf *conf, const struct prefix *p)
{
	unsigned int i;

	for (i = 0; i < conf->n_trusted; i++)
		if (prefix_overlaps(&conf->trusted[i], p))
			return true;
	return false;
}

/* A range too wide to expand, into the deny tries (csdeny.h). */
static int deny_wide(struct apply_ctx *c)
{
	int rc;

	if (overlaps_trusted(c->conf, &c->d->target)) {
		c->st->exempt++;
		return 0;
	}
	rc = c->deny ? csdeny_add(c->deny, c->maps, &c->d->target, expiry_of(c),
				  c->now)
		     : -ENOENT;
	if (rc == 0)
		c->st->denied++;
	else if (rc == 1)
		c->st->kept_local++;
	return rc < 0 ? rc : 0;
}

static void each_decision(struct apply_ctx *c, const struct lapi_decision *v,
			  size_t n, banstore_source_cb cb)
{
	unsigned int group = banstore_ipv6_prefix(c->maps);
	char buf[PREFIX_STRLEN];
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		c->d = &v[i];
		c->st->received++;
		if (cb == add_source && v[i].duration_ms <= 0) {
			c->st->expired++;
			continue;
		}
		err = banstore_expand(group, &v[i].target, cb, c);
		if (err != -E2BIG)
			continue;
		if (cb == del_source) {
			if (c->deny &&
			    csdeny_del(c->deny, c->maps, &v[i].target))
				c->st->deleted++;
			continue;
		}
		if (deny_wide(c) < 0) {
			c->st->too_wide++;
			format_prefix(&v[i].target, buf, sizeof(buf));
			log_debug("crowdsec: range %s is too wide to ban and "
				  "cannot be denied: skipped",
				  buf);
		}
	}
}

int csdec_apply(struct bans *b, const struct rg_conf *conf, struct csdeny *deny,
		const struct lapi_stream *s, uint64_t now_ns,
		struct csdec_stats *st)
{
	struct apply_ctx c = {
		.b = b,
		.conf = conf,
		.deny = deny,
		.maps = bans_maps(b),
		.now = now_ns,
		.st = st,
	};

	st->skipped += s->unknown_scope + s->invalid;
	c.allow_any = !map_empty(c.maps->allow4) || !map_empty(c.maps->allow6);
	if (s->n_added > 1)
		c.pending = malloc(PENDING_MAX * sizeof(*c.pending));
	each_decision(&c, s->deleted, s->n_deleted, del_source);
	each_decision(&c, s->added, s->n_added, add_source);
	flush(&c);
	free(c.pending);
	return 0;
}

struct stale_ctx {
	uint64_t since;
	struct prefix *v;
	size_t n, cap;
};

static int collect_stale(const struct ban_entry *e, void *arg)
{
	struct stale_ctx *c = arg;

	if (!origin_is_crowdsec(&e->ban) || e->ban.created_ns >= c->since)
		return 0;
	if (array_room(c->v, c->cap, c->n, 256))
		return -ENOMEM;
	c->v[c->n++] = e->source;
	return 0;
}

int csdec_reconcile(const struct rg_maps *maps, uint64_t since_ns,
		    size_t *removed)
{
	struct stale_ctx c = { .since = since_ns };
	size_t i, n = 0;
	int err;

	err = banstore_for_each(maps, collect_stale, &c);
	for (i = 0; !err && i < c.n; i++)
		if (!banstore_del(maps, &c.v[i]))
			n++;
	free(c.v);
	if (removed)
		*removed = n;
	return err;
}
