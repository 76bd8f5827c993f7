/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Prometheus text exposition format's family header, for every
 * writer of relayguard_* metrics (the daemon's metrics file, the CrowdSec
 * client's part of it, `relayguardctl stats -p`). */
#ifndef RG_PROMTEXT_H
#define RG_PROMTEXT_H

#include <stdio.h>

/* "# HELP relayguard_NAME HELP" and "# TYPE relayguard_NAME TYPE", NAME
 * formatted from fmt. */
void prom_family(FILE *f, const char *type, const char *help, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

#endif
