/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* relayguardd as a CrowdSec bouncer and machine against a Local API
 * (crowdsec_lapi_url). As a bouncer it pulls /v1/decisions/stream every
 * crowdsec_poll_interval (startup=true first and after any failure) and
 * applies the decisions in slices between the loop's other work
 * (cs_apply.h); as a machine it logs in for a JWT
 * and pushes each local ban as an alert with its decision, from a bounded
 * queue that waits out an outage. HTTP is libcurl's multi interface driven
 * by the daemon's event loop through one file descriptor (an epoll set of
 * its own): nothing here ever blocks, and the LAPI being down, slow or
 * wrong never touches local enforcement. Each change of state is logged
 * once, and written with the counters to a small state file that
 * `relayguardctl status` reads. */
#ifndef RG_CS_CLIENT_H
#define RG_CS_CLIENT_H

#include <stdint.h>
#include <stdio.h>

#include "cs_lapi.h"
#include "cs_report.h"

struct crowdsec;
struct bans;
struct rg_conf;

/* The state file beside the pid file (its directory + this name). */
#define CROWDSEC_STATE_FILE "crowdsec.state"

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

#endif
