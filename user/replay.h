/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A pcap through the same pipeline the daemon runs: frames become sample
 * records exactly as the data plane would write them (direction from the
 * SMTP port, flow key oriented client -> server, SYN/FIN/RST records,
 * payload within the per-flow sampling budget, nothing after the pipeline
 * said stop), and each decision is printed as a JSON line. Touches no maps.
 * This is `relayguardd --replay FILE.pcap [-c CONF]`. */
#ifndef RG_REPLAY_H
#define RG_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "pipeline.h"

struct replay_result {
	uint64_t frames;       /* frames read */
	uint64_t smtp_packets; /* TCP to or from an SMTP port */
	uint64_t records;      /* sample records fed to the pipeline */
	uint64_t decisions;
	struct pipeline_stats stats; /* the pipeline's, at the end */
};

/* Decisions to out as JSON lines (out NULL: count them only). Returns 0, or
 * a negative errno with a one-line message logged. */
int replay_pcap(const char *path, const struct rg_conf *conf, FILE *out);
int replay_pcap_result(const char *path, const struct rg_conf *conf, FILE *out,
		       struct replay_result *res);

#endif
