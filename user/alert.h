/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* alert_command: a program run without a shell (argv from the config), the
 * decision's JSON line on its stdin, killed after alert_timeout, at most a
 * few at a time. Never blocks the caller: children are reaped with
 * alert_reap() from the event loop (SIGCHLD and the housekeeping timer).
 * The caller ignores SIGPIPE (a child may exit without reading). */
#ifndef RG_ALERT_H
#define RG_ALERT_H

#include <stddef.h>
#include <stdint.h>

#define ALERT_MAX_CHILDREN_DEFAULT 4

struct alerter;

struct alert_stats {
	uint64_t started, ok, failed, killed, dropped_busy, spawn_errors;
};

struct alerter *alert_new(unsigned int max_children);
/* Kills and reaps the children still running. */
void alert_free(struct alerter *a);

/* Start argv[0..argc) with json (len bytes, a newline is added) on stdin;
 * killed at now_ns + timeout_ns. -EBUSY when max_children already run,
 * -errno when the program cannot be started. */
int alert_run(struct alerter *a, char *const argv[], unsigned int argc,
	      const char *json, size_t len, uint64_t timeout_ns,
	      uint64_t now_ns);
/* Reap exited children (logging a non-zero status), SIGKILL overdue ones. */
void alert_reap(struct alerter *a, uint64_t now_ns);
unsigned int alert_running(const struct alerter *a);
const struct alert_stats *alert_stats(const struct alerter *a);

#endif
