/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The boot clock at tick resolution. Reading CLOCK_BOOTTIME costs ~40 ns
 * per call here (more than the rest of a ban check), while jiffies are a
 * plain load; so each CPU reads the boot clock once per jiffy and reuses
 * it. The value is in the boot-clock domain user space writes (suspend
 * included), never goes backwards on a CPU, and is at most one tick
 * (1/HZ) old: far below the resolution of ban expiry and SYN rates. */
#ifndef RG_BPF_CLOCK_H
#define RG_BPF_CLOCK_H

#include "maps.h"

static __always_inline __u64 rg_now(void)
{
	__u64 j = bpf_jiffies64();
	struct rg_percpu *pc;
	__u32 zero = 0;

	pc = bpf_map_lookup_elem(&rg_scratch, &zero);
	if (!pc)
		return bpf_ktime_get_boot_ns();
	if (pc->clock_jiffies != j || !pc->clock_ns) {
		pc->clock_jiffies = j;
		pc->clock_ns = bpf_ktime_get_boot_ns();
	}
	return pc->clock_ns;
}

#endif
