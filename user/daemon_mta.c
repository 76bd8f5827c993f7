// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardd and local_domains = postfix:DIR: the watch (mtawatch.h) in
 * the loop, its list behind conf->mta, and the state file status reads
 * (where local domains come from, how many) for a literal list too. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "fsutil.h"
#include "log.h"
#include "mtawatch.h"

static void state_path(const struct daemon *d, char *buf, size_t size)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", d->pid_file);
	snprintf(buf, size, "%s/%s", dirname(dir), MTA_STATE_FILE);
}

static int fill_literal(FILE *f, void *ctx)
{
	const struct daemon *d = ctx;
	char src[512];

	conf_local_domains_source(&d->conf, src, sizeof(src));
	mta_print_literal_state(f, src, d->conf.n_local_domains);
	return 0;
}

/* Postfix answered or its list changed: RCPTs that waited are graded. */
static void mta_changed(void *ctx)
{
	struct daemon *d = ctx;

	pipeline_retry_deferred(d->pipe, boot_ns());
}

static void mta_stop(struct daemon *d)
{
	if (!d->mta)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, mta_watch_fd(d->mta), NULL);
	mta_watch_free(d->mta);
	d->mta = NULL;
}

/* d->conf names its Postfix: watch it (the same one: read it again). */
static void mta_follow(struct daemon *d)
{
	const char *dir = d->conf.local_domains_postfix;
	char path[4200];

	if (d->mta && !strcmp(mta_watch_dir(d->mta), dir)) {
		d->conf.mta = mta_watch_domains(d->mta);
		mta_watch_refresh(d->mta);
		return;
	}
	mta_stop(d);
	state_path(d, path, sizeof(path));
	d->mta = mta_watch_new(dir, path, mta_changed, d);
	if (!d->mta ||
	    (d->epfd >= 0 &&
	     daemon_epoll_add(d->epfd, mta_watch_fd(d->mta), EV_MTA))) {
		log_err("cannot follow Postfix's local domains (%s): out of "
			"resources; the literal local_domains alone count",
			dir);
		mta_watch_free(d->mta);
		d->mta = NULL;
		return;
	}
	d->conf.mta = mta_watch_domains(d->mta);
	log_info("local domains: following postfix:%s", dir);
}

void daemon_mta_apply(struct daemon *d)
{
	char path[4200];

	d->conf.mta = NULL;
	if (d->conf.local_domains_postfix[0]) {
		mta_follow(d);
		return;
	}
	mta_stop(d);
	state_path(d, path, sizeof(path));
	if (fs_replace(path, 0, fill_literal, d))
		log_debug("cannot write %s", path);
}

void daemon_mta_epoll(struct daemon *d)
{
	if (d->mta && daemon_epoll_add(d->epfd, mta_watch_fd(d->mta), EV_MTA))
		log_err("cannot watch Postfix's local domains in the loop");
}

void daemon_mta_run(struct daemon *d)
{
	if (d->mta)
		mta_watch_run(d->mta, boot_ns());
}

void daemon_mta_close(struct daemon *d)
{
	char path[4200];

	mta_stop(d);
	state_path(d, path, sizeof(path));
	unlink(path);
}
