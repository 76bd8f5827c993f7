// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The ABI steps and the copy of one map through them (see migrate.h).
 * Adding ABI N + 1: copy the structs it changes into user/abiN.h as
 * rgN_*, point step N - 1's entries at them, and add step N (fields
 * changed or moved, not appended, need a converter in struct map_conv; a
 * map whose entries ABI N + 1 places elsewhere, as ABI 5 did the IPv4
 * buckets, is marked fresh and starts empty). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "abi3.h"
#include "abi4.h"
#include "log.h"
#include "migrate.h"
#include "names.h"
#include "relayguard.h"

/* Values up to this size are converted in place on the stack. */
#define MIGRATE_VALUE_MAX 512
/* Entries read and written per batch call. */
#define MIGRATE_CHUNK 4096

struct map_conv {
	const char *name;
	unsigned int old_size; /* value size at the step's `from` */
	/* The old value's leading bytes that the next ABI's value starts
	 * with as they are; the rest of it starts zeroed. */
	unsigned int kept;
	/* The next ABI places this map's entries elsewhere (another slot
	 * function): it starts empty, nothing is carried. */
	bool fresh;
};

/* Bytes from the start of struct s to the end of its member m. */
#define OFFSET_END(s, m) (offsetof(struct s, m) + sizeof(((struct s *)0)->m))

/* 0, or a compile error unless member m lies at the same offset in both. */
#define SAME_OFFSET(a, b, m)                                                   \
	(0 * sizeof(struct {                                                   \
		 _Static_assert(offsetof(struct a, m) ==                       \
					offsetof(struct b, m),                 \
				#b " starts with " #a "'s fields");            \
		 char c;                                                       \
	 }))

/* The entry of a map whose next ABI appended fields to its value: the old
 * struct's fields up to and including `last` carry over as they are. */
#define APPENDED_AS(map, old, new, last, fresh)                                \
	{                                                                      \
		map, sizeof(struct old),                                       \
			OFFSET_END(old, last) + SAME_OFFSET(old, new, last),   \
			fresh                                                  \
	}
#define APPENDED(map, old, new, last) APPENDED_AS(map, old, new, last, false)
/* The same, and the next ABI places the map's entries elsewhere: it
 * starts empty (struct map_conv's fresh). */
#define APPENDED_MOVED(map, old, new, last)                                    \
	APPENDED_AS(map, old, new, last, true)

struct abi_step {
	unsigned int from; /* reads ABI from, writes from + 1 */
	const struct map_conv *maps;
	size_t n_maps;
	/* The records of ABI from's samples ring read as the next ABI's. */
	bool samples_as_is;
};

/* ---- ABI 3 -> 4: ACL marks (struct rg_acl_mark) appended to bans,
 * buckets and flows, the acl_cached counter, the acl_gen map (new,
 * starts at 0), small sample records (a new, empty ring buffer). A zero
 * mark never matches, so the data plane looks every source up again. */

static const struct map_conv conv_3to4[] = {
	APPENDED(RG_MAP_STATS, rg3_stats, rg_stats, monitor_frag_payload),
	APPENDED(RG_MAP_BANS4, rg3_ban, rg_ban, origin_tag),
	APPENDED(RG_MAP_BANS6, rg3_ban, rg_ban, origin_tag),
	APPENDED(RG_MAP_RATELIMIT, rg3_bucket, rg4_bucket, src),
	APPENDED(RG_MAP_FLOWS, rg3_flow, rg_flow, srv_ack),
};

/* ---- ABI 4 -> 5: the banned mark and its pending hits appended to the
 * SYN bucket, and the slot of an IPv4 source is another hash
 * (rg_src_slot4): the ABI-4 buckets would sit in wrong slots, so the map
 * starts empty (full buckets: a rate-limited source gets one burst back,
 * as the global cap does on every load). */
static const struct map_conv conv_4to5[] = {
	APPENDED_MOVED(RG_MAP_RATELIMIT, rg4_bucket, rg_bucket, clean),
};

/* struct rg_sample kept its layout; ABI 3 wrote each record at its exact
 * size, which the readers of ABI 4 and 5 take as well. */
static const struct abi_step steps[] = {
	{ 3, conv_3to4, ARRAY_LEN(conv_3to4), true },
	{ 4, conv_4to5, ARRAY_LEN(conv_4to5), true },
};

#define N_STEPS ARRAY_LEN(steps)

static const struct abi_step *step_from(unsigned int from)
{
	size_t i;

	for (i = 0; i < N_STEPS; i++)
		if (steps[i].from == from)
			return &steps[i];
	return NULL;
}

static const struct map_conv *step_map(const struct abi_step *s,
				       const char *name)
{
	size_t i;

	for (i = 0; i < s->n_maps; i++)
		if (!strcmp(s->maps[i].name, name))
			return &s->maps[i];
	return NULL;
}

bool migrate_supported(unsigned int from)
{
	unsigned int v;

	if (!from || from >= RG_ABI_VERSION)
		return false;
	for (v = from; v < RG_ABI_VERSION; v++)
		if (!step_from(v))
			return false;
	return true;
}

bool migrate_samples_readable(unsigned int from)
{
	unsigned int v;

	if (!migrate_supported(from))
		return false;
	for (v = from; v < RG_ABI_VERSION; v++)
		if (!step_from(v)->samples_as_is)
			return false;
	return true;
}

unsigned int migrate_old_value_size(unsigned int from, const char *name,
				    unsigned int cur_size)
{
	const struct map_conv *c;
	unsigned int v, size = cur_size;

	for (v = RG_ABI_VERSION; v-- > from;) {
		c = step_map(step_from(v), name);
		if (c)
			size = c->old_size;
	}
	return size;
}

bool migrate_fresh(unsigned int from, const char *name)
{
	const struct abi_step *s;
	const struct map_conv *c;
	unsigned int v;

	for (v = from; v < RG_ABI_VERSION; v++) {
		s = step_from(v);
		c = s ? step_map(s, name) : NULL;
		if (c && c->fresh)
			return true;
	}
	return false;
}

void migrate_convert(unsigned int from, const char *name, const void *old,
		     void *new, unsigned int cur_size)
{
	unsigned char a[MIGRATE_VALUE_MAX];
	unsigned int size = migrate_old_value_size(from, name, cur_size), v;
	const struct map_conv *c;

	memcpy(a, old, size);
	for (v = from; v < RG_ABI_VERSION; v++) {
		c = step_map(step_from(v), name);
		if (c)
			memset(a + c->kept, 0, sizeof(a) - c->kept);
	}
	memcpy(new, a, cur_size);
	if (!strcmp(name, RG_MAP_CONFIG))
		((struct rg_config *)new)->abi_version = RG_ABI_VERSION;
}

/* What one map's copy needs: sizes, strides and the chunk buffers. */
struct copy {
	const char *name;
	unsigned int from, key_size, old_size, new_size, ncpus;
	size_t old_stride, new_stride; /* bytes per key in a values buffer */
	bool array, batch;
	bool missing_only; /* write only keys the new map lacks */
	unsigned int added;
	void *keys, *old_vals, *new_vals;
};

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	return !n || (!b[0] && !memcmp(b, b + 1, n - 1));
}

