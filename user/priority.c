// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon's own CPU priority (see priority.h). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "priority.h"

static int parse_level(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int priority_parse(const char *s, struct priority *out, const char **why)
{
	struct priority p = { PRIORITY_NONE, 0 };
	int err = 0;

	*why = "'fifo:N' (N 1-49), 'nice:N' (N -20-19) or 'none'";
	if (!strncmp(s, "fifo:", 5)) {
		p.kind = PRIORITY_FIFO;
		err = parse_level(s + 5, 1, PRIORITY_FIFO_MAX, &p.level);
	} else if (!strncmp(s, "nice:", 5)) {
		p.kind = PRIORITY_NICE;
		err = parse_level(s + 5, -20, 19, &p.level);
	} else if (strcmp(s, "none")) {
		err = -EINVAL;
	}
	if (!err)
		*out = p;
	return err;
}

void priority_format(const struct priority *p, char *buf, size_t size)
{
	if (p->kind == PRIORITY_FIFO)
		snprintf(buf, size, "fifo:%d", p->level);
	else if (p->kind == PRIORITY_NICE)
		snprintf(buf, size, "nice:%d", p->level);
	else
		snprintf(buf, size, "none");
}

/* The safety net: SIGXCPU after PRIORITY_RTTIME_US without sleeping. Only
 * the soft limit: the hard one would SIGKILL. */
static int limit_rttime(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_RTTIME, &rl))
		return -errno;
	rl.rlim_cur = PRIORITY_RTTIME_US;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_RTTIME, &rl) ? -errno : 0;
}

static int set_other(int nice)
{
	struct sched_param sp = { 0 };

	if (sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp))
		return -errno;
	return setpriority(PRIO_PROCESS, 0, nice) ? -errno : 0;
}

int priority_apply(const struct priority *p)
{
	struct sched_param sp = { .sched_priority = p->level };
	int err;

	if (p->kind != PRIORITY_FIFO)
		return set_other(p->kind == PRIORITY_NICE ? p->level : 0);
	err = limit_rttime();
	if (err)
		return err;
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		return -errno;
	return setpriority(PRIO_PROCESS, 0, 0) ? -errno : 0;
}

int priority_drop(void)
{
	return set_other(0);
}
