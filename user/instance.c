// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The single-instance lock on the pin dir and the pid file (see
 * instance.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsutil.h"
#include "instance.h"
#include "loader.h"

/* The pid that holds a flock on st's inode, from /proc/locks:
 * "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF". */
static pid_t flock_holder(const struct stat *st)
{
	unsigned int maj, min;
	unsigned long ino;
	char line[256], kind[16];
	pid_t pid = 0;
	FILE *f;
	int n;

	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		n = sscanf(line, "%*s %15s %*s %*s %d %x:%x:%lu", kind, &pid,
			   &maj, &min, &ino);
		if (n == 5 && kind[0] != '-' && ino == st->st_ino &&
		    maj == major(st->st_dev) && min == minor(st->st_dev))
			break;
		pid = 0;
	}
	fclose(f);
	return pid;
}

int instance_lock(const char *pin_dir, pid_t *holder)
{
	struct stat st;
	int fd, err;

	*holder = 0;
	err = loader_pin_dir_create(pin_dir);
	if (err)
		return err;
	fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	if (err == -EBUSY && !fstat(fd, &st))
		*holder = flock_holder(&st);
	close(fd);
	return err;
}

static int fill_pid(FILE *f, void *ctx)
{
	(void)ctx;
	return fprintf(f, "%d\n", getpid()) < 0 ? -EIO : 0;
}

int instance_write_pid(const char *path)
{
	int err = fs_mkdirs_for(path, 0755);

	return err ? err : fs_replace(path, 0, fill_pid, NULL);
}
