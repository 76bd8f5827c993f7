/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The bouncer's answers from the LAPI, parsed (cs_lapi.h) off the event loop
 * by a thread of their own (but for small ones, such as most deltas) and
 * applied (cs_decisions.h) on it in slices of
 * bounded time, so that the loop drains the samples ring between them: a
 * whole set of 100,000 decisions is about a second of CPU, which in one
 * piece would leave an attacker's replies waiting in the ring while its
 * message is queued. Answers are taken in the order they came, one at a
 * time, and each is parsed whole before any of it is applied (a bad one
 * applies nothing); a whole set overwrites the bans it holds in place and
 * removes the stale ones only once all of it is in, so a ban in both the
 * old and the new set is never absent. Memory is bounded: CSAPPLY_QUEUE
 * answers wait at most, one is parsed at a time. */
#ifndef RG_CS_APPLY_H
#define RG_CS_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_decisions.h"

#define CSAPPLY_QUEUE 8 /* answers waiting, the one being applied included */

/* The daemon's slices: steps of CSAPPLY_UNITS sources (~0.1 ms each)
 * until CSAPPLY_SLICE_NS have passed, so that a sample waits about that
 * long in the ring at most; then a pause of CSAPPLY_PAUSE_NS, which leaves
 * the CPU to others and keeps a real-time daemon under RLIMIT_RTTIME
 * (priority.h) however large the set. */
#define CSAPPLY_UNITS	 64
#define CSAPPLY_SLICE_NS (1000 * 1000ULL)
#define CSAPPLY_PAUSE_NS (250 * 1000ULL)

struct csapply;

struct csapply_answer {
	char *body; /* malloc'd: csapply_submit takes it over */
	size_t len;
	bool whole;	      /* a whole set (startup=true) */
	uint64_t received_ns; /* boot clock: the decisions are as of then */
	uint64_t fetch_ns;    /* how long the LAPI took to answer */
};

/* What became of one answer. */
struct csapply_result {
	int rc;	       /* 0, or a negative errno: nothing applied */
	char err[256]; /* why, when rc < 0 */
	bool whole;
	size_t len, n_added, n_deleted;
	size_t stale; /* whole set: bans and ranges it removed */
	struct prefix first_added;
	uint64_t received_ns, fetch_ns;
	uint64_t work_ns;  /* CPU spent on it: the parse and the slices */
	uint64_t parse_ns; /* of which parsing (the thread's CPU time) */
	uint64_t done_ns;  /* boot clock */
	unsigned int slices;
};

typedef void (*csapply_done_fn)(void *ctx, const struct csapply_result *r);

struct csapply_stats {
	uint64_t slices;       /* slices run */
	uint64_t slice_max_ns; /* the longest */
	uint64_t answers;      /* answers finished (good or bad) */
	uint64_t whole_sets;   /* whole sets applied */
};

/* Decisions go into b's maps (deny: wide ranges, may be NULL) with their
 * counts in *st; done is called for each answer once it is through. */
struct csapply *csapply_new(struct bans *b, const struct rg_conf *conf,
			    struct csdeny *deny, struct csdec_stats *st,
			    csapply_done_fn done, void *ctx);
/* Drops what is queued: a half-applied whole set stays as it is (the next
 * one removes what it lacks). */
void csapply_free(struct csapply *a);

/* Queue an answer; its body is taken over. -ENOSPC (nothing taken) when
 * CSAPPLY_QUEUE answers wait already. */
int csapply_submit(struct csapply *a, struct csapply_answer *ans);

/* Readable when an answer's parse is through: call csapply_slice. */
int csapply_fd(const struct csapply *a);

/* Apply the queue's head answer in steps of `units` (csdec_job_step)
 * until budget_ns have passed (at least one step, when one is ready), and
 * start the parse of the next. true when more is ready: call again (after
 * a pause); false when nothing is, until csapply_fd is readable or an
 * answer is submitted to an empty queue. */
bool csapply_slice(struct csapply *a, size_t units, uint64_t budget_ns);

/* Answers queued or being applied, and whether one is a whole set. */
size_t csapply_pending(const struct csapply *a);
bool csapply_has_whole(const struct csapply *a);
const struct csapply_stats *csapply_stats(const struct csapply *a);

#endif
