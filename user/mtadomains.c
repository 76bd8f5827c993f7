// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a Postfix receives mail for: postconf/postmap output parsed, the
 * listed domains kept sorted, per-domain answers of unlistable tables
 * cached within MTA_CACHE_MAX. See mtadomains.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtadomains.h"
#include "names.h"
#include "parse.h"

const char *const mta_params[] = {
	"mydestination",
	"relay_domains",
	"virtual_alias_domains",
	"virtual_mailbox_domains",
	"parent_domain_matches_subdomains",
};

/* Table types postmap -s can list on Debian's Postfix (3.7: no lmdb or
 * cdb without their packages; where they are, they list too). */
static const char *const listable[] = {
	"hash", "btree", "dbm", "sdbm", "lmdb", "cdb", "texthash",
};

struct entry {
	char *name; /* lower case, no leading dot */
	bool sub;   /* matches the subdomains of name, not name itself */
};

enum cache_state { C_EMPTY, C_WAITING, C_ASKED, C_LOCAL, C_FOREIGN };

struct cached {
	uint32_t hash;
	int32_t next; /* in its bucket's chain; -1: the last */
	uint8_t state;
	bool ref; /* looked up since the clock hand last passed */
	char name[MTA_DOMAIN_LEN];
};

#define CACHE_BUCKETS 8192 /* a power of two, twice MTA_CACHE_MAX */

/* The per-domain answers: chained hash buckets over a fixed array, the
 * clock algorithm (second chance) for an approximate LRU eviction. */
struct cache {
	struct cached e[MTA_CACHE_MAX];
	int32_t head[CACHE_BUCKETS];
	unsigned int hand, used;
	unsigned int waiting; /* entries without their answer */
};

struct mta_domains {
	struct entry *e;
	size_t n, cap;
	struct mta_table tables[MTA_MAX_TABLES];
	unsigned int n_tables, n_query;
	struct cache *cache; /* allocated on first use */
	bool complete; /* a list was read (or given up on): lookups answer */
	struct mta_stats st;
};

struct mta_domains *mta_domains_new(void)
{
	return calloc(1, sizeof(struct mta_domains));
}

static void clear_entries(struct mta_domains *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->e[i].name);
	free(m->e);
	m->e = NULL;
	m->n = m->cap = 0;
}

void mta_domains_free(struct mta_domains *m)
{
	if (!m)
		return;
	clear_entries(m);
	free(m->cache);
	free(m);
}

/* name (len bytes) into buf in lower case, without a trailing dot;
 * false when it is no domain (or a ".domain" pattern: *sub set). */
static bool normalize(const char *name, size_t len, char *buf, size_t size,
		      bool *sub)
{
	size_t i;

	*sub = len && name[0] == '.';
	if (*sub) {
		name++;
		len--;
	}
	if (len && name[len - 1] == '.')
		len--;
	if (!len || len >= size || len >= MTA_DOMAIN_LEN)
		return false;
	for (i = 0; i < len; i++)
		buf[i] = tolower((unsigned char)name[i]);
	buf[len] = '\0';
	return buf[0] != '*' && parse_domain(buf);
}

static int add_entry(struct mta_domains *m, const char *name, bool sub)
{
	struct entry *e;
	size_t cap;

	if (m->n == MTA_MAX_DOMAINS)
		return -E2BIG;
	if (m->n == m->cap) {
		cap = m->cap ? m->cap * 2 : 64;
		e = realloc(m->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		m->e = e;
		m->cap = cap;
	}
	m->e[m->n].name = strdup(name);
	if (!m->e[m->n].name)
		return -ENOMEM;
	m->e[m->n++].sub = sub;
	return 0;
}

/* A domain or ".domain" item; parent: "domain" covers its subdomains. */
static int add_domain_item(struct mta_domains *m, const char *item, size_t len,
			   bool parent)
{
	char buf[MTA_DOMAIN_LEN];
	bool sub;
	int err;

	if (!normalize(item, len, buf, sizeof(buf), &sub)) {
		m->st.skipped++;
		return 0;
	}
	err = add_entry(m, buf, sub);
	if (!err && parent && !sub)
		err = add_entry(m, buf, true);
	return err;
}

static bool type_listable(const char *spec, size_t tlen)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(listable); i++)
		if (strlen(listable[i]) == tlen &&
		    !strncmp(spec, listable[i], tlen))
			return true;
	return false;
}

