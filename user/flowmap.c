// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "flowmap.h"

long flowmap_find(int fd, __u32 seed, const struct rg_flow_key *key,
		  struct rg_flow *out)
{
	__u32 slot = rg_flow_set_first(key, seed);
	unsigned int w;

	for (w = 0; w < RG_FLOW_WAYS; w++, slot++) {
		if (bpf_map_lookup_elem(fd, &slot, out))
			return -errno;
		if (!memcmp(&out->key, key, sizeof(*key)))
			return slot;
	}
	return -ENOENT;
}

/* Read key's entry, let edit() change it, write it back when it did.
 * Between the read and the write the programs may give the slot to
 * another flow; writing the edited entry back then costs that new flow
 * its entry, which it gets again with its next packet (sampled afresh):
 * never a flow stopped or paused that user space did not mean. */
static int flowmap_edit(int fd, __u32 seed, const struct rg_flow_key *key,
			bool (*edit)(struct rg_flow *f, __u32 arg), __u32 arg)
{
	struct rg_flow f;
	long slot = flowmap_find(fd, seed, key, &f);
	__u32 k;

	if (slot < 0)
		return slot;
	if (!edit(&f, arg))
		return 0;
	k = slot;
	if (bpf_map_update_elem(fd, &k, &f, BPF_EXIST))
		return -errno;
	return 0;
}

/* Sets flag (RG_FLOW_STOP, _STOP_IN or _PAUSE_IN) unless it or STOP is
 * set already. */
static bool set_flag(struct rg_flow *f, __u32 flag)
{
	if (f->flags & (RG_FLOW_STOP | flag))
		return false;
	f->flags |= flag;
	return true;
}

static bool set_resume(struct rg_flow *f, __u32 seq)
{
	if (f->flags & RG_FLOW_STOP)
		return false;
	f->win_in = seq;
	f->sampled_in = 0;
	f->flags = (f->flags & ~RG_FLOW_PAUSE_IN) | RG_FLOW_WIN_IN;
	return true;
}

int flowmap_stop(int fd, __u32 seed, const struct rg_flow_key *key)
{
	return flowmap_edit(fd, seed, key, set_flag, RG_FLOW_STOP);
}

int flowmap_stop_client(int fd, __u32 seed, const struct rg_flow_key *key)
{
	return flowmap_edit(fd, seed, key, set_flag, RG_FLOW_STOP_IN);
}

int flowmap_pause_client(int fd, __u32 seed, const struct rg_flow_key *key)
{
	return flowmap_edit(fd, seed, key, set_flag, RG_FLOW_PAUSE_IN);
}

int flowmap_resume_client(int fd, __u32 seed, const struct rg_flow_key *key,
			  __u32 seq)
{
	return flowmap_edit(fd, seed, key, set_resume, seq);
}

#define SCAN_BATCH 4096

int flowmap_scan(int fd, unsigned int min_size,
		 void (*visit)(const void *val, void *ctx), void *ctx)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), keys[SCAN_BATCH], in = 0, out, n, i;
	void *from = NULL; /* where the last batch ended; NULL: the start */
	char *vals;
	int err, ret = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size < min_size)
		return -EINVAL;
	vals = malloc((size_t)SCAN_BATCH * info.value_size);
	if (!vals)
		return -ENOMEM;
	do {
		n = SCAN_BATCH;
		err = bpf_map_lookup_batch(fd, from, &out, keys, vals, &n,
					   NULL);
		if (err && errno != ENOENT) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++)
			visit(vals + (size_t)i * info.value_size, ctx);
		in = out;
		from = &in;
	} while (!err);
	free(vals);
	return ret;
}

struct used {
	unsigned int family_off;
	long n;
};

static void count_used(const void *val, void *ctx)
{
	struct used *u = ctx;

	u->n += ((const char *)val)[u->family_off] != 0;
}

long flowmap_used(int fd, unsigned int family_off)
{
	struct used u = { .family_off = family_off };
	int err = flowmap_scan(fd, family_off + 1, count_used, &u);

	return err ? err : u.n;
}

struct each_flow {
	void (*cb)(const struct rg_flow *f, void *ctx);
	void *ctx;
};

static void visit_flow(const void *val, void *ctx)
{
	const struct rg_flow *f = val;
	struct each_flow *e = ctx;

	if (f->key.family)
		e->cb(f, e->ctx);
}

int flowmap_for_each(int fd, void (*cb)(const struct rg_flow *f, void *ctx),
		     void *ctx)
{
	struct each_flow e = { cb, ctx };

	return flowmap_scan(fd, sizeof(struct rg_flow), visit_flow, &e);
}
