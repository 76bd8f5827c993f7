/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The counters of the `stats` map (struct rg_stats) by name: read and sum
 * them over CPUs, walk them with their help text, print them in the
 * Prometheus text format. Shared by relayguardctl and the daemon's metrics
 * file; a new counter needs one line in stats.c. */
#ifndef RG_STATS_H
#define RG_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "relayguard.h"

struct stats_field {
	const char *name; /* the struct rg_stats field name */
	size_t offset;
	const char *help;
};

extern const struct stats_field stats_fields[];
extern const size_t stats_n_fields;

/* Read the PERCPU_ARRAY `stats` (fd) and sum it over the possible CPUs. */
int stats_read(int stats_fd, struct rg_stats *sum);
uint64_t stats_value(const struct rg_stats *s, const struct stats_field *f);
/* Prometheus text exposition: relayguard_<name>_total counters with HELP
 * and TYPE lines. */
void stats_print_prometheus(const struct rg_stats *s, FILE *out);

#endif
