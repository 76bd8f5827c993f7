/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Prometheus textfile (node_exporter textfile collector format) that
 * `relayguardd --metrics-file PATH` rewrites atomically every
 * metrics_interval: data-plane counters, bans by reason, flows, parser
 * findings, alerts and the reaction-time histogram. */
#ifndef RG_METRICS_H
#define RG_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alert.h"
#include "cs_client.h"
#include "pipeline.h"
#include "policysvc.h"
#include "relayguard.h"

/* Upper bounds of the reaction-time buckets, microseconds; +Inf follows. */
#define REACTION_BUCKETS 12
extern const uint64_t reaction_bucket_us[REACTION_BUCKETS];

/* Reaction time: from the sample that decided a ban (boot clock, stamped by
 * the data plane) to the ban being in the map. */
struct reaction_hist {
	uint64_t bucket[REACTION_BUCKETS + 1]; /* not cumulative; last: +Inf */
	uint64_t count;
	uint64_t sum_ns;
};

void reaction_observe(struct reaction_hist *h, uint64_t ns);

/* Daemon counters that are not the pipeline's or the data plane's. */
struct daemon_counters {
	uint64_t bans, unbans, ban_errors, bans_skipped_trusted,
		bans_skipped_allowed, alerts, findings, events_written,
		event_errors, evidence_written, evidence_errors, reloads,
		reload_errors, snapshots, snapshot_errors, link_reattach,
		priority_drops, ring_budget_spent;
};

/* What the alert rules (user/dist/relayguard.rules.yml) watch besides the
 * counters: is the daemon writing, is the data plane on, is there room. */
struct metrics_iface {
	const char *name;
	bool xdp, tc; /* relayguard's programs attached there now */
};

struct metrics_health {
	uint64_t written_unix; /* this write, wall clock seconds */
	uint64_t interval_s;   /* metrics_interval: when the next one is due */
	const struct metrics_iface *ifaces; /* the configured interfaces */
	unsigned int n_ifaces;
	uint64_t ban_entries[2];  /* bans4, bans6: bans in force */
	uint64_t ban_capacity[2]; /* their max_entries */
};

struct metrics_input {
	const struct reaction_hist *reaction;
	const uint64_t *bans_by_reason; /* RG_REASON_MAX current map entries */
	const struct pipeline_stats *pipeline;	      /* may be NULL */
	const struct alert_stats *alerts;	      /* may be NULL */
	const struct policysvc_stats *policy_service; /* may be NULL */
	const struct daemon_counters *daemon;
	const struct crowdsec_counters *crowdsec; /* NULL: LAPI off */
	const struct metrics_health *health;	  /* may be NULL */
	/* Writes the data-plane counters (stats map), may be NULL. */
	int (*dataplane)(FILE *f, void *ctx);
	void *dataplane_ctx;
};

/* Print the metrics in the text exposition format. */
int metrics_print(FILE *f, const struct metrics_input *in);
/* metrics_print into path.tmp, then rename over path. */
int metrics_write(const char *path, const struct metrics_input *in);

#endif
