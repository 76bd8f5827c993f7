/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A decision as one JSON line (README "Event log": a contract): the
 * event log of relayguardd and the output of --replay. */
#ifndef RG_EVENTS_H
#define RG_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "decision.h"

/* What the writer of the line knows beyond the decision itself. */
struct event_extra {
	uint64_t time_ns;      /* wall clock (CLOCK_REALTIME ns) of the event */
	uint64_t duration_s;   /* bans: seconds, DURATION_PERMANENT for ever */
	unsigned int offences; /* bans: this source's count, 0: not known */
	const char *evidence;  /* path of an evidence pcap, or NULL */
	int64_t reaction_us;   /* < 0: not measured */
	const char *mode; /* "monitor" when bans were not enforced, or NULL */
};

/* "2026-11-28T19:04:07.123Z" */
void event_format_time(uint64_t wall_ns, char *buf, size_t size);

/* The decision as one JSON object and a newline (not flushed: the caller
 * flushes when it wants the line out). Bans (and
 * unbans) print expires and duration from x. Returns 0 or -EIO. */
int event_write(FILE *out, const struct decision *d,
		const struct event_extra *x);

const char *decision_action_name(enum decision_action a);

#endif
