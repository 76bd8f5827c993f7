/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* trusted_networks in the data plane: README promises they are never
 * dropped, rate-limited or banned, and only allow4/allow6 make XDP pass a
 * source before its ban, deny and SYN checks. Entries written from the
 * config carry RG_ALLOW_TRUSTED, so a reload removes those no longer
 * configured and never an operator's (RG_ALLOW_OPERATOR). */
#ifndef RG_TRUSTED_H
#define RG_TRUSTED_H

#include "config.h"
#include "loader.h"

struct trusted_sync_result {
	unsigned int added, removed;
};

/* Make the RG_ALLOW_TRUSTED entries of allow4/allow6 equal conf's
 * trusted_networks; a network already there (an operator's entry) is left
 * as it is. Returns 0 or the first negative errno (the rest is still
 * done). */
int trusted_sync(const struct rg_maps *maps, const struct rg_conf *conf,
		 struct trusted_sync_result *res);

#endif
