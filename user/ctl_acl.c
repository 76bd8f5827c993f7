// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl allow|deny add|del|list|import: the LPM tries allow4/6 and
 * deny4/6. All or nothing across the arguments (or the file's lines). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "lpm.h"

#define ACL_LINE_MAX 1024

void acl_set_free(struct acl_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static int acl_push(struct acl_set *set, const struct prefix *p)
{
	struct prefix *v;

	if ((set->n & (set->n - 1)) == 0) {
		v = realloc(set->v, (set->n ? set->n * 2 : 16) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		set->v = v;
	}
	set->v[set->n++] = *p;
	return 0;
}

int acl_read(int fd, int family, struct acl_set *set)
{
	union lpm_key key, next;
	struct prefix p;
	void *prev = NULL;
	int err;

	set->v = NULL;
	set->n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		lpm_prefix(family, &key, &p);
		err = acl_push(set, &p);
		if (err)
			return err;
	}
	if (errno != ENOENT)
		return -errno;
	return 0;
}

static bool acl_has(const struct acl_set *set, const struct prefix *p)
{
	return prefix_any(set->v, set->n, p, prefix_equal);
}

/* Sorted by length, then address: one binary search per length. */
static int len_addr_cmp(const void *x, const void *y)
{
	const struct prefix *a = x, *b = y;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

/* First entry of set not below key in (len, addr) order. */
static size_t lower_bound(const struct acl_set *set, const struct prefix *key)
{
	size_t lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (len_addr_cmp(&set->v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int allow_guard_init(struct allow_guard *g, const struct rg_maps *maps)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->fd4 = maps->allow4;
	g->fd6 = maps->allow6;
	err = acl_read(g->fd4, AF_INET, &g->s4);
	if (!err)
		err = acl_read(g->fd6, AF_INET6, &g->s6);
	if (err) {
		allow_guard_free(g);
		return ctl_err(err, "cannot read the allow list: %s",
			       log_strerror(err));
	}
	qsort(g->s4.v, g->s4.n, sizeof(*g->s4.v), len_addr_cmp);
	qsort(g->s6.v, g->s6.n, sizeof(*g->s6.v), len_addr_cmp);
	return 0;
}

void allow_guard_free(struct allow_guard *g)
{
	acl_set_free(&g->s4);
	acl_set_free(&g->s6);
}

bool allow_guard_overlaps(const struct allow_guard *g, const struct prefix *p,
			  struct prefix *hit)
{
	const struct acl_set *s = p->family == AF_INET ? &g->s4 : &g->s6;
	struct prefix key;
	size_t i = 0, j;

	/* Walk the distinct lengths: an entry of length <= p->len must equal
	 * p masked to it; one longer must lie inside p. */
	while (i < s->n) {
		key = *p;
		key.len = s->v[i].len;
		if (key.len <= p->len)
			prefix_mask(&key);
		j = lower_bound(s, &key);
		if (j < s->n && s->v[j].len == key.len &&
		    prefix_overlaps(&s->v[j], p)) {
			*hit = s->v[j];
			return true;
		}
		/* Next length. */
		key.len = s->v[i].len + 1;
		memset(key.addr, 0, sizeof(key.addr));
		i = lower_bound(s, &key);
	}
	return false;
}

struct acl {
	const char *list; /* "allow" or "deny" */
	int fd4, fd6;
	const char *name4, *name6;
	struct rg_maps maps;
};

static int acl_open(struct acl *a, const char *list)
{
	int err = ctl_open_maps(&a->maps);

	if (err)
		return err;
	a->list = list;
	if (!strcmp(list, "allow")) {
		a->fd4 = a->maps.allow4;
		a->fd6 = a->maps.allow6;
		a->name4 = RG_MAP_ALLOW4;
		a->name6 = RG_MAP_ALLOW6;
	} else {
		a->fd4 = a->maps.deny4;
		a->fd6 = a->maps.deny6;
		a->name4 = RG_MAP_DENY4;
		a->name6 = RG_MAP_DENY6;
	}
	return 0;
}

static int acl_fd(const struct acl *a, int family, const char **name)
{
	*name = family == AF_INET ? a->name4 : a->name6;
	return family == AF_INET ? a->fd4 : a->fd6;
}

static int map_value_size(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return info.value_size <= 8 ? (int)info.value_size : -EINVAL;
}

static int acl_write(const struct acl *a, const struct prefix *p)
{
	union lpm_key key;
	__u64 val = RG_ALLOW_OPERATOR; /* the data plane reads no value */
	const char *name;
	int fd = acl_fd(a, p->family, &name);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int err;

	err = map_value_size(fd);
	if (err < 0)
		return ctl_err(err, "cannot inspect map %s: %s", name,
			       log_strerror(err));
	lpm_key(p, &key);
	if (!bpf_map_update_elem(fd, &key, &val, BPF_ANY))
		return 0;
	err = -errno;
	if (err == -ENOSPC || err == -E2BIG) {
		bpf_obj_get_info_by_fd(fd, &info, &len);
		return ctl_err(-ENOSPC, "map %s is full (max_entries %u)", name,
			       info.max_entries);
	}
	return ctl_err(err, "cannot update map %s: %s", name,
		       log_strerror(err));
}

static int acl_remove(const struct acl *a, const struct prefix *p)
{
	char buf[PREFIX_STRLEN];
	union lpm_key key;
	const char *name;
	int fd = acl_fd(a, p->family, &name), err;

	lpm_key(p, &key);
	if (!bpf_map_delete_elem(fd, &key))
		return 0;
	err = -errno;
	format_prefix(p, buf, sizeof(buf));
	return ctl_err(err, "cannot delete %s from map %s: %s", buf, name,
		       log_strerror(err));
}

static int acl_current(const struct acl *a, struct acl_set *cur)
{
	struct acl_set s6;
	size_t i;
	int err;

	err = acl_read(a->fd4, AF_INET, cur);
	if (!err)
		err = acl_read(a->fd6, AF_INET6, &s6);
	if (err) {
		acl_set_free(cur);
		return ctl_err(err, "cannot read the %s list: %s", a->list,
			       log_strerror(err));
	}
	for (i = 0; i < s6.n && !err; i++)
		err = acl_push(cur, &s6.v[i]);
	acl_set_free(&s6);
	return err;
}

/* An allow entry relayguardd wrote from trusted_networks becomes the
 * operator's, so that a reload dropping the network keeps it. */
static void acl_claim(const struct acl *a, const struct prefix *p)
{
	__u64 val = 0, mine = RG_ALLOW_OPERATOR;
	union lpm_key key;
	const char *name;
	int fd = acl_fd(a, p->family, &name);

	if (fd != a->maps.allow4 && fd != a->maps.allow6)
		return;
	lpm_key(p, &key);
	if (!bpf_map_lookup_elem(fd, &key, &val) &&
	    (__u8)val == RG_ALLOW_TRUSTED)
		bpf_map_update_elem(fd, &key, &mine, BPF_EXIST);
}

/* Write (add) or remove each prefix of want once; when adding, those
 * already in cur are only claimed. On a failure, undo what this call
 * changed; *changed is how many it changed. */
static int acl_apply(const struct acl *a, const struct acl_set *want,
		     const struct acl_set *cur, bool add, size_t *changed)
{
	struct acl_set done = { 0 };
	size_t i;
	int err = 0;

	for (i = 0; i < want->n && !err; i++) {
		if (add && acl_has(cur, &want->v[i])) {
			acl_claim(a, &want->v[i]);
			continue;
		}
		if (acl_has(&done, &want->v[i]))
			continue;
		err = add ? acl_write(a, &want->v[i])
			  : acl_remove(a, &want->v[i]);
		if (!err)
			err = acl_push(&done, &want->v[i]);
	}
	for (i = 0; err && i < done.n; i++)
		(void)(add ? acl_remove(a, &done.v[i])
			   : acl_write(a, &done.v[i]));
	*changed = err ? 0 : done.n;
	if (done.n)
		maps_acl_changed(&a->maps);
	acl_set_free(&done);
	return err;
}

/* Add every prefix in want that is not there yet; undo on failure. */
static int acl_apply_add(const struct acl *a, const struct acl_set *want,
			 size_t *added)
{
	struct acl_set cur;
	int err;

	err = acl_current(a, &cur);
	if (err)
		return err;
	err = acl_apply(a, want, &cur, true, added);
	acl_set_free(&cur);
	return err;
}

/* Remove every prefix in want, all or none: one not there is an error. */
static int acl_apply_del(const struct acl *a, const struct acl_set *want)
{
	char buf[PREFIX_STRLEN];
	struct acl_set cur;
	size_t i, removed;
	int err;

	err = acl_current(a, &cur);
	if (err)
		return err;
	for (i = 0; i < want->n && !err; i++) {
		if (acl_has(&cur, &want->v[i]))
			continue;
		format_prefix(&want->v[i], buf, sizeof(buf));
		err = ctl_err(-ENOENT, "%s is not in the %s list", buf,
			      a->list);
	}
	if (!err)
		err = acl_apply(a, want, &cur, false, &removed);
	acl_set_free(&cur);
	return err;
}

static int parse_args(int argc, char **argv, struct acl_set *want,
		      const char *cmd)
{
	struct prefix p;
	int i, err;

	want->v = NULL;
	want->n = 0;
	if (argc < 1)
		return ctl_err(-EINVAL, "%s: missing CIDR", cmd);
	for (i = 0; i < argc; i++) {
		err = ctl_parse_prefix(argv[i], &p, "CIDR", "");
		if (!err)
			err = acl_push(want, &p);
		if (err) {
			acl_set_free(want);
			return err;
		}
	}
	return 0;
}

static void print_done(const char *key, const char *verb, size_t n,
		       const struct acl *a)
{
	print_obj_start(NULL);
	print_uint(key, "", n);
	print_text("%s %zu %s %s the %s list\n", verb, n,
		   n == 1 ? "prefix" : "prefixes",
		   !strcmp(verb, "removed") ? "from" : "to", a->list);
	print_obj_end();
}

/* Add every prefix of want (then freed) to list, all or nothing. */
static int acl_add_set(const char *list, struct acl_set *want)
{
	size_t added = 0;
	struct acl a;
	int err;

	err = acl_open(&a, list);
	if (!err) {
		err = acl_apply_add(&a, want, &added);
		maps_close(&a.maps);
	}
	if (!err)
		print_done("added", "added", added, &a);
	acl_set_free(want);
	return err;
}

static int acl_do_add(const char *list, int argc, char **argv)
{
	struct acl_set want;
	int err;

	err = parse_args(argc, argv, &want, "add");
	if (err)
		return err;
	return acl_add_set(list, &want);
}

static int acl_do_del(const char *list, int argc, char **argv)
{
	struct acl_set want;
	struct acl a;
	int err;

	err = parse_args(argc, argv, &want, "del");
	if (err)
		return err;
	err = acl_open(&a, list);
	if (!err) {
		err = acl_apply_del(&a, &want);
		maps_close(&a.maps);
	}
	if (!err)
		print_done("removed", "removed", want.n, &a);
	acl_set_free(&want);
	return err;
}

static int prefix_cmp(const void *x, const void *y)
{
	const struct prefix *a = x, *b = y;
	int c;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	c = memcmp(a->addr, b->addr, 16);
	if (c)
		return c;
	return (int)a->len - (int)b->len;
}

static int acl_do_list(const char *list, int argc, char **argv)
{
	char buf[PREFIX_STRLEN];
	struct acl_set cur;
	struct acl a;
	size_t i;
	int err;

	if (argc > 0)
		return ctl_err(-EINVAL, "%s list: unexpected argument '%s'",
			       list, ctl_quote(argv[0]));
	err = acl_open(&a, list);
	if (err)
		return err;
	err = acl_current(&a, &cur);
	maps_close(&a.maps);
	if (err)
		return err;
	qsort(cur.v, cur.n, sizeof(*cur.v), prefix_cmp);
	print_arr_start(NULL);
	for (i = 0; i < cur.n; i++) {
		format_prefix(&cur.v[i], buf, sizeof(buf));
		print_str(NULL, "%s\n", buf);
	}
	print_arr_end();
	acl_set_free(&cur);
	return 0;
}

/* One CIDR a line of an allow/deny file. */
static int acl_line(char *line, const char *where, void *arg)
{
	struct acl_set *want = arg;
	char *tok, *save;
	struct prefix p;
	int err;

	tok = strtok_r(line, " \t\r\n", &save);
	if (!tok)
		return 0;
	err = ctl_parse_prefix(tok, &p, "CIDR", where);
	if (!err && strtok_r(NULL, " \t\r\n", &save))
		err = ctl_err(-EINVAL, "%sone CIDR a line", where);
	if (!err)
		err = acl_push(want, &p);
	return err;
}

/* One CIDR a line; '#' starts a comment. */
static int read_acl_file(const char *file, struct acl_set *want)
{
	int err;

	want->v = NULL;
	want->n = 0;
	err = ctl_read_lines(file, ACL_LINE_MAX, acl_line, want);
	if (err)
		acl_set_free(want);
	return err;
}

static int acl_do_import(const char *list, int argc, char **argv)
{
	struct acl_set want;
	int err;

	if (argc != 1)
		return ctl_err(-EINVAL, "import: expected one FILE");
	err = read_acl_file(argv[0], &want);
	if (err)
		return err;
	return acl_add_set(list, &want);
}

/* The list the current command works on: "allow" or "deny". */
static const char *acl_list;

static int acl_add(int argc, char **argv)
{
	return acl_do_add(acl_list, argc, argv);
}

static int acl_del(int argc, char **argv)
{
	return acl_do_del(acl_list, argc, argv);
}

static int acl_list_cmd(int argc, char **argv)
{
	return acl_do_list(acl_list, argc, argv);
}

static int acl_import(int argc, char **argv)
{
	return acl_do_import(acl_list, argc, argv);
}

static const struct ctl_cmd acl_cmds[] = {
	{ "add", acl_add },	  { "del", acl_del }, { "list", acl_list_cmd },
	{ "import", acl_import }, { NULL, NULL },
};

int do_allow(int argc, char **argv)
{
	acl_list = "allow";
	return ctl_dispatch("allow COMMAND", acl_cmds, argc, argv);
}

int do_deny(int argc, char **argv)
{
	acl_list = "deny";
	return ctl_dispatch("deny COMMAND", acl_cmds, argc, argv);
}
