// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl ban add|del|list|flush|import|export, through the ban
 * store. A prefix ban is expanded into host (IPv4) or group (IPv6) entries,
 * at most 2^BANSTORE_EXPAND_BITS of them (banstore_expand). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "banstore.h"
#include "clock.h"
#include "ctl.h"
#include "fsutil.h"
#include "log.h"
#include "origin.h"

#define BAN_LINE_MAX 1024

struct ban_vec {
	struct ban_entry *v;
	size_t n, cap;
};

static int vec_push(struct ban_vec *vec, const struct ban_entry *e)
{
	if (array_room(vec->v, vec->cap, vec->n, 64))
		return -ENOMEM;
	vec->v[vec->n++] = *e;
	return 0;
}

static void vec_free(struct ban_vec *vec)
{
	free(vec->v);
	memset(vec, 0, sizeof(*vec));
}

/* What one `ban add` or import line asks for. */
struct ban_req {
	struct prefix target; /* as typed */
	uint64_t seconds;     /* DURATION_PERMANENT or > 0 */
	unsigned int reason;
};

static int parse_dur(const char *s, uint64_t *seconds, const char *where)
{
	if (parse_duration(s, seconds))
		return ctl_err(-EINVAL,
			       "%sbad duration '%s': expected N[s|m|h|d|w] (N "
			       "> 0) or permanent",
			       where, ctl_quote(s));
	return 0;
}

static int parse_reason(const char *s, unsigned int *reason, const char *where)
{
	int r = reason_from_name(s);

	if (r <= RG_REASON_NONE)
		return ctl_err(-EINVAL,
			       "%sbad reason '%s'; see 'relayguardctl help' "
			       "for the names",
			       where, ctl_quote(s));
	*reason = r;
	return 0;
}

/* The prefix a request bans in effect: an IPv6 target longer than the
 * group widens to its group. */
static void effective(unsigned int group, const struct prefix *t,
		      struct prefix *eff)
{
	*eff = *t;
	if (t->family == AF_INET6 && t->len > group) {
		eff->len = group;
		prefix_mask(eff);
	}
}

struct expand_ctx {
	struct ban_entry e; /* the template: all but the source */
	struct ban_vec *vec;
};

static int push_source(const struct prefix *source, void *arg)
{
	struct expand_ctx *c = arg;

	c->e.source = *source;
	return vec_push(c->vec, &c->e);
}

/* Expand req into ban entries (one per host or group) appended to vec. */
static int expand(unsigned int group, const struct ban_req *req, uint64_t now,
		  struct ban_vec *vec, const char *where)
{
	unsigned int unit = req->target.family == AF_INET ? 32 : group;
	struct expand_ctx c = { .vec = vec };
	char buf[PREFIX_STRLEN];
	struct prefix eff;
	int err;

	c.e.ban.created_ns = now;
	c.e.ban.expires_ns = req->seconds == DURATION_PERMANENT
				     ? 0
				     : now + req->seconds * NSEC_PER_SEC;
	c.e.ban.reason = req->reason;
	c.e.ban.offences = 1;
	err = banstore_expand(group, &req->target, push_source, &c);
	if (err == -E2BIG) {
		effective(group, &req->target, &eff);
		format_prefix(&req->target, buf, sizeof(buf));
		return ctl_err(
			-E2BIG,
			"%sbanning %s would take 2^%u %s entries (at most "
			"2^%d: /%u or longer); use 'deny add' for wide ranges",
			where, buf, unit - eff.len,
			unit == 32 ? "host" : "group", BANSTORE_EXPAND_BITS,
			unit - BANSTORE_EXPAND_BITS);
	}
	return err;
}

static int check_allow(const struct allow_guard *g, unsigned int group,
		       const struct prefix *target, const char *where)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];
	struct prefix eff, hit;

	if (ctl.force)
		return 0;
	effective(group, target, &eff);
	if (!allow_guard_overlaps(g, &eff, &hit))
		return 0;
	format_prefix(&eff, a, sizeof(a));
	format_prefix(&hit, b, sizeof(b));
	return ctl_err(-EPERM,
		       "%srefusing to ban %s: it overlaps allow-listed %s (use "
		       "--force to ban anyway)",
		       where, a, b);
}

