/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The clocks relayguard's two halves share: ban expiry and sample times are
 * CLOCK_BOOTTIME nanoseconds, the clock of bpf_ktime_get_boot_ns(). */
#ifndef RG_CLOCK_H
#define RG_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000ULL

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline uint64_t boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

/* Wall-clock nanoseconds for a boot-clock instant (for printing). */
static inline uint64_t boot_to_wall_ns(uint64_t boot)
{
	return clock_ns(CLOCK_REALTIME) - boot_ns() + boot;
}

#endif
