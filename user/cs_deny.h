/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* CrowdSec Range decisions too wide to expand into bans (more than
 * 2^BANSTORE_EXPAND_BITS sources) go into the deny tries, marked as
 * CrowdSec's by their value (CSDENY_VALUE; `relayguardctl deny add` writes
 * 1). The tries keep no expiry, so it is kept here and the sweep lifts
 * them; while relayguardd is down they stay (fail closed), and its first
 * whole set lifts those no longer in it. An operator's deny entry that
 * covers a range is left alone and never lifted. */
#ifndef RG_CS_DENY_H
#define RG_CS_DENY_H

#include <stddef.h>
#include <stdint.h>

#include "loader.h"
#include "parse.h"

#define CSDENY_VALUE 2
#define CSDENY_MAX   4096 /* ranges tracked at most */

struct csdeny;

struct csdeny *csdeny_new(void);
void csdeny_free(struct csdeny *d);

/* Enforce range p (masked) until expires_ns (boot clock); now_ns marks it
 * renewed. 0; 1 when an operator's deny entry already covers it; -ENOENT
 * without deny maps, -ENOSPC when the table or the trie is full. */
int csdeny_add(struct csdeny *d, const struct rg_maps *maps,
	       const struct prefix *p, uint64_t expires_ns, uint64_t now_ns);
/* Lift range p if it is CrowdSec's: 1 when lifted, else 0. */
int csdeny_del(struct csdeny *d, const struct rg_maps *maps,
	       const struct prefix *p);
/* Lift the ranges expired at now_ns; with since_ns (after a whole set
 * applied at since_ns), also those it did not renew and CrowdSec's entries
 * of the tries that are not in the table (left by an earlier run).
 * Returns how many were lifted. */
size_t csdeny_sweep(struct csdeny *d, const struct rg_maps *maps,
		    uint64_t now_ns, uint64_t since_ns);
size_t csdeny_count(const struct csdeny *d);

#endif
