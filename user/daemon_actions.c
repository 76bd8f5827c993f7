// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the daemon does with a decision: a ban in the maps (with its
 * evidence pcap and an alert for the other gateways), a critical alert
 * and its alert_command, a finding, an unban; each a line in the event
 * log. Also the pipeline's requests to the flows map. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alert.h"
#include "banstore.h"
#include "clock.h"
#include "cs_client.h"
#include "daemon.h"
#include "dpconfig.h"
#include "escalate.h"
#include "events.h"
#include "flow.h"
#include "flowmap.h"
#include "fsutil.h"
#include "log.h"

void daemon_events_reopen(struct daemon *d)
{
	FILE *f;
	int err;

	if (d->events)
		fclose(d->events);
	d->events = NULL;
	if (!d->conf.event_log[0])
		return;
	err = fs_mkdirs_for(d->conf.event_log, 0755);
	f = err ? NULL : fopen(d->conf.event_log, "ae");
	if (!f) {
		log_err("cannot open event log %s: %s", d->conf.event_log,
			strerror(err ? -err : errno));
		return;
	}
	d->events = f;
}

static void emit_event(struct daemon *d, const struct decision *dec,
		       const struct event_extra *x, char *json, size_t jsonlen)
{
	FILE *mem;

	if (d->events) {
		if (event_write(d->events, dec, x) || fflush(d->events)) {
			d->cnt.event_errors++;
			log_warn("cannot write to event log %s: %s",
				 d->conf.event_log, strerror(errno));
		} else {
			d->cnt.events_written++;
		}
	}
	if (!json)
		return;
	json[0] = '\0';
	mem = fmemopen(json, jsonlen, "w");
	if (mem) {
		event_write(mem, dec, x);
		fclose(mem);
	}
}

struct evidence_ctx {
	struct evidence *ev;
	int err;
};

static void evidence_sample(const struct rg_sample *s, void *data)
{
	struct evidence_ctx *c = data;

	if (!c->err)
		c->err = evidence_add(c->ev, s);
}

/* The pcap already written for this flow at this sample, into buf. */
static bool same_evidence(struct daemon *d, const struct decision *dec,
			  char *buf, size_t size)
{
	if (!d->last_evidence.path[0] ||
	    d->last_evidence.sample_ns != dec->sample_ns ||
	    memcmp(&d->last_evidence.key, &dec->flow_key,
		   sizeof(dec->flow_key)))
		return false;
	snprintf(buf, size, "%s", d->last_evidence.path);
	return true;
}

static void remember_evidence(struct daemon *d, const struct decision *dec,
			      const char *path)
{
	d->last_evidence.key = dec->flow_key;
	d->last_evidence.sample_ns = dec->sample_ns;
	snprintf(d->last_evidence.path, sizeof(d->last_evidence.path), "%s",
		 path);
}

/* The flow's samples as a pcap under state_dir/evidence; path in buf. */
static int keep_evidence(struct daemon *d, const struct decision *dec,
			 char *buf, size_t size)
{
	struct evidence_ctx c = { 0 };
	char dir[4096];
	struct stat st;
	int err;

	buf[0] = '\0';
	if (!d->conf.evidence_dir_max_bytes || !dec->flow)
		return 0;
	if (same_evidence(d, dec, buf, size))
		return 0;
	daemon_state_path(d, "evidence", dir, sizeof(dir));
	err = evidence_open(dir, &dec->source, &c.ev, buf, size);
	if (err)
		goto out;
	flow_for_each_sample(dec->flow, evidence_sample, &c);
	err = evidence_close(c.ev);
	if (!err)
		err = c.err;
	if (!err && !stat(buf, &st))
		evidence_account(&d->evidence, dir, st.st_size,
				 d->conf.evidence_dir_max_bytes);
out:
	if (err) {
		d->cnt.evidence_errors++;
		buf[0] = '\0';
		return err;
	}
	d->cnt.evidence_written++;
	remember_evidence(d, dec, buf);
	return 0;
}

static const char *src_str(const struct prefix *p, char *buf, size_t size)
{
	format_prefix(p, buf, size);
	return buf;
}

/* A local ban, as an alert for the other gateways (never in monitor
 * mode: nothing is enforced here, nothing should be elsewhere). */
static void push_to_crowdsec(struct daemon *d, const struct decision *dec,
			     const struct ban_result *r)
{
	struct lapi_alert a = {
		.source = r->source,
		.duration_s = r->duration_s,
	};

	if (!d->cs || (d->conf.dp.flags & RG_CFG_MONITOR))
		return;
	a.start_unix_ms = a.stop_unix_ms =
		(int64_t)(clock_ns(CLOCK_REALTIME) / 1000000);
	snprintf(a.scenario, sizeof(a.scenario), "relayguard/%s", dec->code);
	snprintf(a.helo, sizeof(a.helo), "%s", dec->helo ? dec->helo : "");
	snprintf(a.mail_from, sizeof(a.mail_from), "%s",
		 dec->mail_from ? dec->mail_from : "");
	snprintf(a.rcpt_to, sizeof(a.rcpt_to), "%s",
		 dec->rcpt_to ? dec->rcpt_to : "");
	snprintf(a.reply, sizeof(a.reply), "%s", dec->reply ? dec->reply : "");
	crowdsec_push(d->cs, &a);
}

