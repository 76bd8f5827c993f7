/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Where a ban came from (struct rg_ban.origin and origin_tag): "local", or
 * "crowdsec:<origin>" for a decision pulled from a CrowdSec Local API, with
 * the decision's origin as the LAPI named it ("crowdsec:cscli",
 * "crowdsec:lists:firehol"; a list name or an unknown origin keeps its first
 * RG_ORIGIN_TAG_LEN bytes). */
#ifndef RG_ORIGIN_H
#define RG_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "relayguard.h"

#define ORIGIN_STRLEN 32 /* "crowdsec:lists:" + tag and a NUL fit */

/* Set b's origin from a LAPI decision's origin and scenario (the list name
 * of origin "lists" is the scenario's part after "lists:" when there is
 * one). A NULL origin is CrowdSec's with no name (RG_ORIGIN_CS_OTHER). */
void origin_set_crowdsec(struct rg_ban *b, const char *origin,
			 const char *scenario);
/* "local", "crowdsec:cscli", "crowdsec:lists:firehol". */
void origin_format(const struct rg_ban *b, char *buf, size_t size);
static inline bool origin_is_crowdsec(const struct rg_ban *b)
{
	return b->origin != RG_ORIGIN_LOCAL;
}

#endif
