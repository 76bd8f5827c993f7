/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Carrying pinned maps of an older RG_ABI_VERSION into this build's
 * layouts. One step per ABI bump (ABI N to N + 1), each naming the maps
 * whose value layout changed, their old size and how an entry converts
 * (or that the map starts empty: its entries sit elsewhere in the next ABI);
 * maps a step does not name kept their layout and are copied as they
 * are. An entry of ABI N goes through every step from N up to this
 * build. The loader creates the new maps, calls migrate_map() for each,
 * then swaps the programs (loader.c). */
#ifndef RG_MIGRATE_H
#define RG_MIGRATE_H

#include <stdbool.h>

/* Whether maps of ABI `from` can be carried into this build's. */
bool migrate_supported(unsigned int from);
/* Whether the records an ABI-`from` data plane left in its samples ring
 * can be fed to this build's pipeline as they are. */
bool migrate_samples_readable(unsigned int from);
/* The value size map `name` had at ABI `from`, given its size in this
 * build. */
unsigned int migrate_old_value_size(unsigned int from, const char *name,
				    unsigned int cur_size);
/* Whether map `name` starts empty when carried from ABI `from`: a step
 * on the way places its entries elsewhere (ABI 5: the ratelimit slots of
 * IPv4 sources). migrate_map() then copies nothing. */
bool migrate_fresh(unsigned int from, const char *name);
/* One entry of map `name` (a single value, not per-CPU) from ABI `from`
 * into this build's layout: new (cur_size bytes) is overwritten. */
void migrate_convert(unsigned int from, const char *name, const void *old,
		     void *new, unsigned int cur_size);
/* Every entry of old_fd (pinned by ABI `from`) into new_fd (this build's
 * map of the same name and type), converted; the config's abi_version
 * becomes this build's. Free slots of arrays (all-zero values) are not
 * written. 0 or -errno (with a message naming the map). */
int migrate_map(unsigned int from, const char *name, int old_fd, int new_fd);
/* After the programs were swapped: the entries of old_fd that new_fd lacks
 * (written to the old map after migrate_map() read it: a ban or an ACL
 * entry added meanwhile), converted; arrays are left alone (their slots
 * all exist). How many were added, or -errno. */
int migrate_map_missing(unsigned int from, const char *name, int old_fd,
			int new_fd);

#endif
