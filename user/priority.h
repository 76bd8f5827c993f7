/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The `scheduling` key: relayguardd raises its own CPU priority so that a
 * ban lands before the attacker's next command even on a busy gateway
 * (p99 reaction 3.7-6.7 ms at normal priority under load, under 1 ms at
 * FIFO 10). Bounded so that a flood cannot starve the machine: children
 * run at normal priority (SCHED_RESET_ON_FORK), the event loop drains a
 * budget per wakeup, and RLIMIT_RTTIME sends SIGXCPU after a second on
 * the CPU without sleeping, upon which the daemon drops to normal
 * priority for PRIORITY_REST_NS. */
#ifndef RG_PRIORITY_H
#define RG_PRIORITY_H

#include <stddef.h>
#include <stdint.h>

enum priority_kind {
	PRIORITY_NONE, /* as started: SCHED_OTHER, nice 0 */
	PRIORITY_FIFO, /* SCHED_FIFO at level (1..PRIORITY_FIFO_MAX) */
	PRIORITY_NICE, /* SCHED_OTHER at nice level (-20..19) */
};

struct priority {
	enum priority_kind kind;
	int level;
};

/* Below the kernel's threaded interrupt handlers (FIFO 50). */
#define PRIORITY_FIFO_MAX 49
#define PRIORITY_DEFAULT                                                       \
	{                                                                      \
		PRIORITY_FIFO, 10                                              \
	}
/* CPU time without sleeping, then SIGXCPU */
#define PRIORITY_RTTIME_US 1000000
#define PRIORITY_REST_NS   (10ULL * 1000000000ULL)
#define PRIORITY_STRLEN	   16

/* "fifo:N", "nice:N" or "none". Returns 0 or -EINVAL with *why set. */
int priority_parse(const char *s, struct priority *out, const char **why);
void priority_format(const struct priority *p, char *buf, size_t size);
/* Apply p to the calling process. Returns 0 or a negative errno (-EPERM
 * without CAP_SYS_NICE). */
int priority_apply(const struct priority *p);
/* Normal priority (SCHED_OTHER, nice 0): the SIGXCPU answer. */
int priority_drop(void);

#endif