/* Write the entries: one put, or a batch (all or nothing). */
static int store(const struct rg_maps *maps, struct ban_vec *vec)
{
	struct rg_ban old;

	if (vec->n != 1)
		return banstore_put_batch(maps, vec->v, vec->n);
	if (!banstore_get(maps, &vec->v[0].source, &old))
		vec->v[0].ban.offences = old.offences + 1;
	return banstore_put(maps, &vec->v[0]);
}

static void print_duration(uint64_t seconds)
{
	char buf[DURATION_STRLEN];

	format_duration(seconds, buf, sizeof(buf));
	if (seconds == DURATION_PERMANENT)
		print_null("duration", " %s", buf);
	else {
		print_uint("duration", NULL, seconds);
		print_text(" for %s", buf);
	}
}

/* The maps, and the allow lists a new ban is checked against. */
static int open_guarded(struct rg_maps *maps, struct allow_guard *g)
{
	int err;

	err = ctl_open_maps(maps);
	if (err)
		return err;
	err = allow_guard_init(g, maps);
	if (err)
		maps_close(maps);
	return err;
}

static void close_guarded(struct rg_maps *maps, struct allow_guard *g)
{
	allow_guard_free(g);
	maps_close(maps);
}

static int ban_add(int argc, char **argv)
{
	struct ban_req req = { .seconds = DURATION_PERMANENT,
			       .reason = RG_REASON_MANUAL };
	struct ban_vec vec = { 0 };
	char buf[PREFIX_STRLEN];
	struct allow_guard g;
	struct rg_maps maps;
	unsigned int group;
	int i, err;

	if (argc < 1)
		return ctl_err(-EINVAL, "ban add: missing ADDR[/LEN]");
	err = ctl_parse_prefix(argv[0], &req.target, "address", "");
	for (i = 1; i < argc && !err; i++) {
		if (!strcmp(argv[i], "--force")) {
			ctl.force = true;
		} else if (i + 1 >= argc && (!strcmp(argv[i], "for") ||
					     !strcmp(argv[i], "reason"))) {
			err = ctl_err(-EINVAL, "ban add: '%s' needs a value",
				      argv[i]);
		} else if (!strcmp(argv[i], "for")) {
			err = parse_dur(argv[++i], &req.seconds, "");
		} else if (!strcmp(argv[i], "reason")) {
			err = parse_reason(argv[++i], &req.reason, "");
		} else {
			err = ctl_err(-EINVAL,
				      "ban add: unexpected '%s' (expected 'for "
				      "DURATION' or 'reason REASON')",
				      ctl_quote(argv[i]));
		}
	}
	if (err)
		return err;
	err = open_guarded(&maps, &g);
	if (err)
		return err;
	group = banstore_ipv6_prefix(&maps);
	err = expand(group, &req, boot_ns(), &vec, "");
	if (!err)
		err = check_allow(&g, group, &req.target, "");
	if (!err)
		err = store(&maps, &vec);
	if (!err) {
		print_obj_start(NULL);
		format_prefix(&req.target, buf, sizeof(buf));
		print_str("banned", "banned %s", buf);
		print_uint("entries", vec.n > 1 ? " (%llu entries)" : NULL,
			   vec.n);
		if (req.target.family == AF_INET6) {
			bool widened = req.target.len > vec.v[0].source.len;

			format_prefix(&vec.v[0].source, buf, sizeof(buf));
			print_str("source", widened ? " as %s" : NULL, buf);
		}
		print_duration(req.seconds);
		print_str("reason", ", reason %s\n", reason_name(req.reason));
		print_obj_end();
	}
	vec_free(&vec);
	close_guarded(&maps, &g);
	return err;
}

struct del_ctx {
	struct prefix within;
	struct ban_vec found;
};

static int collect_within(const struct ban_entry *e, void *arg)
{
	struct del_ctx *c = arg;

	if (!prefix_overlaps(&c->within, &e->source))
		return 0;
	return vec_push(&c->found, e);
}