static int add_table(struct mta_domains *m, const char *item, size_t len,
		     bool parent, char *err, size_t errlen)
{
	struct mta_table *t;
	size_t tlen = strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	if (item[0] != '/' && (!tlen || item[tlen] != ':')) {
		snprintf(err, errlen, "'%.*s' is no lookup table (type:name)",
			 (int)(len > 80 ? 80 : len), item);
		return -EINVAL;
	}
	if (len >= MTA_SPEC_LEN || m->n_tables == MTA_MAX_TABLES) {
		snprintf(err, errlen, "%s",
			 len >= MTA_SPEC_LEN ? "a table name over 511 bytes"
					     : "more than 64 lookup tables");
		return -E2BIG;
	}
	t = &m->tables[m->n_tables++];
	memcpy(t->spec, item, len);
	t->spec[len] = '\0';
	t->parent = parent;
	if (item[0] == '/')
		t->kind = MTA_TABLE_FILE;
	else if (type_listable(item, tlen))
		t->kind = MTA_TABLE_LIST;
	else
		t->kind = MTA_TABLE_QUERY;
	if (t->kind == MTA_TABLE_QUERY)
		m->n_query++;
	return 0;
}

/* The next item of a Postfix list at *p (commas and white space separate
 * items; a {...} group is one item): its length, 0 at the end. */
static size_t next_item(const char **p, const char *end)
{
	const char *s = *p, *q;
	int depth = 0;

	while (s < end && (*s == ',' || isspace((unsigned char)*s)))
		s++;
	for (q = s; q < end; q++) {
		if (*q == '{')
			depth++;
		else if (*q == '}' && depth)
			depth--;
		else if (!depth && (*q == ',' || isspace((unsigned char)*q)))
			break;
	}
	*p = s;
	return q - s;
}

/* inline:{ key=value, key ... }: the keys, read here (postmap -s wants
 * a value for each). */
static int parse_inline(struct mta_domains *m, const char *p, const char *end,
			bool parent)
{
	const char *eq, *item;
	size_t len;
	int ret = 0;

	while (!ret && (len = next_item(&p, end))) {
		item = p;
		p += len;
		if (item[0] == '{') /* { key = text with spaces } */
			for (item++, len--;
			     len && isspace((unsigned char)*item);
			     item++, len--)
				;
		eq = memchr(item, '=', len);
		len = eq ? (size_t)(eq - item) : len;
		while (len && isspace((unsigned char)item[len - 1]))
			len--;
		ret = add_domain_item(m, item, len, parent);
	}
	return ret;
}

static int parse_value(struct mta_domains *m, const char *v, const char *end,
		       bool parent, char *err, size_t errlen)
{
	size_t len;
	int ret = 0;

	while (!ret && (len = next_item(&v, end))) {
		if (v[0] == '!')
			m->st.skipped++; /* an exclusion: nothing to add */
		else if (len > 8 && !strncmp(v, "inline:{", 8) &&
			 v[len - 1] == '}')
			ret = parse_inline(m, v + 8, v + len - 1, parent);
		else if (v[0] == '/' || memchr(v, ':', len))
			ret = add_table(m, v, len, parent, err, errlen);
		else
			ret = add_domain_item(m, v, len, parent);
		v += len;
	}
	return ret;
}

/* "name = value" at line[0..len): the index of name in mta_params and
 * the value's start, or -1. */
static int param_of(const char *line, size_t len, const char **value)
{
	const char *eq = memchr(line, '=', len);
	size_t n;
	int i;

	if (!eq)
		return -1;
	for (n = eq - line; n && line[n - 1] == ' '; n--)
		;
	for (i = 0; i < MTA_N_PARAMS; i++)
		if (strlen(mta_params[i]) == n &&
		    !strncmp(line, mta_params[i], n))
			break;
	*value = eq + 1;
	return i < MTA_N_PARAMS ? i : -1;
}

/* Does parent_domain_matches_subdomains (v..end) name relay_domains? */
static bool names_relay_domains(const char *v, const char *end)
{
	size_t len;

	while ((len = next_item(&v, end))) {
		if (len == strlen("relay_domains") &&
		    !strncmp(v, "relay_domains", len))
			return true;
		v += len;
	}
	return false;
}

static int check_text(const char *text, size_t len, char *err, size_t errlen)
{
	if (len > MTA_OUTPUT_MAX) {
		snprintf(err, errlen, "output over %u bytes", MTA_OUTPUT_MAX);
		return -E2BIG;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "NUL byte in the output, expected text");
		return -EINVAL;
	}
	return 0;
}

