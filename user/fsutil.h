/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The filesystem chores every state file shares: `mkdir -p`, and writing a
 * file whole or not at all (a temp file beside it, renamed over it), so
 * that a reader or a crash never meets a half-written pid file, metrics
 * file, LAPI state or ban snapshot. */
#ifndef RG_FSUTIL_H
#define RG_FSUTIL_H

#include <stdio.h>
#include <sys/types.h>

/* close(fd) if fd is open: -1 (or any negative) means never opened. */
void fs_close(int fd);

/* dir and each missing parent, created with mode. 0 or -errno. */
int fs_mkdirs(const char *dir, mode_t mode);
/* The directory that holds file, as fs_mkdirs. */
int fs_mkdirs_for(const char *file, mode_t mode);

/* Writes the new contents into f; returns 0 or a negative errno. */
typedef int (*fs_fill_fn)(FILE *f, void *ctx);

enum fs_replace_flags {
	FS_PRIVATE = 1 << 0, /* mode 0600 (else 0666 less the umask) */
	FS_DURABLE = 1 << 1, /* fsync the file, and its dir after the rename */
	/* temp file per process (path.tmp.PID, else path.tmp): for writers
	 * that may overlap, as a snapshot child and the final snapshot */
	FS_TMP_PER_PID = 1 << 2,
};

/* Replace path with what fill writes: into a temp file beside it, renamed
 * over path once fill and the close succeeded. On failure the temp file is
 * removed and path left as it was. Returns 0, fill's error or -errno. */
int fs_replace(const char *path, unsigned int flags, fs_fill_fn fill,
	       void *ctx);

#endif