/* Convert n entries read into c->keys/old_vals: those worth writing are
 * packed at the front of keys/new_vals; returns how many. */
static unsigned int convert_chunk(struct copy *c, unsigned int n)
{
	unsigned int i, cpu, out = 0;
	const char *ov;
	char *nv;

	for (i = 0; i < n; i++) {
		ov = (char *)c->old_vals + i * c->old_stride;
		if (c->array && all_zero(ov, c->old_stride))
			continue;
		nv = (char *)c->new_vals + out * c->new_stride;
		memset(nv, 0, c->new_stride);
		for (cpu = 0; cpu < c->ncpus; cpu++)
			migrate_convert(c->from, c->name,
					ov + cpu * (c->old_stride / c->ncpus),
					nv + cpu * (c->new_stride / c->ncpus),
					c->new_size);
		if (out != i)
			memcpy((char *)c->keys + out * c->key_size,
			       (char *)c->keys + i * c->key_size, c->key_size);
		out++;
	}
	return out;
}

static int write_chunk(struct copy *c, int new_fd, unsigned int n)
{
	__u64 flags = c->missing_only ? BPF_NOEXIST : BPF_ANY;
	unsigned int i, count = n;

	if (c->batch && !c->missing_only &&
	    !bpf_map_update_batch(new_fd, c->keys, c->new_vals, &count, NULL)) {
		c->added += n;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!bpf_map_update_elem(
			    new_fd, (char *)c->keys + i * c->key_size,
			    (char *)c->new_vals + i * c->new_stride, flags))
			c->added++;
		else if (errno != EEXIST || !c->missing_only)
			return -errno;
	}
	return 0;
}

/* Read the next chunk by batch (arrays, hashes). *done at the end. */
static int read_batch(struct copy *c, int old_fd, __u64 *pos, bool first,
		      unsigned int *n, bool *done)
{
	__u32 count = MIGRATE_CHUNK;
	int err;

	err = bpf_map_lookup_batch(old_fd, first ? NULL : pos, pos, c->keys,
				   c->old_vals, &count, NULL);
	if (err && errno != ENOENT)
		return -errno;
	*done = err != 0;
	*n = count;
	return 0;
}

/* Read the next chunk key by key (LPM tries have no batch lookup). */
static int read_keys(struct copy *c, int old_fd, bool first, unsigned int *n,
		     bool *done)
{
	char *k = c->keys,
	     *prev = (char *)c->keys + MIGRATE_CHUNK * c->key_size;
	unsigned int i = 0;

	*done = false;
	while (i < MIGRATE_CHUNK) {
		if (bpf_map_get_next_key(old_fd, first && !i ? NULL : prev,
					 k + i * c->key_size)) {
			if (errno != ENOENT)
				return -errno;
			*done = true;
			break;
		}
		memcpy(prev, k + i * c->key_size, c->key_size);
		if (bpf_map_lookup_elem(old_fd, k + i * c->key_size,
					(char *)c->old_vals +
						i * c->old_stride))
			continue; /* deleted meanwhile */
		i++;
	}
	*n = i;
	return 0;
}

