// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl reload, and finding the running daemon. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "ctl.h"
#include "parse.h"

pid_t ctl_daemon_pid(const char **why)
{
	unsigned long pid;
	char buf[32], *nl;
	FILE *f;

	f = fopen(ctl.pid_file, "r");
	if (!f) {
		*why = strerror(errno);
		return 0;
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (parse_ulong(buf, 1, 4194304, &pid)) {
		*why = "no pid in it";
		return 0;
	}
	return pid;
}

bool ctl_daemon_alive(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (kill(pid, 0) && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "relayguardd", 11);
}

int do_reload(int argc, char **argv)
{
	const char *why = NULL;
	pid_t pid;
	int err;

	err = ctl_no_args(argc, argv, "reload");
	if (err)
		return err;
	pid = ctl_daemon_pid(&why);
	if (!pid)
		return ctl_err(-ESRCH, "cannot read pid file %s: %s",
			       ctl.pid_file, why);
	if (!ctl_daemon_alive(pid))
		return ctl_err(-ESRCH,
			       "relayguardd (pid %d from %s) is not running",
			       (int)pid, ctl.pid_file);
	if (kill(pid, SIGHUP))
		return ctl_err(-errno, "cannot signal relayguardd (pid %d): %s",
			       (int)pid, strerror(errno));
	print_obj_start(NULL);
	print_uint("reloaded", "sent SIGHUP to relayguardd (pid %llu)\n", pid);
	print_obj_end();
	return 0;
}
