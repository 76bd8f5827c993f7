/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Figures the kernel reports in /proc, for the tests and benchmarks that
 * measure memory (a process's RSS, a map's memlock). */
#ifndef RG_TEST_PROCFS_H
#define RG_TEST_PROCFS_H

#include <stdio.h>

/* The number in the first line of path that fmt (one %ld, e.g.
 * "VmRSS: %ld kB") reads; -1 when path cannot be opened or no line
 * matches. */
static inline __attribute__((format(scanf, 2, 0))) long
proc_number(const char *path, const char *fmt)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &v) == 1)
			break;
	fclose(f);
	return v;
}

#endif
