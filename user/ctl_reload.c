// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl reload, and finding the running daemon. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "names.h"
#include "parse.h"

/* What the check may print; its last line is its verdict. */
#define CHECK_OUTPUT_MAX 16384

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

/* relayguardd's long options that take a separate argument. */
static bool takes_arg(const char *opt)
{
	static const char *const opts[] = { "--config", "--pin-dir",
					    "--pid-file", "--metrics-file",
					    "--replay" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(opts); i++)
		if (!strcmp(opt, opts[i]))
			return true;
	return false;
}

/* The -c/--config value in argv (NUL-separated, n bytes, argv[0] first)
 * as getopt reads it; NULL when there is none. */
static const char *conf_arg(const char *args, size_t n)
{
	const char *end = args + n, *conf = NULL, *a, *next, *c;

	for (a = args + strlen(args) + 1; a < end; a = next) {
		next = a + strlen(a) + 1;
		if (!strcmp(a, "--"))
			break;
		if (!strncmp(a, "--config=", 9)) {
			conf = a + 9;
		} else if (takes_arg(a)) {
			if (next >= end)
				break;
			if (!strcmp(a, "--config"))
				conf = next;
			next += strlen(next) + 1;
		} else if (a[0] == '-' && a[1] != '-' && (c = strchr(a, 'c'))) {
			if (c[1]) {
				conf = c + 1;
			} else if (next < end) {
				conf = next;
				next += strlen(next) + 1;
			}
		}
	}
	return conf;
}

/* The config file the daemon re-reads on SIGHUP: the -c/--config of its
 * command line, a relative path seen from its cwd. */
static void daemon_conf_path(pid_t pid, char *path, size_t size)
{
	const char *conf = NULL;
	char args[8192];
	ssize_t n = -1;
	int fd;

	snprintf(path, size, "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, args, sizeof(args) - 1);
		close(fd);
	}
	if (n > 0) {
		args[n] = '\0';
		conf = conf_arg(args, n);
	}
	if (!conf)
		conf = CONF_PATH_DEFAULT;
	if (conf[0] == '/')
		snprintf(path, size, "%s", conf);
	else
		snprintf(path, size, "/proc/%d/cwd/%s", (int)pid, conf);
}

/* In the child: the daemon's own binary, in its network namespace (where
 * its interfaces are), output into the pipe. */
static void exec_check(pid_t pid, const char *conf, int out_fd)
{
	char exe[64], ns[64];
	int fd;

	snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)pid);
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && setns(fd, CLONE_NEWNET))
		fprintf(stderr, "cannot enter %s: %s\n", ns, strerror(errno));
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	execl(exe, "relayguardd", "--check-config", "-c", conf, (char *)NULL);
	fprintf(stderr, "cannot run %s --check-config: %s\n", exe,
		strerror(errno));
	_exit(127);
}

/* Read fd to its end, keeping the last cap - 1 bytes in buf (a refused
 * program's verifier log can be long; the verdict comes last). */
static void read_tail(int fd, char *buf, size_t cap)
{
	char chunk[4096];
	size_t len = 0, drop;
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (len + n > cap - 1) {
			drop = len + n - (cap - 1);
			memmove(buf, buf + drop, len - drop);
			len -= drop;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	buf[len] = '\0';
}

/* The last non-empty line of text, trailing newlines cut. */
static const char *last_line(char *text)
{
	char *end = text + strlen(text), *nl;

	while (end > text && end[-1] == '\n')
		*--end = '\0';
	nl = strrchr(text, '\n');
	return nl ? nl + 1 : text;
}

/* relayguardd --check-config on the file the daemon would re-read:
 * 0 when it passes, else -EINVAL with its verdict in msg. */
static int check_daemon_config(pid_t pid, char *msg, size_t size)
{
	char conf[4200], out[CHECK_OUTPUT_MAX];
	int fds[2], status;
	pid_t child;

	daemon_conf_path(pid, conf, sizeof(conf));
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (!child)
		exec_check(pid, conf, fds[1]);
	close(fds[1]);
	read_tail(fds[0], out, sizeof(out));
	close(fds[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	snprintf(msg, size, "%s", last_line(out));
	return -EINVAL;
}

int do_reload(int argc, char **argv)
{
	char why_check[1024];
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
	err = check_daemon_config(pid, why_check, sizeof(why_check));
	if (err == -EINVAL)
		return ctl_err(err,
			       "reload refused, relayguardd (pid %d) left as "
			       "it is: %s",
			       (int)pid, why_check);
	if (err)
		return ctl_err(err, "cannot run relayguardd --check-config: %s",
			       strerror(-err));
	if (kill(pid, SIGHUP))
		return ctl_err(-errno, "cannot signal relayguardd (pid %d): %s",
			       (int)pid, strerror(errno));
	print_obj_start(NULL);
	print_uint("reloaded", "sent SIGHUP to relayguardd (pid %llu)\n", pid);
	print_obj_end();
	return 0;
}
