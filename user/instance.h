/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One relayguardd per pin dir: two daemons would each drain part of the
 * samples ring buffer and see half of every session. The lock is flock(2)
 * on the pin dir itself (bpffs holds no regular files), so it dies with
 * its holder: a SIGKILLed daemon never blocks the restart. */
#ifndef RG_INSTANCE_H
#define RG_INSTANCE_H

#include <sys/types.h>

/* Lock pin_dir (created if missing) for this process; the lock is held
 * until the process exits. Returns a file descriptor (close-on-exec,
 * inherited by forks), -EBUSY with *holder set to the running daemon's pid
 * (0 if unknown) when another process holds it, or a negative errno. */
int instance_lock(const char *pin_dir, pid_t *holder);

/* The pid file that names the holder for relayguardctl and init scripts:
 * this process's pid, written whole (its directory created if missing).
 * Returns 0 or a negative errno. */
int instance_write_pid(const char *path);

#endif
