/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Programs the daemon runs (alert_command, postconf, postmap): from argv,
 * never through a shell, with the default signal dispositions and an empty
 * mask (the daemon blocks its signals for signalfd, and a blocked SIGTERM
 * would make a child unkillable by a polite kill). */
#ifndef RG_PROC_H
#define RG_PROC_H

#include <sys/types.h>

#define PROC_INHERIT (-1) /* the daemon's own fd */
#define PROC_NULL    (-2) /* /dev/null */

/* argv[0] looked up in PATH; its stdin, stdout and stderr are in, out
 * and err (fds, PROC_INHERIT or PROC_NULL). 0 with *pid set, or a
 * negative errno. */
int proc_spawn(char *const argv[], int in, int out, int err, pid_t *pid);

#endif
