/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-source state (a score, an offence count) kept by source group: an
 * IPv4 address, or an IPv6 prefix of the data plane's ipv6_prefix bits.
 * Bounded: at the cap the least recently used source goes first. */
#ifndef RG_SRCTABLE_H
#define RG_SRCTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"

struct src_table;

/* A table of at most max_sources entries of user_size bytes each. */
struct src_table *src_table_new(unsigned int max_sources, size_t user_size);
void src_table_free(struct src_table *t);
/* The state of the group src belongs to (an IPv6 source grouped by its
 * first ipv6_prefix bits), zeroed when new; NULL only when out of
 * memory. */
void *src_table_get(struct src_table *t, const struct prefix *src,
		    unsigned int ipv6_prefix, uint64_t now_ns);
/* Forget sources not looked up for idle_ns or more. */
void src_table_expire(struct src_table *t, uint64_t now_ns, uint64_t idle_ns);

#endif
