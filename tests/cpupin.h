/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Pinning the calling thread to one CPU, for the tests and benchmarks
 * whose figures or per-CPU state depend on which CPU runs them. */
#ifndef RG_TEST_CPUPIN_H
#define RG_TEST_CPUPIN_H

#include <errno.h>
#include <sched.h>

/* 0, or -errno (a CPU outside the thread's allowed set: -EINVAL). */
static inline int cpu_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

#endif
