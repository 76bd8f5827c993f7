// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Programs run from argv: see proc.h. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include "proc.h"

extern char **environ;

static void redirect(posix_spawn_file_actions_t *fa, int fd, int to)
{
	if (fd == PROC_NULL)
		posix_spawn_file_actions_addopen(fa, to, "/dev/null",
						 to ? O_WRONLY : O_RDONLY, 0);
	else if (fd >= 0)
		posix_spawn_file_actions_adddup2(fa, fd, to);
}

int proc_spawn(char *const argv[], int in, int out, int err, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int ret;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	redirect(&fa, in, STDIN_FILENO);
	redirect(&fa, out, STDOUT_FILENO);
	redirect(&fa, err, STDERR_FILENO);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	ret = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}
