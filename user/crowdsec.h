/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* relayguardd as a CrowdSec bouncer and machine against a Local API
 * (crowdsec_lapi_url). As a bouncer it pulls /v1/decisions/stream every
 * crowdsec_poll_interval (startup=true first and after any failure) and
 * applies the decisions in slices between the loop's other work
 * (csapply.h); as a machine it logs in for a JWT
 * and pushes each local ban as an alert with its decision, from a bounded
 * queue that waits out an outage. HTTP is libcurl's multi interface driven
 * by the daemon's event loop through one file descriptor (an epoll set of
 * its own): nothing here ever blocks, and the LAPI being down, slow or
 * wrong never touches local enforcement. Each change of state is logged
 * once, and written with the counters to a small state file that
 * `relayguardctl status` reads. */
#ifndef RG_CROWDSEC_H
#define RG_CROWDSEC_H

#include <stdint.h>
#include <stdio.h>

#include "csapply.h"
#include "csdecisions.h"
#include "lapi.h"

struct crowdsec;
struct bans;
struct rg_conf;

/* The state file beside the pid file (its directory + this name). */
#define CROWDSEC_STATE_FILE "crowdsec.state"

enum crowdsec_state {
	CS_OFF,	     /* not configured */
	CS_STARTING, /* no answer yet */
	CS_UP,
	CS_UNREACHABLE, /* connection or timeout */
	CS_REFUSED,	/* 401/403: wrong key or credentials */
	CS_ERROR, /* another HTTP status, or an answer that does not parse */
};
const char *crowdsec_state_name(enum crowdsec_state s);

struct crowdsec_counters {
	struct csdec_stats dec;
	uint64_t pulls, pull_errors, alerts_pushed, alerts_dropped, push_errors,
		logins, login_errors;
	uint64_t resyncs;	/* whole sets pulled after news (crowdsec.c) */
	uint64_t deleted_stale; /* gone from a startup stream: removed */
	uint64_t queued;	/* alerts waiting now */
	struct csapply_stats apply;
	uint64_t apply_pending; /* answers waiting to be applied now */
	enum crowdsec_state bouncer, machine;
	int64_t last_pull_unix; /* of the last good pull; 0: none */
};

/* Secrets from a file that only its owner may read: the first line, blanks
 * trimmed. -EPERM (with why in err) when group or others have any access. */
int crowdsec_read_secret(const char *path, char *buf, size_t size, char *err,
			 size_t errlen);

/* NULL and *rc = 0 when crowdsec_lapi_url is unset. Otherwise the client
 * (first pull and login start at once), or NULL with *rc < 0 and why in err
 * (a secret file refused, incomplete keys). state_path: the state file. */
struct crowdsec *crowdsec_new(const struct rg_conf *conf, struct bans *bans,
			      const char *state_path, int *rc, char *err,
			      size_t errlen);
void crowdsec_free(struct crowdsec *cs);

/* The descriptor to watch for input; call crowdsec_dispatch when it is
 * readable. */
int crowdsec_fd(const struct crowdsec *cs);
void crowdsec_dispatch(struct crowdsec *cs);

/* Queue a local ban for the LAPI (a machine is configured), oldest
 * dropped when the queue is full. */
void crowdsec_push(struct crowdsec *cs, const struct lapi_alert *a);

const struct crowdsec_counters *crowdsec_counters(const struct crowdsec *cs);
/* Prometheus lines of the counters (metrics.c). */
void crowdsec_print_metrics(FILE *f, const struct crowdsec_counters *c);
/* The state file's key=value lines. */
void crowdsec_print_state(FILE *f, const struct crowdsec_counters *c);

#endif
