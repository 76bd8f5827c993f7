// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cs_deny.h"
#include "relayguard.h"

struct wide {
	struct prefix p;
	uint64_t expires_ns, renewed_ns;
};

struct csdeny {
	struct wide *v;
	size_t n;
};

/* The trie key of p (struct rg_lpm4_key or rg_lpm6_key) in buf; its fd. */
static int key_of(const struct rg_maps *maps, const struct prefix *p,
		  unsigned char *buf)
{
	struct rg_lpm4_key k4 = { .prefixlen = p->len };
	struct rg_lpm6_key k6 = { .prefixlen = p->len };

	if (p->family == AF_INET) {
		memcpy(&k4.addr, p->addr, 4);
		memcpy(buf, &k4, sizeof(k4));
		return maps->deny4;
	}
	memcpy(k6.addr, p->addr, 16);
	memcpy(buf, &k6, sizeof(k6));
	return maps->deny6;
}

/* The value of the most specific entry covering p; 0 when none. */
static __u64 covering(int fd, const unsigned char *key)
{
	__u64 v = 0;

	if (bpf_map_lookup_elem(fd, key, &v))
		return 0;
	return v & 0xff; /* the tries hold one byte */
}

struct csdeny *csdeny_new(void)
{
	return calloc(1, sizeof(struct csdeny));
}

void csdeny_free(struct csdeny *d)
{
	if (d)
		free(d->v);
	free(d);
}

size_t csdeny_count(const struct csdeny *d)
{
	return d ? d->n : 0;
}

static struct wide *find(struct csdeny *d, const struct prefix *p)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (prefix_equal(&d->v[i].p, p))
			return &d->v[i];
	return NULL;
}

int csdeny_add(struct csdeny *d, const struct rg_maps *maps,
	       const struct prefix *p, uint64_t expires_ns, uint64_t now_ns)
{
	unsigned char key[sizeof(struct rg_lpm6_key)];
	int fd = key_of(maps, p, key);
	__u8 val = CSDENY_VALUE;
	struct wide *w = find(d, p), *nv;

	if (fd < 0)
		return -ENOENT;
	if (covering(fd, key) && covering(fd, key) != CSDENY_VALUE)
		return 1; /* the operator's */
	if (!w) {
		if (d->n == CSDENY_MAX)
			return -ENOSPC;
		nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		d->v = nv;
		w = &d->v[d->n++];
		w->p = *p;
		w->expires_ns = 0;
	}
	if (bpf_map_update_elem(fd, key, &val, BPF_ANY)) {
		if (!w->expires_ns)
			*w = d->v[--d->n]; /* not in: forget it */
		return -errno;
	}
	maps_acl_changed(maps);
	if (expires_ns > w->expires_ns)
		w->expires_ns = expires_ns;
	w->renewed_ns = now_ns;
	return 0;
}

/* Delete p's own entry if it is CrowdSec's. */
static bool lift(const struct rg_maps *maps, const struct prefix *p)
{
	unsigned char key[sizeof(struct rg_lpm6_key)];
	int fd = key_of(maps, p, key);

	return fd >= 0 && covering(fd, key) == CSDENY_VALUE &&
	       !bpf_map_delete_elem(fd, key);
}

int csdeny_del(struct csdeny *d, const struct rg_maps *maps,
	       const struct prefix *p)
{
	struct wide *w = find(d, p);
	bool lifted = lift(maps, p);

	if (w)
		*w = d->v[--d->n];
	return lifted;
}

/* CrowdSec's entries of one trie that the table does not hold. */
static size_t sweep_unknown(struct csdeny *d, const struct rg_maps *maps,
			    int fd, int family)
{
	unsigned char key[sizeof(struct rg_lpm6_key)], next[sizeof(key)];
	size_t n = 0, klen = family == AF_INET ? sizeof(struct rg_lpm4_key)
					       : sizeof(struct rg_lpm6_key);
	struct prefix p = { .family = family };
	void *prev = NULL;
	__u32 len;

	if (fd < 0)
		return 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, klen);
		prev = key;
		memcpy(&len, key, sizeof(len));
		p.len = len;
		memset(p.addr, 0, sizeof(p.addr));
		memcpy(p.addr, key + sizeof(len), klen - sizeof(len));
		if (!find(d, &p) && lift(maps, &p)) {
			n++;
			prev = NULL; /* deleted under us: start over */
		}
	}
	return n;
}

size_t csdeny_sweep(struct csdeny *d, const struct rg_maps *maps,
		    uint64_t now_ns, uint64_t since_ns)
{
	size_t i = 0, n = 0;

	while (i < d->n) {
		if (d->v[i].expires_ns > now_ns &&
		    (!since_ns || d->v[i].renewed_ns >= since_ns)) {
			i++;
			continue;
		}
		n += lift(maps, &d->v[i].p);
		d->v[i] = d->v[--d->n];
	}
	if (since_ns)
		n += sweep_unknown(d, maps, maps->deny4, AF_INET) +
		     sweep_unknown(d, maps, maps->deny6, AF_INET6);
	return n;
}
