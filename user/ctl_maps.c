// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl: access to the pinned maps. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "flowmap.h"

int ctl_open_maps(struct rg_maps *maps)
{
	return maps_open_pinned(ctl.pin_dir, maps);
}

/* Walk keys with get_next_key; fine for every map type we count. */
int ctl_map_fill(int fd, unsigned long *entries, unsigned long *max)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	unsigned char *key, *next;
	void *prev = NULL;
	unsigned long n = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*max = info.max_entries;
	key = malloc(info.key_size ? info.key_size : 1);
	next = malloc(info.key_size ? info.key_size : 1);
	if (!key || !next) {
		free(key);
		free(next);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, info.key_size);
		prev = key;
		n++;
	}
	free(key);
	free(next);
	*entries = n;
	return 0;
}

int ctl_array_fill(int fd, long used_off, unsigned long *entries,
		   unsigned long *max)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	long used;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	used = flowmap_used(fd, used_off);
	if (used < 0)
		return used;
	*entries = used;
	*max = info.max_entries;
	return 0;
}