static int ban_del(int argc, char **argv)
{
	struct del_ctx c = { 0 };
	struct rg_maps maps;
	char buf[PREFIX_STRLEN];
	size_t i;
	int err;

	if (argc != 1)
		return ctl_err(-EINVAL,
			       argc ? "ban del: one ADDR[/LEN] at a time"
				    : "ban del: missing ADDR[/LEN]");
	err = ctl_parse_prefix(argv[0], &c.within, "address", "");
	if (err)
		return err;
	err = ctl_open_maps(&maps);
	if (err)
		return err;
	effective(banstore_ipv6_prefix(&maps), &c.within, &c.within);
	err = banstore_for_each(&maps, collect_within, &c);
	if (err) {
		ctl_err(err, "cannot read the ban maps: %s", log_strerror(err));
		goto out;
	}
	format_prefix(&c.within, buf, sizeof(buf));
	if (!c.found.n) {
		err = ctl_err(-ENOENT, "no ban for %s", buf);
		goto out;
	}
	for (i = 0; i < c.found.n; i++) {
		err = banstore_del(&maps, &c.found.v[i].source);
		if (err && err != -ENOENT) {
			ctl_err(err, "cannot delete a ban: %s",
				log_strerror(err));
			/* Put back what this command removed. */
			banstore_put_batch(&maps, c.found.v, i);
			goto out;
		}
	}
	err = 0;
	print_obj_start(NULL);
	print_str("unbanned", "unbanned %s", buf);
	print_uint("entries", " (%llu entries)\n", c.found.n);
	print_obj_end();
out:
	vec_free(&c.found);
	maps_close(&maps);
	return err;
}

static int collect(const struct ban_entry *e, void *arg)
{
	return vec_push(arg, e);
}

/* Every ban into the struct ban_vec vec. */
static int read_all(const struct rg_maps *maps, void *vec)
{
	int err = banstore_for_each_shown(maps, collect, vec);

	if (err) {
		vec_free(vec);
		return ctl_err(err, "cannot read the ban maps: %s",
			       log_strerror(err));
	}
	return 0;
}

/* Every ban, from freshly opened maps, sorted by cmp. */
static int read_sorted(struct ban_vec *vec,
		       int (*cmp)(const void *, const void *))
{
	int err = ctl_on_maps(read_all, vec);

	if (err)
		return err;
	qsort(vec->v, vec->n, sizeof(*vec->v), cmp);
	return 0;
}

static int cmp_addr(const void *x, const void *y)
{
	const struct ban_entry *a = x, *b = y;

	if (a->source.family != b->source.family)
		return a->source.family == AF_INET ? -1 : 1;
	return memcmp(a->source.addr, b->source.addr, 16);
}

static int cmp_hits(const void *x, const void *y)
{
	const struct ban_entry *a = x, *b = y;

	if (a->ban.hits != b->ban.hits)
		return a->ban.hits > b->ban.hits ? -1 : 1;
	return cmp_addr(x, y);
}

/* Soonest expiry first, permanent bans last. */
static int cmp_expiry(const void *x, const void *y)
{
	const struct ban_entry *a = x, *b = y;
	uint64_t ea = a->ban.expires_ns ? a->ban.expires_ns : UINT64_MAX;
	uint64_t eb = b->ban.expires_ns ? b->ban.expires_ns : UINT64_MAX;

	if (ea != eb)
		return ea < eb ? -1 : 1;
	return cmp_addr(x, y);
}