static int copy_entries(struct copy *c, int old_fd, int new_fd)
{
	__u64 pos = 0;
	bool first = true, done = false;
	unsigned int n = 0;
	int err = 0;

	while (!done && !err) {
		err = c->batch ? read_batch(c, old_fd, &pos, first, &n, &done)
			       : read_keys(c, old_fd, first, &n, &done);
		first = false;
		if (!err && n)
			err = write_chunk(c, new_fd, convert_chunk(c, n));
	}
	return err;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, len);
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static int copy_setup(struct copy *c, const struct bpf_map_info *oi,
		      const struct bpf_map_info *ni)
{
	bool percpu = ni->type == BPF_MAP_TYPE_PERCPU_ARRAY ||
		      ni->type == BPF_MAP_TYPE_PERCPU_HASH;
	int ncpus = percpu ? libbpf_num_possible_cpus() : 1;

	if (ncpus < 0)
		return ncpus;
	c->ncpus = ncpus;
	c->key_size = ni->key_size;
	c->old_size = oi->value_size;
	c->new_size = ni->value_size;
	c->old_stride =
		ncpus * (percpu ? (c->old_size + 7) & ~7U : c->old_size);
	c->new_stride =
		ncpus * (percpu ? (c->new_size + 7) & ~7U : c->new_size);
	c->array = ni->type == BPF_MAP_TYPE_ARRAY ||
		   ni->type == BPF_MAP_TYPE_PERCPU_ARRAY;
	c->batch = c->array || ni->type == BPF_MAP_TYPE_HASH ||
		   ni->type == BPF_MAP_TYPE_PERCPU_HASH;
	c->keys = calloc(MIGRATE_CHUNK + 1, c->key_size);
	c->old_vals = calloc(MIGRATE_CHUNK, c->old_stride);
	c->new_vals = calloc(MIGRATE_CHUNK, c->new_stride);
	return c->keys && c->old_vals && c->new_vals ? 0 : -ENOMEM;
}

/* The old map must have the layout its ABI gave it. */
static int check_old(const struct copy *c, const struct bpf_map_info *oi,
		     const struct bpf_map_info *ni)
{
	unsigned int want =
		migrate_old_value_size(c->from, c->name, ni->value_size);

	if (oi->type == ni->type && oi->key_size == ni->key_size &&
	    oi->value_size == want && want <= MIGRATE_VALUE_MAX &&
	    ni->value_size <= MIGRATE_VALUE_MAX)
		return 0;
	log_err("cannot migrate map %s from ABI %u: type %u key %u value %u, "
		"expected type %u key %u value %u",
		c->name, c->from, oi->type, oi->key_size, oi->value_size,
		ni->type, ni->key_size, want);
	return -EINVAL;
}

static int migrate(unsigned int from, const char *name, int old_fd, int new_fd,
		   bool missing_only)
{
	struct copy c = { .name = name,
			  .from = from,
			  .missing_only = missing_only };
	struct bpf_map_info oi, ni;
	int err;

	err = map_info(old_fd, &oi);
	if (!err)
		err = map_info(new_fd, &ni);
	if (err) {
		log_err("cannot read map info of %s: %s", name,
			log_strerror(err));
		return err;
	}
	if (ni.type == BPF_MAP_TYPE_RINGBUF)
		return 0; /* records in flight are not state */
	if (oi.value_size != ni.value_size && migrate_fresh(from, name))
		return 0; /* its entries belong elsewhere now */
	if (missing_only && (ni.type == BPF_MAP_TYPE_ARRAY ||
			     ni.type == BPF_MAP_TYPE_PERCPU_ARRAY))
		return 0; /* every key exists */
	if (oi.value_size == ni.value_size &&
	    migrate_old_value_size(from, name, ni.value_size) != ni.value_size)
		c.from = RG_ABI_VERSION; /* pinned by an upgrade cut short */
	err = check_old(&c, &oi, &ni);
	if (!err)
		err = copy_setup(&c, &oi, &ni);
	if (!err)
		err = copy_entries(&c, old_fd, new_fd);
	if (err && err != -EINVAL)
		log_err("cannot migrate map %s from ABI %u: %s", name, from,
			log_strerror(err));
	free(c.keys);
	free(c.old_vals);
	free(c.new_vals);
	return err ? err : (int)c.added;
}

int migrate_map(unsigned int from, const char *name, int old_fd, int new_fd)
{
	int n = migrate(from, name, old_fd, new_fd, false);

	return n < 0 ? n : 0;
}

int migrate_map_missing(unsigned int from, const char *name, int old_fd,
			int new_fd)
{
	return migrate(from, name, old_fd, new_fd, true);
}
