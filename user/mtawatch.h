/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* local_domains = postfix:DIR kept current: postconf and postmap run as
 * child processes (posix_spawn, argv, no shell) whose output is read
 * through the daemon's epoll loop with a timeout; inotify on DIR and on
 * the directories of the tables it names (postconf -e and postmap replace
 * files) starts a new reading within a second of a change. A reading that
 * fails keeps the last good list, is logged once and counted. The
 * per-domain questions of mtadomains.h are asked here, one child at a
 * time. What the daemon shows of it goes to a state file (status). */
#ifndef RG_MTAWATCH_H
#define RG_MTAWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mtadomains.h"

/* The state file beside the pid file (its directory + this name). */
#define MTA_STATE_FILE	     "local_domains.state"
#define MTA_CHILD_TIMEOUT_NS (5ULL * 1000000000ULL)
#define MTA_QUERY_BATCH	     128 /* domains asked in one postmap -q - */
/* Changes come in bursts (postconf -e writes a temp file, renames it). */
#define MTA_SETTLE_NS (1000000000ULL)

struct mta_watch;

/* changed: the list was replaced or a domain's answer arrived (RCPTs
 * that waited for it may be graded now). */
struct mta_watch *mta_watch_new(const char *dir, const char *state_path,
				void (*changed)(void *ctx), void *ctx);
/* Kills and reaps the children still running. */
void mta_watch_free(struct mta_watch *w);
/* An epoll fd for the daemon's loop: readable when mta_watch_run() has
 * work. */
int mta_watch_fd(const struct mta_watch *w);
/* Read what is ready, reap, time out, start what is due; never blocks.
 * Call when the fd is readable, on SIGCHLD and from the timer. */
void mta_watch_run(struct mta_watch *w, uint64_t now_ns);
/* Read Postfix's config again now (relayguardctl reload). */
void mta_watch_refresh(struct mta_watch *w);
/* The live list: stable for the watch's lifetime (conf->mta). */
struct mta_domains *mta_watch_domains(struct mta_watch *w);
const char *mta_watch_dir(const struct mta_watch *w);
/* Readings done so far (a first one: the list is known). */
uint64_t mta_watch_readings(const struct mta_watch *w);

/* For relayguardd --check-config (no loop yet): what Postfix at dir
 * receives for, read at once, blocking up to timeout_ns, into *out (the
 * caller frees it; compare with conf_local_domains_drift()). 0, or a
 * negative errno with err saying why. */
int mta_read_now(const char *dir, uint64_t timeout_ns, struct mta_domains **out,
		 char *err, size_t errlen);

/* The state file's lines (key=value) for a literal list alone. */
void mta_print_literal_state(FILE *f, const char *source, unsigned int domains);

#endif