/* Seconds left, rounded up; 0 when expired. */
static uint64_t seconds_left(const struct rg_ban *b, uint64_t now)
{
	if (b->expires_ns <= now)
		return 0;
	return (b->expires_ns - now + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
}

static void print_ban(const struct ban_entry *e, uint64_t now)
{
	char buf[PREFIX_STRLEN], left[DURATION_STRLEN], origin[ORIGIN_STRLEN];
	uint64_t secs;

	format_prefix(&e->source, buf, sizeof(buf));
	print_obj_start(NULL);
	print_str("source", "%-40s", buf);
	print_str("reason", " %-15s", reason_name(e->ban.reason));
	print_uint("hits", " %12llu", e->ban.hits);
	if (!e->ban.expires_ns) {
		print_null("time_left", " %-12s", "permanent");
	} else {
		secs = seconds_left(&e->ban, now);
		format_duration(secs, left, sizeof(left));
		print_uint("time_left", NULL, secs);
		print_text(" %-12s", secs ? left : "expired");
	}
	print_bool("expired", NULL,
		   e->ban.expires_ns && e->ban.expires_ns <= now);
	print_uint("offences", " %8llu", e->ban.offences);
	origin_format(&e->ban, origin, sizeof(origin));
	print_str("origin", " %s\n", origin);
	print_obj_end();
}

static int ban_list(int argc, char **argv)
{
	int (*cmp)(const void *, const void *) = cmp_addr;
	struct ban_vec vec = { 0 };
	uint64_t now;
	size_t i;
	int err;

	if (argc == 2 && !strcmp(argv[0], "--sort") && !strcmp(argv[1], "hits"))
		cmp = cmp_hits;
	else if (argc == 2 && !strcmp(argv[0], "--sort") &&
		 !strcmp(argv[1], "expiry"))
		cmp = cmp_expiry;
	else if (argc)
		return ctl_err(
			-EINVAL,
			"ban list: expected [--sort hits|expiry], got '%s'",
			ctl_quote(argc == 2 ? argv[1] : argv[0]));
	err = read_sorted(&vec, cmp);
	if (err)
		return err;
	now = boot_ns();
	print_text("%-40s %-15s %12s %-12s %8s %s\n", "ADDRESS", "REASON",
		   "HITS", "TIME LEFT", "OFFENCES", "ORIGIN");
	print_arr_start(NULL);
	for (i = 0; i < vec.n; i++)
		print_ban(&vec.v[i], now);
	print_arr_end();
	vec_free(&vec);
	return 0;
}

static int flush(const struct rg_maps *maps, void *n)
{
	return banstore_flush(maps, n);
}

static int ban_flush(int argc, char **argv)
{
	size_t n = 0;
	int err;

	err = ctl_no_args(argc, argv, "ban flush") ?: ctl_on_maps(flush, &n);
	if (err)
		return err;
	print_obj_start(NULL);
	print_uint("flushed", "flushed %llu bans\n", n);
	print_obj_end();
	return 0;
}

/* ADDR[/LEN] [DURATION] [REASON]; '#' starts a comment. */
struct import_ctx {
	const struct allow_guard *g;
	unsigned int group;
	uint64_t now;
	struct ban_vec *vec;
};

static int import_line(char *line, const char *where, void *arg)
{
	const struct import_ctx *c = arg;
	struct ban_req req = { .seconds = DURATION_PERMANENT,
			       .reason = RG_REASON_IMPORTED };
	char *tok[4], *save;
	int n = 0, err;

	for (tok[n] = strtok_r(line, " \t\r\n", &save); tok[n] && n < 3;
	     tok[n] = strtok_r(NULL, " \t\r\n", &save))
		n++;
	if (n == 0)
		return 0;
	if (n == 3 && tok[3])
		return ctl_err(
			-EINVAL,
			"%stoo many fields (ADDR[/LEN] [DURATION] [REASON])",
			where);
	err = ctl_parse_prefix(tok[0], &req.target, "address", where);
	if (!err && n > 1)
		err = parse_dur(tok[1], &req.seconds, where);
	if (!err && n > 2)
		err = parse_reason(tok[2], &req.reason, where);
	if (!err)
		err = expand(c->group, &req, c->now, c->vec, where);
	if (!err)
		err = check_allow(c->g, c->group, &req.target, where);
	return err;
}

static int read_import(const char *file, const struct allow_guard *g,
		       const struct rg_maps *maps, struct ban_vec *vec)
{
	struct import_ctx c = { .g = g,
				.group = banstore_ipv6_prefix(maps),
				.now = boot_ns(),
				.vec = vec };

	return ctl_read_lines(file, BAN_LINE_MAX, import_line, &c);
}

static int ban_import(int argc, char **argv)
{
	struct ban_vec vec = { 0 };
	struct allow_guard g;
	struct rg_maps maps;
	int err;

	if (argc != 1)
		return ctl_err(-EINVAL, "ban import: expected one FILE");
	err = open_guarded(&maps, &g);
	if (err)
		return err;
	err = read_import(argv[0], &g, &maps, &vec);
	if (!err && vec.n)
		err = banstore_put_batch(&maps, vec.v, vec.n);
	if (!err) {
		print_obj_start(NULL);
		print_uint("imported", "imported %llu bans", vec.n);
		print_str("file", " from %s\n", argv[0]);
		print_obj_end();
	}
	vec_free(&vec);
	close_guarded(&maps, &g);
	return err;
}

/* One import line per live ban: DURATION is what is left of it. */
static void export_line(FILE *out, const struct ban_entry *e, uint64_t now)
{
	char buf[PREFIX_STRLEN];

	format_prefix(&e->source, buf, sizeof(buf));
	if (!e->ban.expires_ns)
		fprintf(out, "%s permanent %s\n", buf,
			reason_name(e->ban.reason));
	else
		fprintf(out, "%s %llus %s\n", buf,
			(unsigned long long)seconds_left(&e->ban, now),
			reason_name(e->ban.reason));
}

struct export_ctx {
	const struct ban_vec *vec;
	uint64_t now;
	size_t n;
};

static int fill_export(FILE *out, void *ctx)
{
	struct export_ctx *c = ctx;
	size_t i;

	fprintf(out, "# relayguard bans: ADDR[/LEN] DURATION REASON\n");
	for (i = 0, c->n = 0; i < c->vec->n; i++) {
		const struct ban_entry *e = &c->vec->v[i];

		if (e->ban.expires_ns && e->ban.expires_ns <= c->now)
			continue;
		export_line(out, e, c->now);
		c->n++;
	}
	return 0;
}

static int write_export(const char *file, const struct ban_vec *vec,
			uint64_t now, size_t *n)
{
	struct export_ctx c = { .vec = vec, .now = now };
	int err = fs_replace(file, 0, fill_export, &c);

	*n = c.n;
	if (err == -ENAMETOOLONG)
		return ctl_err(err, "file name too long");
	if (err)
		return ctl_err(err, "cannot write %s: %s", ctl_quote(file),
			       log_strerror(err));
	return 0;
}

static int ban_export(int argc, char **argv)
{
	struct ban_vec vec = { 0 };
	uint64_t now;
	size_t i, n = 0;
	int err;

	if (argc > 1)
		return ctl_err(-EINVAL, "ban export: expected [FILE]");
	err = read_sorted(&vec, cmp_addr);
	if (err)
		return err;
	now = boot_ns();
	if (argc == 1 && strcmp(argv[0], "-")) {
		err = write_export(argv[0], &vec, now, &n);
		if (!err) {
			print_obj_start(NULL);
			print_uint("exported", "exported %llu bans", n);
			print_str("file", " to %s\n", argv[0]);
			print_obj_end();
		}
	} else if (ctl.json) {
		print_arr_start(NULL);
		for (i = 0; i < vec.n; i++)
			if (!vec.v[i].ban.expires_ns ||
			    vec.v[i].ban.expires_ns > now)
				print_ban(&vec.v[i], now);
		print_arr_end();
	} else {
		for (i = 0; i < vec.n; i++)
			if (!vec.v[i].ban.expires_ns ||
			    vec.v[i].ban.expires_ns > now)
				export_line(stdout, &vec.v[i], now);
	}
	vec_free(&vec);
	return err;
}

static const struct ctl_cmd ban_cmds[] = {
	{ "add", ban_add },	  { "del", ban_del },
	{ "list", ban_list },	  { "flush", ban_flush },
	{ "import", ban_import }, { "export", ban_export },
	{ NULL, NULL },
};

int do_ban(int argc, char **argv)
{
	return ctl_dispatch("ban COMMAND", ban_cmds, argc, argv);
}
