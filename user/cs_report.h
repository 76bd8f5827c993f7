/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the CrowdSec client tells operators from its counters: the state
 * file relayguardctl status reads, and its part of the metrics file. */
#ifndef RG_CS_REPORT_H
#define RG_CS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "cs_apply.h"
#include "cs_decisions.h"

enum crowdsec_state {
	CS_OFF,	     /* not configured */
	CS_STARTING, /* no answer yet */
	CS_UP,
	CS_UNREACHABLE, /* connection or timeout */
	CS_REFUSED,	/* 401/403: wrong key or credentials */
	CS_ERROR, /* another HTTP status, or an answer that does not parse */
};

struct crowdsec_counters {
	struct csdec_stats dec;
	uint64_t pulls, pull_errors, alerts_pushed, alerts_dropped, push_errors,
		logins, login_errors;
	uint64_t resyncs;	/* whole sets pulled after news (cs_client.c) */
	uint64_t deleted_stale; /* gone from a startup stream: removed */
	uint64_t queued;	/* alerts waiting now */
	struct csapply_stats apply;
	uint64_t apply_pending; /* answers waiting to be applied now */
	enum crowdsec_state bouncer, machine;
	int64_t last_pull_unix; /* of the last good pull; 0: none */
};

const char *crowdsec_state_name(enum crowdsec_state s);
/* Prometheus lines of the counters (metrics.c). */
void crowdsec_print_metrics(FILE *f, const struct crowdsec_counters *c);
/* The state file's key=value lines. */
void crowdsec_print_state(FILE *f, const struct crowdsec_counters *c);

#endif
