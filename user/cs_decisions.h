/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Decisions pulled from a CrowdSec Local API -> the ban store. A decision
 * of scope Ip is one ban; a Range is expanded like `relayguardctl ban add`
 * of a prefix (one ban per IPv4 host or IPv6 group, at most
 * 2^BANSTORE_EXPAND_BITS); a wider one goes into the deny tries with its
 * expiry kept by cs_deny.h. Trusted and allow-listed sources are never
 * banned (a wide range overlapping a trusted network is not denied). A
 * local ban in force is left as it is and never removed by a deleted
 * decision, which removes only bans from CrowdSec. The ban store keeps one
 * ban per source: of two decisions for a source the longer one is kept,
 * and deleting either lifts the ban (the next whole set brings back what
 * the other still holds). */
#ifndef RG_CS_DECISIONS_H
#define RG_CS_DECISIONS_H

#include <stddef.h>
#include <stdint.h>

#include "bans.h"
#include "cs_deny.h"
#include "cs_lapi.h"

struct rg_conf;

struct csdec_stats {
	uint64_t received;   /* decisions in good answers (new and deleted) */
	uint64_t applied;    /* ban entries written */
	uint64_t deleted;    /* ban entries removed */
	uint64_t kept_local; /* a local ban in force: left alone */
	uint64_t exempt;     /* trusted or allow-listed: not banned */
	uint64_t expired;    /* a new decision with no time left */
	uint64_t denied;     /* wide ranges put in the deny tries */
	uint64_t too_wide;   /* wide ranges that could not be denied */
	uint64_t skipped;    /* unknown scope, bad value (lapi_stream counts) */
	uint64_t errors;     /* map writes that failed */
};

/* Applying one good answer at now_ns (boot clock), in steps so that a
 * whole set of 100,000 decisions never stalls the caller: deleted first,
 * then new; for a whole set (whole), once all of it is in, the bans from
 * CrowdSec it did not renew (created before now_ns: deleted while either
 * side was down) are removed, and its wide ranges likewise. A ban that is
 * in the set is overwritten in place, never removed on the way. s stays
 * the caller's until the job is freed; deny: where wide ranges go (NULL:
 * they are skipped). */
struct csdec_job;
struct csdec_job *csdec_job_new(struct bans *b, const struct rg_conf *conf,
				struct csdeny *deny,
				const struct lapi_stream *s, uint64_t now_ns,
				bool whole);
/* Up to max sources written, looked up or removed (a range is resumed
 * where the last step left it; the walk for stale bans reads whole
 * batches). 1 when the job is through, 0 when more remains. */
int csdec_job_step(struct csdec_job *j, size_t max, struct csdec_stats *st);
/* Stale bans and ranges the whole set removed. */
size_t csdec_job_stale(const struct csdec_job *j);
void csdec_job_free(struct csdec_job *j);

#endif
