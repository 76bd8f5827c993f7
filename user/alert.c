// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alert.h"
#include "log.h"
#include "proc.h"

struct alert_child {
	pid_t pid; /* 0: free slot */
	uint64_t deadline_ns;
	bool killed;
	char name[64];
};

struct alerter {
	unsigned int max;
	unsigned int running;
	struct alert_stats stats;
	struct alert_child child[];
};

struct alerter *alert_new(unsigned int max_children)
{
	struct alerter *a;

	if (!max_children)
		max_children = ALERT_MAX_CHILDREN_DEFAULT;
	a = calloc(1, sizeof(*a) + max_children * sizeof(a->child[0]));
	if (a)
		a->max = max_children;
	return a;
}

static struct alert_child *free_slot(struct alerter *a)
{
	unsigned int i;

	for (i = 0; i < a->max; i++)
		if (!a->child[i].pid)
			return &a->child[i];
	return NULL;
}

/* The JSON fits in the pipe buffer (64 KiB by default); a longer one is
 * cut rather than waited for. */
static void feed(int fd, const char *json, size_t len, const char *name)
{
	ssize_t n = write(fd, json, len);

	if (n == (ssize_t)len && write(fd, "\n", 1) == 1)
		return;
	if (n < 0 && errno == EPIPE)
		return; /* the program did not want it */
	if (n < 0)
		log_warn(
			"alert_command %s: cannot write the event to its stdin: %s",
			name, strerror(errno));
	else
		log_warn("alert_command %s: event cut to %zd of %zu bytes",
			 name, n, len);
}

int alert_run(struct alerter *a, char *const argv[], unsigned int argc,
	      const char *json, size_t len, uint64_t timeout_ns,
	      uint64_t now_ns)
{
	struct alert_child *c;
	int p[2], err;
	pid_t pid;

	if (!argc || !argv[0])
		return -EINVAL;
	c = free_slot(a);
	if (!c) {
		a->stats.dropped_busy++;
		log_warn("alert_command %s not run: %u already running",
			 argv[0], a->max);
		return -EBUSY;
	}
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	err = proc_spawn(argv, p[0], PROC_INHERIT, PROC_INHERIT, &pid);
	close(p[0]);
	if (err) {
		a->stats.spawn_errors++;
		log_err("cannot run alert_command %s: %s", argv[0],
			log_strerror(err));
		close(p[1]);
		return err;
	}
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	feed(p[1], json, len, argv[0]);
	close(p[1]);
	c->pid = pid;
	c->deadline_ns = now_ns + timeout_ns;
	c->killed = false;
	snprintf(c->name, sizeof(c->name), "%s", argv[0]);
	a->running++;
	a->stats.started++;
	return 0;
}

static void reaped(struct alerter *a, struct alert_child *c, int status)
{
	if (c->killed) {
		a->stats.killed++;
		log_warn("alert_command %s (pid %d) killed after its timeout",
			 c->name, c->pid);
	} else if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		a->stats.ok++;
	} else {
		a->stats.failed++;
		if (WIFEXITED(status))
			log_warn(
				"alert_command %s (pid %d) exited with status %d",
				c->name, c->pid, WEXITSTATUS(status));
		else
			log_warn("alert_command %s (pid %d) died of signal %d",
				 c->name, c->pid, WTERMSIG(status));
	}
	c->pid = 0;
	a->running--;
}

void alert_reap(struct alerter *a, uint64_t now_ns)
{
	unsigned int i;
	int status;

	for (i = 0; i < a->max; i++) {
		struct alert_child *c = &a->child[i];

		if (!c->pid)
			continue;
		if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
			reaped(a, c, status);
			continue;
		}
		if (!c->killed && now_ns >= c->deadline_ns) {
			kill(c->pid, SIGKILL);
			c->killed = true;
		}
	}
}

unsigned int alert_running(const struct alerter *a)
{
	return a->running;
}

const struct alert_stats *alert_stats(const struct alerter *a)
{
	return &a->stats;
}

void alert_free(struct alerter *a)
{
	unsigned int i;
	int status;

	if (!a)
		return;
	for (i = 0; i < a->max; i++) {
		if (!a->child[i].pid)
			continue;
		kill(a->child[i].pid, SIGKILL);
		waitpid(a->child[i].pid, &status, 0);
	}
	free(a);
}
