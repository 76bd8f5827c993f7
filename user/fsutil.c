// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* mkdir -p and atomic replacement of a file (see fsutil.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

void fs_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int fs_mkdirs(const char *dir, mode_t mode)
{
	char buf[4096], *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int fs_mkdirs_for(const char *file, mode_t mode)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", file) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	return fs_mkdirs(dirname(buf), mode);
}

/* The rename is durable once the directory that holds it is synced. */
static int fsync_dir_of(const char *path)
{
	char buf[4096];
	int fd, err = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static FILE *open_tmp(const char *tmp, unsigned int flags)
{
	mode_t mode = flags & FS_PRIVATE ? 0600 : 0666;
	FILE *f;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

/* Close f after fill: its error first, then the flush's, sync's, close's. */
static int close_tmp(FILE *f, unsigned int flags, int err)
{
	if (!err && fflush(f))
		err = -errno;
	if (!err && (flags & FS_DURABLE) && fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int fs_replace(const char *path, unsigned int flags, fs_fill_fn fill, void *ctx)
{
	char tmp[4096];
	int n, err;
	FILE *f;

	if (flags & FS_TMP_PER_PID)
		n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
			     (long)getpid());
	else
		n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = open_tmp(tmp, flags);
	if (!f)
		return -errno;
	err = close_tmp(f, flags, fill(f, ctx));
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return flags & FS_DURABLE ? fsync_dir_of(path) : 0;
}
