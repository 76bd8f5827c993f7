// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "config.h"
#include "cs_decisions.h"
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
	unsigned int group;  /* the IPv6 grouping prefix */
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
		/* another decision for the same source: the longer one. Its
		 * own hits only (not banstore_hits()): the SYNs pending in
		 * the source's bucket stay there, and the data plane adds
		 * them to the ban it finds at its next look, this one. */
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

/* A range too wide to expand, into the deny tries (cs_deny.h). */
static int deny_wide(struct apply_ctx *c)
{
	int rc;

	if (conf_trusted_overlaps(c->conf, &c->d->target)) {
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

/* The first touch of decision d: counted; an added one already expired
 * is skipped, a range too wide to expand goes to the deny tries. Returns
 * how many sources d covers, 0 when it is done with. */
static uint64_t begin_decision(struct apply_ctx *c, bool add)
{
	char buf[PREFIX_STRLEN];
	int64_t n;

	c->st->received++;
	if (add && c->d->duration_ms <= 0) {
		c->st->expired++;
		return 0;
	}
	n = banstore_expand_count(c->group, &c->d->target);
	if (n != -E2BIG)
		return n > 0 ? (uint64_t)n : 0;
	if (!add) {
		if (c->deny && csdeny_del(c->deny, c->maps, &c->d->target))
			c->st->deleted++;
	} else if (deny_wide(c) < 0) {
		c->st->too_wide++;
		format_prefix(&c->d->target, buf, sizeof(buf));
		log_debug("crowdsec: range %s is too wide to ban and cannot be "
			  "denied: skipped",
			  buf);
	}
	return 0;
}

enum job_stage {
	J_DELETED, /* the answer's deleted decisions */
	J_ADDED,   /* its new ones */
	J_COLLECT, /* whole set: the bans from CrowdSec it did not renew */
	J_PURGE,   /* ... removed */
	J_DENY,	   /* ... and the wide ranges likewise */
	J_DONE,
};

struct csdec_job {
	struct apply_ctx c;
	const struct lapi_stream *s;
	bool whole, counted;
	enum job_stage stage;
	size_t i;	     /* next decision of the stage's list */
	uint64_t sub, count; /* of its sources: next, all (0: not begun) */
	struct banstore_cursor cursor;
	struct prefix *stale; /* collected, removed in J_PURGE */
	size_t n_stale, cap_stale, purged, removed;
};

struct csdec_job *csdec_job_new(struct bans *b, const struct rg_conf *conf,
				struct csdeny *deny,
				const struct lapi_stream *s, uint64_t now_ns,
				bool whole)
{
	struct csdec_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->c.b = b;
	j->c.conf = conf;
	j->c.deny = deny;
	j->c.maps = bans_maps(b);
	j->c.group = banstore_ipv6_prefix(j->c.maps);
	j->c.now = now_ns;
	j->c.allow_any =
		!map_empty(j->c.maps->allow4) || !map_empty(j->c.maps->allow6);
	j->s = s;
	j->whole = whole;
	if (s->n_added > 1)
		j->c.pending = malloc(PENDING_MAX * sizeof(*j->c.pending));
	return j;
}

void csdec_job_free(struct csdec_job *j)
{
	if (!j)
		return;
	free(j->c.pending);
	free(j->stale);
	free(j);
}

size_t csdec_job_stale(const struct csdec_job *j)
{
	return j->removed;
}

/* Up to *budget sources of the stage's list, resuming inside a range. */
static void apply_list(struct csdec_job *j, size_t *budget)
{
	bool add = j->stage == J_ADDED;
	const struct lapi_decision *v = add ? j->s->added : j->s->deleted;
	size_t n = add ? j->s->n_added : j->s->n_deleted;
	uint64_t take;

	while (*budget && j->i < n) {
		j->c.d = &v[j->i];
		if (!j->count) {
			j->count = begin_decision(&j->c, add);
			j->sub = 0;
		}
		take = j->count - j->sub < *budget ? j->count - j->sub
						   : *budget;
		banstore_expand_part(j->c.group, &j->c.d->target, j->sub, take,
				     add ? add_source : del_source, &j->c);
		j->sub += take;
		*budget -= take ? take : 1;
		if (j->sub == j->count) {
			j->count = 0;
			j->i++;
		}
	}
	flush(&j->c); /* a step's bans are in the maps when it returns */
}

static int collect_stale(const struct ban_entry *e, void *arg)
{
	struct csdec_job *j = arg;

	if (!origin_is_crowdsec(&e->ban) || e->ban.created_ns >= j->c.now)
		return 0;
	if (array_room(j->stale, j->cap_stale, j->n_stale, 256))
		return -ENOMEM;
	j->stale[j->n_stale++] = e->source;
	return 0;
}

/* Removed only if still CrowdSec's and not renewed: the source may have
 * been banned locally since it was collected. */
static void purge(struct csdec_job *j, size_t *budget)
{
	struct rg_ban cur;
	struct prefix *p;

	for (; *budget && j->purged < j->n_stale; (*budget)--, j->purged++) {
		p = &j->stale[j->purged];
		if (!banstore_get(j->c.maps, p, &cur) &&
		    origin_is_crowdsec(&cur) && cur.created_ns < j->c.now &&
		    !banstore_del(j->c.maps, p))
			j->removed++;
	}
}

static void next_stage(struct csdec_job *j, int walk_rc)
{
	switch (j->stage) {
	case J_DELETED:
	case J_ADDED:
		if (j->i <
		    (j->stage == J_ADDED ? j->s->n_added : j->s->n_deleted))
			return;
		j->i = 0;
		j->stage = j->stage == J_DELETED ? J_ADDED
			   : j->whole		 ? J_COLLECT
						 : J_DONE;
		return;
	case J_COLLECT:
		if (walk_rc < 0) {
			log_warn("crowdsec: cannot walk the ban maps for the "
				 "bans a whole set did not renew: %s",
				 log_strerror(walk_rc));
			j->stage = J_DONE;
		} else if (walk_rc == 1) {
			j->stage = J_PURGE;
		}
		return;
	case J_PURGE:
		if (j->purged == j->n_stale)
			j->stage = J_DENY;
		return;
	case J_DENY:
	case J_DONE:
		j->stage = J_DONE;
		return;
	}
}

int csdec_job_step(struct csdec_job *j, size_t max, struct csdec_stats *st)
{
	size_t budget = max ? max : 1;
	int walk_rc = 0;

	j->c.st = st;
	if (!j->counted)
		st->skipped += j->s->unknown_scope + j->s->invalid;
	j->counted = true;
	switch (j->stage) {
	case J_DELETED:
	case J_ADDED:
		apply_list(j, &budget);
		break;
	case J_COLLECT:
		walk_rc = banstore_walk_step(j->c.maps, &j->cursor, budget,
					     collect_stale, j);
		break;
	case J_PURGE:
		purge(j, &budget);
		break;
	case J_DENY:
		if (j->c.deny)
			j->removed += csdeny_sweep(j->c.deny, j->c.maps,
						   j->c.now, j->c.now);
		break;
	case J_DONE:
		return 1;
	}
	next_stage(j, walk_rc);
	return j->stage == J_DONE;
}
