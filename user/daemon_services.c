// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon's two services beside the data plane: the Postfix policy
 * service (policy_service) and the CrowdSec LAPI client
 * (crowdsec_lapi_url), each started, restarted on a reload that changes
 * its settings, and stopped. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "banstore.h"
#include "clock.h"
#include "cs_client.h"
#include "daemon.h"
#include "log.h"
#include "policysvc.h"

static bool psvc_banned(void *ctx, const struct prefix *src)
{
	struct daemon *d = ctx;
	struct prefix key;
	struct rg_ban ban;

	if (banstore_source(d->maps, src, &key))
		return false;
	if (banstore_get(d->maps, &key, &ban)) {
		/* or its /48 (ipv6_escalate) */
		key.len = RG_BAN6_WIDE_PREFIX;
		prefix_mask(&key);
		if (!banstore_is_wide(banstore_ipv6_prefix(d->maps), &key) ||
		    banstore_get(d->maps, &key, &ban))
			return false;
	}
	return !ban.expires_ns || ban.expires_ns > boot_ns();
}

static const struct flow *psvc_find_flow(void *ctx,
					 const struct rg_flow_key *key)
{
	return pipeline_find_flow(((struct daemon *)ctx)->pipe, key);
}

static const struct policysvc_ops psvc_ops = {
	.decide = daemon_decide,
	.banned = psvc_banned,
	.find_flow = psvc_find_flow,
};

void daemon_psvc_close(struct daemon *d)
{
	policysvc_free(d->psvc);
	d->psvc = NULL;
}

/* Start the policy service when policy_service is set. A failure is
 * logged and leaves the rest running: smtpd falls back to its
 * smtpd_policy_service_default_action. */
void daemon_psvc_open(struct daemon *d)
{
	char err[256];
	int err_no;

	if (!d->conf.policy_service[0])
		return;
	d->psvc =
		policysvc_new(&d->conf, pipeline_policy(d->pipe), &psvc_ops, d);
	if (!d->psvc || policysvc_listen(d->psvc, err, sizeof(err))) {
		log_err("policy service off: %s",
			d->psvc ? err : "out of memory");
		daemon_psvc_close(d);
		return;
	}
	err_no = d->epfd >= 0 ? daemon_epoll_add(d->epfd, policysvc_fd(d->psvc),
						 EV_POLICY)
			      : 0;
	if (err_no) {
		log_err("policy service off: epoll: %s", log_strerror(err_no));
		daemon_psvc_close(d);
		return;
	}
	log_info("policy service listening on %s", d->conf.policy_service);
	if (!d->conf.n_policy_allowed_uids)
		log_warn(
			"policy service: no user named by policy_allowed_users "
			"(default postfix) exists: only root is answered");
}

/* A new policy_service: a new listener; the same: the service reads the
 * reloaded conf in place. */
void daemon_psvc_reload(struct daemon *d, const struct rg_conf *old)
{
	if (strcmp(old->policy_service, d->conf.policy_service)) {
		daemon_psvc_close(d);
		daemon_psvc_open(d);
	}
}

static void crowdsec_state_path(const struct daemon *d, char *buf, size_t size)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", d->pid_file);
	snprintf(buf, size, "%s/%s", dirname(dir), CROWDSEC_STATE_FILE);
}

int daemon_crowdsec_start(struct daemon *d)
{
	char err[512], path[4200];
	int rc;

	crowdsec_state_path(d, path, sizeof(path));
	d->cs = crowdsec_new(&d->conf, d->bans, path, &rc, err, sizeof(err));
	if (rc) {
		log_err("crowdsec: %s", err);
		return rc;
	}
	if (d->cs)
		log_info("crowdsec: LAPI %s", d->conf.crowdsec_lapi_url);
	return 0;
}

static bool crowdsec_changed(const struct rg_conf *a, const struct rg_conf *b)
{
	return strcmp(a->crowdsec_lapi_url, b->crowdsec_lapi_url) ||
	       strcmp(a->crowdsec_bouncer_key_file,
		      b->crowdsec_bouncer_key_file) ||
	       strcmp(a->crowdsec_machine_id, b->crowdsec_machine_id) ||
	       strcmp(a->crowdsec_machine_password_file,
		      b->crowdsec_machine_password_file) ||
	       a->crowdsec_poll_interval != b->crowdsec_poll_interval;
}

/* New LAPI keys: a new client (its queue of alerts is lost); a refused
 * secret leaves the LAPI off until the next reload. */
void daemon_crowdsec_reload(struct daemon *d, const struct rg_conf *old)
{
	if (!crowdsec_changed(old, &d->conf))
		return;
	if (d->cs)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, crowdsec_fd(d->cs), NULL);
	crowdsec_free(d->cs);
	d->cs = NULL;
	if (!daemon_crowdsec_start(d) && d->cs &&
	    daemon_epoll_add(d->epfd, crowdsec_fd(d->cs), EV_CROWDSEC))
		log_err("crowdsec: cannot watch the LAPI client");
}
