// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* trusted_networks into allow4/allow6 (see trusted.h). */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lpm.h"
#include "trusted.h"

/* Remove fd's RG_ALLOW_TRUSTED entries that conf no longer names. The
 * walk restarts after each delete: get_next_key after a deleted key
 * starts over in an LPM trie anyway, and there are at most a few hundred
 * entries. */
static int remove_stale(int fd, int family, const struct rg_conf *conf,
			unsigned int *removed)
{
	union lpm_key key, next;
	struct prefix p;
	void *prev = NULL;
	__u8 origin;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		lpm_prefix(family, &key, &p);
		if (bpf_map_lookup_elem(fd, &key, &origin) ||
		    origin != RG_ALLOW_TRUSTED ||
		    prefix_any(conf->trusted, conf->n_trusted, &p,
			       prefix_equal))
			continue;
		if (bpf_map_delete_elem(fd, &key))
			return -errno;
		(*removed)++;
		prev = NULL;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int add_missing(const struct rg_maps *maps, const struct rg_conf *conf,
		       unsigned int *added)
{
	__u8 origin = RG_ALLOW_TRUSTED;
	union lpm_key key;
	unsigned int i;
	int fd, err = 0;

	for (i = 0; i < conf->n_trusted; i++) {
		fd = conf->trusted[i].family == AF_INET ? maps->allow4
							: maps->allow6;
		lpm_key(&conf->trusted[i], &key);
		if (!bpf_map_update_elem(fd, &key, &origin, BPF_NOEXIST))
			(*added)++;
		else if (errno != EEXIST && !err)
			err = -errno;
	}
	if (*added)
		maps_acl_changed(maps);
	return err;
}

int trusted_sync(const struct rg_maps *maps, const struct rg_conf *conf,
		 struct trusted_sync_result *res)
{
	int err, err6, err_add;

	memset(res, 0, sizeof(*res));
	err = remove_stale(maps->allow4, AF_INET, conf, &res->removed);
	err6 = remove_stale(maps->allow6, AF_INET6, conf, &res->removed);
	err_add = add_missing(maps, conf, &res->added);
	return err ? err : err6 ? err6 : err_add;
}