/* Split postconf's output into the values of mta_params (unfolded: a
 * continuation line starts with white space). */
static int split_params(const char *text, size_t len, const char *val[],
			const char *vend[], char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl, *v;
	int i = -1;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		if (nl > p && (*p == ' ' || *p == '\t') && i >= 0) {
			vend[i] = nl;
			continue;
		}
		if (nl == p)
			continue;
		i = param_of(p, nl - p, &v);
		if (i < 0 || vend[i]) {
			snprintf(err, errlen, "unexpected postconf line '%.*s'",
				 (int)(nl - p > 80 ? 80 : nl - p), p);
			return -EINVAL;
		}
		val[i] = v;
		vend[i] = nl;
	}
	for (i = 0; i < MTA_N_PARAMS; i++) {
		if (!vend[i]) {
			snprintf(err, errlen, "postconf did not print %s",
				 mta_params[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int mta_parse_postconf(struct mta_domains *m, const char *text, size_t len,
		       char *err, size_t errlen)
{
	const char *val[MTA_N_PARAMS] = { 0 }, *vend[MTA_N_PARAMS] = { 0 };
	bool parent;
	int i, ret;

	ret = check_text(text, len, err, errlen);
	if (!ret)
		ret = split_params(text, len, val, vend, err, errlen);
	if (ret)
		return ret;
	parent = names_relay_domains(val[4], vend[4]);
	for (i = 0; !ret && i < MTA_N_PARAMS - 1; i++)
		ret = parse_value(m, val[i], vend[i], parent && i == 1, err,
				  errlen);
	if (ret == -E2BIG && !strstr(err, "table"))
		snprintf(err, errlen, "more than %u domains", MTA_MAX_DOMAINS);
	else if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

int mta_parse_keys(struct mta_domains *m, const char *text, size_t len,
		   bool parent, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl;
	size_t klen;
	int ret;

	ret = check_text(text, len, err, errlen);
	for (; !ret && p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		if (p == nl || *p == '#')
			continue;
		klen = strcspn(p, " \t\r\n,");
		if (klen > (size_t)(nl - p))
			klen = nl - p;
		if (memchr(p, '@', klen)) {
			m->st.skipped++; /* an address: no domain list key */
			continue;
		}
		ret = add_domain_item(m, p, klen, parent);
	}
	if (ret == -E2BIG)
		snprintf(err, errlen, "more than %u domains", MTA_MAX_DOMAINS);
	else if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

const struct mta_table *mta_table(const struct mta_domains *m, unsigned int i)
{
	return i < m->n_tables ? &m->tables[i] : NULL;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (int)x->sub - (int)y->sub;
}

void mta_domains_finish(struct mta_domains *m)
{
	size_t i, n = 0;

	if (m->n)
		qsort(m->e, m->n, sizeof(*m->e), entry_cmp);
	for (i = 0; i < m->n; i++) {
		if (n && !entry_cmp(&m->e[n - 1], &m->e[i])) {
			free(m->e[i].name);
			continue;
		}
		m->e[n++] = m->e[i];
	}
	m->n = n;
	m->st.domains = n;
	m->st.query_tables = m->n_query;
	m->complete = true;
}

void mta_domains_give_up(struct mta_domains *m)
{
	m->complete = true;
}

void mta_domains_replace(struct mta_domains *m, struct mta_domains *next)
{
	struct mta_stats st = m->st;

	clear_entries(m);
	m->e = next->e;
	m->n = next->n;
	m->cap = next->cap;
	next->e = NULL;
	next->n = next->cap = 0;
	memcpy(m->tables, next->tables, sizeof(m->tables));
	m->n_tables = next->n_tables;
	m->n_query = next->n_query;
	m->complete = next->complete;
	free(m->cache);
	m->cache = NULL;
	m->st = next->st;
	m->st.queries = st.queries;
	m->st.query_errors = st.query_errors;
	m->st.cache_evicted = st.cache_evicted;
}

static bool listed(const struct mta_domains *m, const char *name, bool sub)
{
	struct entry key = { (char *)name, sub };

	return m->n && bsearch(&key, m->e, m->n, sizeof(*m->e), entry_cmp);
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct cached *cache_find(struct mta_domains *m, const char *name)
{
	uint32_t h = name_hash(name);
	int32_t i = m->cache->head[h & (CACHE_BUCKETS - 1)];

	for (; i >= 0; i = m->cache->e[i].next)
		if (m->cache->e[i].hash == h &&
		    !strcmp(m->cache->e[i].name, name))
			return &m->cache->e[i];
	return NULL;
}

static void cache_unlink(struct cache *c, struct cached *x)
{
	int32_t *link = &c->head[x->hash & (CACHE_BUCKETS - 1)];

	while (*link >= 0 && &c->e[*link] != x)
		link = &c->e[*link].next;
	if (*link >= 0)
		*link = x->next;
}

/* A free slot, or an answer not looked up since the hand last passed
 * (second chance); NULL when every slot waits for an answer. */
static struct cached *cache_slot(struct mta_domains *m)
{
	struct cache *c = m->cache;
	struct cached *x;
	unsigned int n;

	if (c->used < MTA_CACHE_MAX)
		return &c->e[c->used++];
	if (c->waiting == MTA_CACHE_MAX)
		return NULL;
	for (n = 0; n < 2 * MTA_CACHE_MAX; n++) {
		x = &c->e[c->hand];
		c->hand = (c->hand + 1) % MTA_CACHE_MAX;
		if (x->state < C_LOCAL)
			continue; /* waits for its answer */
		if (x->ref) {
			x->ref = false;
			continue;
		}
		cache_unlink(c, x);
		m->st.cache_evicted++;
		return x;
	}
	return NULL;
}

static struct cache *cache_new(void)
{
	struct cache *c = calloc(1, sizeof(*c));
	unsigned int i;

	for (i = 0; c && i < CACHE_BUCKETS; i++)
		c->head[i] = -1;
	return c;
}

static enum mta_answer ask(struct mta_domains *m, const char *name)
{
	struct cached *c;
	uint32_t b;

	if (!m->cache && !(m->cache = cache_new()))
		return MTA_UNKNOWN;
	c = cache_find(m, name);
	if (!c) {
		c = cache_slot(m);
		if (!c)
			return MTA_UNKNOWN;
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->hash = name_hash(name);
		c->state = C_WAITING;
		c->ref = false;
		m->cache->waiting++;
		b = c->hash & (CACHE_BUCKETS - 1);
		c->next = m->cache->head[b];
		m->cache->head[b] = c - m->cache->e;
		return MTA_UNKNOWN;
	}
	c->ref = true;
	if (c->state == C_LOCAL)
		return MTA_LOCAL;
	return c->state == C_FOREIGN ? MTA_FOREIGN : MTA_UNKNOWN;
}

enum mta_answer mta_domains_match(struct mta_domains *m, const char *domain)
{
	char buf[MTA_DOMAIN_LEN];
	const char *p;
	bool sub;

	if (!m->complete)
		return MTA_UNKNOWN; /* before the first reading is done */
	if (!normalize(domain, strlen(domain), buf, sizeof(buf), &sub) || sub)
		return MTA_FOREIGN;
	if (listed(m, buf, false))
		return MTA_LOCAL;
	for (p = strchr(buf, '.'); p; p = strchr(p + 1, '.'))
		if (listed(m, p + 1, true))
			return MTA_LOCAL;
	return m->n_query ? ask(m, buf) : MTA_FOREIGN;
}

bool mta_domains_next_query(struct mta_domains *m, char *buf, size_t size)
{
	unsigned int i;

	for (i = 0; m->cache && i < m->cache->used; i++) {
		if (m->cache->e[i].state != C_WAITING)
			continue;
		m->cache->e[i].state = C_ASKED;
		snprintf(buf, size, "%s", m->cache->e[i].name);
		return true;
	}
	return false;
}

void mta_domains_answer(struct mta_domains *m, const char *domain, int result)
{
	struct cached *c = m->cache ? cache_find(m, domain) : NULL;

	m->st.queries++;
	if (result < 0)
		m->st.query_errors++;
	if (!c || c->state >= C_LOCAL)
		return;
	c->state = result > 0 ? C_LOCAL : C_FOREIGN;
	m->cache->waiting--;
}

unsigned int mta_domains_pending(const struct mta_domains *m)
{
	return m->cache ? m->cache->waiting : 0;
}

const struct mta_stats *mta_domains_stats(const struct mta_domains *m)
{
	return &m->st;
}

int mta_domains_for_each(const struct mta_domains *m,
			 int (*fn)(const char *domain, bool sub, void *ctx),
			 void *ctx)
{
	size_t i;
	int ret;

	for (i = 0; i < m->n; i++) {
		ret = fn(m->e[i].name, m->e[i].sub, ctx);
		if (ret)
			return ret;
	}
	return 0;
}
