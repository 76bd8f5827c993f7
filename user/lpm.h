/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Keys of the LPM tries allow4/6 and deny4/6, to and from struct prefix. */
#ifndef RG_LPM_H
#define RG_LPM_H

#include <stddef.h>

#include "parse.h"
#include "relayguard.h"

union lpm_key {
	struct rg_lpm4_key v4;
	struct rg_lpm6_key v6;
};

/* p as a key of its family's trie; returns the key's size. */
size_t lpm_key(const struct prefix *p, union lpm_key *k);
void lpm_prefix(int family, const void *key, struct prefix *p);

#endif