static void decide_ban(struct daemon *d, const struct decision *dec,
		       struct event_extra *x);

/* A group of an IPv6 /48 banned: with ipv6_escalate groups of that /48
 * banned within score_window, the /48 is banned (its own reason, the
 * evidence of the ban that completed the set, no second pcap). */
static void escalate_after(struct daemon *d, const struct decision *dec,
			   const struct prefix *source, uint64_t now)
{
	struct event_extra x = {
		.time_ns = clock_ns(CLOCK_REALTIME),
		.reaction_us = -1,
	};
	unsigned int group = dpconfig_ipv6_prefix(&d->conf.dp);
	struct decision wide = *dec;
	enum ban_outcome exempt;
	char src[PREFIX_STRLEN];

	if (!d->esc || source->family != AF_INET6 ||
	    banstore_is_wide(group, source))
		return;
	if (!escalate_note(d->esc, source, d->conf.ipv6_escalate,
			   d->conf.score_window * NSEC_PER_SEC, now,
			   &wide.source) ||
	    !banstore_is_wide(group, &wide.source))
		return;
	exempt = escalate_exempt(&d->conf, d->maps, &wide.source);
	if (exempt != BAN_ADDED) {
		if (exempt == BAN_TRUSTED)
			d->cnt.bans_skipped_trusted++;
		else
			d->cnt.bans_skipped_allowed++;
		log_info("not banning %s (ipv6_rotation): it overlaps %s",
			 src_str(&wide.source, src, sizeof(src)),
			 exempt == BAN_TRUSTED ? "a trusted network"
					       : "an allow entry");
		return;
	}
	wide.reason = RG_REASON_IPV6_ROTATION;
	wide.code = reason_name(RG_REASON_IPV6_ROTATION);
	wide.flow = NULL;
	decide_ban(d, &wide, &x);
}

static void decide_ban(struct daemon *d, const struct decision *dec,
		       struct event_extra *x)
{
	char src[PREFIX_STRLEN], dur[DURATION_STRLEN], ev[4096];
	uint64_t now = boot_ns();
	struct ban_result r;
	int err;

	err = bans_ban(d->bans, &d->conf, &dec->source, dec->reason, now, &r);
	if (err) {
		d->cnt.ban_errors++;
		log_err("cannot ban %s (%s): %s",
			src_str(&dec->source, src, sizeof(src)), dec->code,
			log_strerror(err));
		return;
	}
	switch (r.outcome) {
	case BAN_EXISTS:
		return;
	case BAN_TRUSTED:
	case BAN_ALLOWED:
		if (r.outcome == BAN_TRUSTED)
			d->cnt.bans_skipped_trusted++;
		else
			d->cnt.bans_skipped_allowed++;
		log_info("not banning %s (%s): %s",
			 src_str(&dec->source, src, sizeof(src)), dec->code,
			 r.outcome == BAN_TRUSTED ? "trusted network"
						  : "allow-listed");
		return;
	case BAN_ADDED:
		break;
	}
	d->cnt.bans++;
	now = boot_ns(); /* the ban is in the map */
	if (dec->sample_ns && now >= dec->sample_ns) {
		x->reaction_us = (now - dec->sample_ns) / 1000;
		reaction_observe(&d->reaction, now - dec->sample_ns);
	}
	x->duration_s = r.duration_s;
	if (d->conf.dp.flags & RG_CFG_MONITOR)
		x->mode = "monitor";
	x->offences = r.offences;
	if (!keep_evidence(d, dec, ev, sizeof(ev)) && ev[0])
		x->evidence = ev;
	emit_event(d, dec, x, NULL, 0);
	push_to_crowdsec(d, dec, &r);
	format_duration(r.duration_s, dur, sizeof(dur));
	log_info("ban %s for %s (%s, offence %u, reaction %lld us)%s%s",
		 src_str(&r.source, src, sizeof(src)), dur, dec->code,
		 r.offences, (long long)x->reaction_us,
		 x->evidence ? ", evidence " : "",
		 x->evidence ? x->evidence : "");
	escalate_after(d, dec, &r.source, now);
}

static void decide_alert(struct daemon *d, const struct decision *dec,
			 struct event_extra *x)
{
	char src[PREFIX_STRLEN], json[16384], ev[4096];

	d->cnt.alerts++;
	/* its own pcap: the server's replies that prove it, even when the
	 * client was banned before for something else */
	if (!keep_evidence(d, dec, ev, sizeof(ev)) && ev[0])
		x->evidence = ev;
	emit_event(d, dec, x, json, sizeof(json));
	log_err("CRITICAL: %s from %s (rcpt %s, reply %s, local domains: %s)",
		dec->code, src_str(&dec->source, src, sizeof(src)),
		dec->rcpt_to ? dec->rcpt_to : "-",
		dec->reply ? dec->reply : "-",
		dec->local_domains ? dec->local_domains : "-");
	if (!d->conf.n_alert_args)
		return;
	if (d->n_pending == MAX_PENDING_ALERTS) {
		log_warn(
			"alert_command not run for %s: too many alerts at once",
			src);
		return;
	}
	json[strcspn(json, "\n")] = '\0';
	d->pending_alert[d->n_pending] = strdup(json);
	if (d->pending_alert[d->n_pending])
		d->n_pending++;
}

void daemon_run_pending_alerts(struct daemon *d)
{
	char *argv[CONF_MAX_ALERT_ARGS + 1];
	unsigned int i;

	for (i = 0; i < d->conf.n_alert_args; i++)
		argv[i] = d->conf.alert_command[i];
	argv[i] = NULL;
	for (i = 0; i < d->n_pending; i++) {
		if (d->conf.n_alert_args)
			alert_run(d->alerts, argv, d->conf.n_alert_args,
				  d->pending_alert[i],
				  strlen(d->pending_alert[i]),
				  d->conf.alert_timeout * NSEC_PER_SEC,
				  boot_ns());
		free(d->pending_alert[i]);
	}
	d->n_pending = 0;
}

void daemon_decide(void *ctx, const struct decision *dec)
{
	struct daemon *d = ctx;
	struct event_extra x = {
		.time_ns = clock_ns(CLOCK_REALTIME),
		.reaction_us = -1,
	};
	char src[PREFIX_STRLEN];

	switch (dec->action) {
	case DECISION_BAN:
		decide_ban(d, dec, &x);
		break;
	case DECISION_ALERT:
		decide_alert(d, dec, &x);
		break;
	case DECISION_UNBAN: /* never from the pipeline */
	case DECISION_FINDING:
		d->cnt.findings++;
		emit_event(d, dec, &x, NULL, 0);
		log_info("finding %s from %s%s", dec->code,
			 src_str(&dec->source, src, sizeof(src)),
			 dec->unverified ? " (handshake not verified: no ban)"
					 : "");
		break;
	}
}

/* A flow whose entry is gone (its slot taken) has nothing to stop. */
static void on_stop_sampling(void *ctx, const struct rg_flow_key *key)
{
	struct daemon *d = ctx;

	if (d->maps->flows >= 0)
		flowmap_stop(d->maps->flows, d->hash_seed, key);
}

/* The client is banned: its payload is no longer sampled, the server's
 * replies still are (graded until the flow ends). */
static void on_stop_client(void *ctx, const struct rg_flow_key *key)
{
	struct daemon *d = ctx;

	if (d->maps->flows >= 0)
		flowmap_stop_client(d->maps->flows, d->hash_seed, key);
}

/* A message body: no client payload sampled until the next transaction. */
static void on_pause_client(void *ctx, const struct rg_flow_key *key)
{
	struct daemon *d = ctx;

	if (d->maps->flows >= 0)
		flowmap_pause_client(d->maps->flows, d->hash_seed, key);
}

/* The next transaction starts at client seq: a fresh sampling window. */
static void on_resume_client(void *ctx, const struct rg_flow_key *key,
			     uint32_t seq)
{
	struct daemon *d = ctx;

	if (d->maps->flows >= 0)
		flowmap_resume_client(d->maps->flows, d->hash_seed, key, seq);
}

const struct pipeline_ops daemon_pipeline_ops = {
	.decide = daemon_decide,
	.stop_sampling = on_stop_sampling,
	.stop_client = on_stop_client,
	.pause_client = on_pause_client,
	.resume_client = on_resume_client,
};

void daemon_unbanned(const struct ban_entry *e, void *ctx)
{
	struct daemon *d = ctx;
	struct event_extra x = {
		.time_ns = clock_ns(CLOCK_REALTIME),
		.offences = e->ban.offences,
		.reaction_us = -1,
	};
	struct decision dec = {
		.action = DECISION_UNBAN,
		.reason = e->ban.reason,
		.code = reason_name(e->ban.reason),
		.source = e->source,
	};
	char src[PREFIX_STRLEN];

	d->cnt.unbans++;
	log_info("unban %s (%s): expired",
		 src_str(&e->source, src, sizeof(src)), dec.code);
	emit_event(d, &dec, &x, NULL, 0);
}

void daemon_drop_pending_alerts(struct daemon *d)
{
	unsigned int i;

	for (i = 0; i < d->n_pending; i++)
		free(d->pending_alert[i]);
	d->n_pending = 0;
}
