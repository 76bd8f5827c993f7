// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Sample records -> flows -> SMTP dialogue -> policy -> decisions. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "config.h"
#include "dpconfig.h"
#include "flow.h"
#include "pipeline.h"
#include "policy.h"
#include "smtp.h"

struct pipeline {
	const struct rg_conf *conf; /* the caller's (see pipeline_new) */
	struct pipeline_ops ops;
	void *ctx;
	struct flow_table *flows;
	struct policy *policy;
	struct pipeline_stats st;
	uint64_t now_ns;  /* boot clock of the record being handled */
	uint32_t rec_ack; /* ack of the record being handled, host order */
	uint8_t rec_dir;  /* its direction */
	uint64_t unverified_sec; /* second of the last unverified report */
	unsigned int unverified_in_sec; /* reports in that second */
	/* RCPTs whose domain Postfix is being asked about (RELAY_UNKNOWN):
	 * graded with their reply once the answer is in */
	struct deferred_rcpt *deferred;
	unsigned int n_deferred;
	char local_src[512]; /* where local domains come from, for alerts */
};

/* A RCPT graded later: its domain's locality was not known yet. */
struct deferred_rcpt {
	struct rg_flow_key key;
	struct rcpt_event e; /* e.src and e.path point into this entry */
	struct prefix src;
	char path[SMTP_ARG_MAX + 1];
	char reply[SMTP_REPLY_LINE_MAX + 1];
};

/* Forged segments cost a spoofer nothing, and a reset forged flow comes
 * back as a new one: findings from unverified flows are reported once per
 * flow and at most this many a second, or they could flood the event log. */
#define UNVERIFIED_REPORTS_PER_SEC 10

/* Per-flow state, in the flow's user area. */
struct pflow {
	struct pipeline *p;
	struct flow *f;
	struct smtp smtp;
	struct prefix src;
	bool banned;  /* the client: its side is no longer sampled, the
		       * server's replies are still graded until the end */
	bool alerted; /* the session's critical alert is out */
	bool stopped, pregreet;
	bool unverified_reported, padding_signalled, conflict_reported;
	bool adopted;  /* begun before this daemon (pipeline_adopt) */
	bool paused;   /* a message body: the data plane samples no client
			* byte until the next transaction */
	bool drain_in; /* client bytes held past a skipped body */
	bool win_set;
	uint32_t win_in; /* client seq where this transaction's window starts */
	uint32_t bytes_in; /* client sequence space sampled in the window (the
			    * data plane's count against sample_bytes) */
};

static const struct smtp_callbacks smtp_cb;

static bool report_unverified(struct pflow *pf)
{
	struct pipeline *p = pf->p;
	uint64_t sec = p->now_ns / NSEC_PER_SEC;

	if (sec != p->unverified_sec) {
		p->unverified_sec = sec;
		p->unverified_in_sec = 0;
	}
	if (pf->unverified_reported ||
	    p->unverified_in_sec >= UNVERIFIED_REPORTS_PER_SEC) {
		p->st.unverified_suppressed++;
		return false;
	}
	pf->unverified_reported = true;
	p->unverified_in_sec++;
	return true;
}

/* rcpt: the recipient a reply answers (pipelined RCPTs are answered in
 * order, after the last was read), or NULL for the last one read. */
static void emit_rcpt(struct pflow *pf, const struct verdict *v,
		      const char *reply, const char *rcpt)
{
	struct pipeline *p = pf->p;
	struct decision d = {
		.action = v->action,
		.reason = v->reason,
		.code = v->code,
		.source = pf->src,
		.flow_key = pf->f->key,
		.sample_ns = p->now_ns,
		.helo = pf->smtp.helo,
		.mail_from = pf->smtp.mail_from,
		.rcpt_to = rcpt ? rcpt : pf->smtp.rcpt_to,
		.reply = reply,
		.flow = pf->f,
		/* a RCPT verdict names the list it was checked against */
		.local_domains = rcpt ? p->local_src : NULL,
	};

	/* one ban and one alert per session: the rest is noise */
	if ((pf->banned && v->action != DECISION_ALERT) ||
	    (pf->alerted && v->action == DECISION_ALERT))
		return;
	d.unverified = !flow_verified(pf->f);
	if (d.unverified) {
		if (!report_unverified(pf))
			return;
		d.action = DECISION_FINDING;
	}
	if (d.action == DECISION_FINDING)
		p->st.findings++;
	p->st.decisions++;
	if (p->ops.decide)
		p->ops.decide(p->ctx, &d);
	pf->alerted |= d.action == DECISION_ALERT;
	if (d.action == DECISION_BAN) {
		pf->banned = true;
		if (!pf->stopped && p->ops.stop_client)
			p->ops.stop_client(p->ctx, &pf->f->key);
	}
}

static void emit(struct pflow *pf, const struct verdict *v, const char *reply)
{
	emit_rcpt(pf, v, reply, NULL);
}

/* A ban the wire itself proves (no score): a finding for a trusted
 * source, which is never banned. */
static void ban_now(struct pflow *pf, enum rg_reason reason, const char *code,
		    const char *detail)
{
	struct verdict v = { DECISION_BAN, reason, code };

	if (conf_is_trusted(pf->p->conf, &pf->src))
		v.action = DECISION_FINDING;
	emit(pf, &v, detail);
}

/* The MTA reads another stream than the daemon: a verified flow doing it
 * is evading (DESIGN: two versions of the same bytes). */
static void stream_conflict(struct pflow *pf, const char *detail)
{
	if (pf->conflict_reported)
		return;
	pf->conflict_reported = true;
	ban_now(pf, RG_REASON_STREAM_CONFLICT, "stream_conflict", detail);
}

static void signal_src(struct pflow *pf, enum policy_signal sig,
		       const char *reply)
{
	struct verdict v = { DECISION_FINDING, RG_REASON_NONE,
			     policy_signal_code(sig) };

	if (pf->banned)
		return; /* what a banned client does next adds to nothing */
	/* a spoofed source must not even add to a score */
	if (!flow_verified(pf->f) ||
	    policy_signal(pf->p->policy, &pf->src, sig, pf->p->now_ns, &v))
		emit(pf, &v, reply);
}

/* The client spent its sampling budget in the envelope, mostly on other
 * commands than RCPT and AUTH: whatever it sends next, a relay RCPT too,
 * goes unseen. Clients spend a few hundred bytes on EHLO and MAIL (many
 * recipients are RCPT bytes); an AUTH exchange under way or done is not
 * held against them, and a failed one is judged by the reply (the data
 * plane samples no client byte any more). */
static void check_padding(struct pflow *pf)
{
	const struct smtp *s = &pf->smtp;
	unsigned int budget = dpconfig_sample_bytes(&pf->p->conf->dp);

	if (pf->padding_signalled || pf->bytes_in < budget ||
	    s->other_bytes < budget / 2 ||
	    (s->flags & (SMTP_F_AUTHENTICATED | SMTP_F_IN_AUTH | SMTP_F_DONE)))
		return;
	pf->padding_signalled = true;
	signal_src(pf, SIG_ENVELOPE_PADDING,
		   "sampling budget spent, mostly on other commands than RCPT");
}

static void grade_rcpt(struct pflow *pf, const struct rcpt_event *e,
		       const char *reply)
{
	struct verdict v[POLICY_RCPT_MAX_VERDICTS];
	int i, n;

	n = policy_rcpt(pf->p->policy, e, v);
	for (i = 0; i < n; i++)
		emit_rcpt(pf, &v[i], reply, e->path);
}

/* The RCPT's domain is being asked about: graded when the answer is in
 * (pipeline_retry_deferred), neither banning an honest sender nor letting
 * a relay pass meanwhile. True when it was kept for later; with no room
 * left it is graded now (as not a relay) and counted. */
static bool defer_rcpt(struct pflow *pf, const struct rcpt_event *e,
		       const char *reply)
{
	struct pipeline *p = pf->p;
	struct deferred_rcpt *d;

	if (e->authenticated || conf_is_trusted(p->conf, e->src) ||
	    policy_classify_rcpt(p->conf, e->path) != RELAY_UNKNOWN)
		return false;
	if (!p->deferred)
		p->deferred = calloc(PIPELINE_MAX_DEFERRED, sizeof(*d));
	if (!p->deferred || p->n_deferred == PIPELINE_MAX_DEFERRED) {
		p->st.deferred_dropped++;
		return false;
	}
	d = &p->deferred[p->n_deferred++];
	d->key = pf->f->key;
	d->e = *e;
	d->src = *e->src;
	snprintf(d->path, sizeof(d->path), "%s", e->path);
	snprintf(d->reply, sizeof(d->reply), "%s", reply ? reply : "");
	p->st.deferred++;
	return true;
}

static bool retry_one(struct pipeline *p, struct deferred_rcpt *d,
		      uint64_t now_ns)
{
	struct flow *f;

	d->e.src = &d->src;
	d->e.path = d->path;
	if (policy_classify_rcpt(p->conf, d->path) == RELAY_UNKNOWN) {
		if (now_ns - d->e.now_ns < PIPELINE_DEFER_MAX_NS)
			return false;
		p->st.deferred_dropped++; /* no answer: not graded */
		return true;
	}
	f = flow_get(p->flows, &d->key, now_ns, false, NULL);
	if (f)
		grade_rcpt(flow_user(f), &d->e, d->reply);
	else
		p->st.deferred_dropped++; /* the session ended meanwhile */
	return true;
}

void pipeline_retry_deferred(struct pipeline *p, uint64_t now_ns)
{
	unsigned int i = 0;

	while (i < p->n_deferred) {
		if (!retry_one(p, &p->deferred[i], now_ns)) {
			i++;
			continue;
		}
		p->deferred[i] = p->deferred[--p->n_deferred];
	}
}

static void on_reply(void *ctx, struct smtp *s, enum smtp_verb verb,
		     const char *arg, const struct smtp_reply *r)
{
	struct pflow *pf = ctx;
	struct pipeline *p = pf->p;
	struct rcpt_event e = {
		.src = &pf->src,
		.client_port = ntohs(pf->f->key.client_port),
		/* a session begun before this daemon may have authenticated
		 * unseen: what the server accepted there is not held against
		 * it */
		.authenticated = (s->flags & SMTP_F_AUTHENTICATED) ||
				 (pf->adopted && r->code < 400),
		/* a spoofed source must not even add to a count, nor a
		 * banned one (graded only) */
		.counts = flow_verified(pf->f) && !pf->banned,
		.path = arg,
		.code = r->code,
		.n_rcpt = s->n_rcpt,
		.now_ns = p->now_ns,
	};

	switch (verb) {
	case SMTP_GREETING:
		p->st.smtp_sessions++;
		break;
	case SMTP_RCPT:
		if (!defer_rcpt(pf, &e, r->line))
			grade_rcpt(pf, &e, r->line);
		break;
	case SMTP_AUTH:
		if (r->code == 535)
			signal_src(pf, SIG_AUTH_FAILURE, r->line);
		break;
	default:
		break;
	}
}

/* The client sent its body while no reply to DATA could have reached it:
 * the record carrying it acknowledges no server byte the daemon has not
 * delivered (and none was lost). */
static bool body_unanswered(const struct pflow *pf)
{
	const struct pipeline *p = pf->p;

	return p->rec_dir == RG_DIR_IN && !(pf->smtp.flags & SMTP_F_BLIND) &&
	       (int32_t)(p->rec_ack - pf->f->dir[RG_DIR_OUT].next) <= 0;
}

static void on_finding(void *ctx, struct smtp *s, enum smtp_finding what,
		       const char *detail)
{
	struct pflow *pf = ctx;
	const char *code = smtp_finding_name(what);
	struct verdict v = { DECISION_FINDING, RG_REASON_NONE, code };

	(void)s;
	if (what == SMTP_FIND_NON_SMTP) {
		signal_src(pf, SIG_NON_SMTP, detail);
		return;
	}
	if (what == SMTP_FIND_UNAUTH_PIPELINING && body_unanswered(pf)) {
		ban_now(pf, RG_REASON_UNAUTH_PIPELINING, code, detail);
		return;
	}
	emit(pf, &v, detail);
}

static void on_pause(void *ctx, struct smtp *s)
{
	struct pflow *pf = ctx;
	struct pipeline *p = pf->p;

	(void)s;
	pf->paused = true;
	if (!pf->stopped && !pf->banned && p->ops.pause_client)
		p->ops.pause_client(p->ctx, &pf->f->key);
}

/* A new transaction from the position the server's reply acknowledges:
 * past a body the client stream skips there; the window and the padding
 * count start again. */
static void on_resume(void *ctx, struct smtp *s)
{
	struct pflow *pf = ctx;
	struct pipeline *p = pf->p;
	uint32_t seq = s->reply_ack;

	if (pf->paused && flow_skip(pf->f, RG_DIR_IN, seq)) {
		smtp_skip(s);
		pf->drain_in = true;
	}
	pf->paused = false;
	pf->win_in = seq;
	pf->win_set = true;
	pf->bytes_in = 0;
	s->other_bytes = 0;
	if (!pf->stopped && !pf->banned && p->ops.resume_client)
		p->ops.resume_client(p->ctx, &pf->f->key, seq);
}

static void stop_sampling(struct pflow *pf)
{
	if (pf->stopped || !pf->p->ops.stop_sampling)
		return;
	pf->stopped = true;
	pf->p->ops.stop_sampling(pf->p->ctx, &pf->f->key);
}

static void on_stop(void *ctx, struct smtp *s)
{
	(void)s;
	stop_sampling(ctx);
}

static const struct smtp_callbacks smtp_cb = {
	.reply = on_reply,
	.finding = on_finding,
	.stop = on_stop,
	.pause = on_pause,
	.resume = on_resume,
};

static void deliver(void *ctx, struct flow *f, int dir, const uint8_t *data,
		    size_t len)
{
	struct pflow *pf = flow_user(f);

	(void)ctx;
	if (!data) {
		pf->p->st.gaps++;
		smtp_gap(&pf->smtp, dir);
		return;
	}
	/* server bytes a client record unblocked: the last server ack holds */
	smtp_set_pos(&pf->smtp, dir, f->dir[dir].next - len,
		     pf->p->rec_dir == RG_DIR_OUT ? pf->p->rec_ack
						  : pf->smtp.reply_ack);
	smtp_feed(&pf->smtp, dir, data, len);
}

static void conflict(void *ctx, struct flow *f, int dir)
{
	(void)ctx;
	(void)dir;
	stream_conflict(flow_user(f), "two versions of the same client bytes");
}

static void release(void *ctx, struct flow *f)
{
	struct pflow *pf = flow_user(f);

	(void)ctx;
	smtp_free(&pf->smtp);
}

static void apply_limits(struct pipeline *p)
{
	const struct rg_conf *c = p->conf;

	flow_table_set_limits(p->flows, c->max_flows, c->flow_max_bytes,
			      dpconfig_sample_bytes(&c->dp),
			      c->evidence_dir_max_bytes > 0);
}

struct pipeline *pipeline_new(const struct rg_conf *conf,
			      const struct pipeline_ops *ops, void *ctx)
{
	struct flow_table_params fp = {
		.max_flows = conf->max_flows,
		.max_bytes = conf->flow_max_bytes,
		.sample_bytes = conf->dp.sample_bytes,
		.keep_samples = conf->evidence_dir_max_bytes > 0,
		.user_size = sizeof(struct pflow),
		.deliver = deliver,
		.release = release,
		.conflict = conflict,
	};
	struct pipeline *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->conf = conf;
	conf_local_domains_source(conf, p->local_src, sizeof(p->local_src));
	if (ops)
		p->ops = *ops;
	p->ctx = ctx;
	fp.ctx = p;
	p->flows = flow_table_new(&fp);
	p->policy = policy_new(conf);
	if (!p->flows || !p->policy) {
		pipeline_free(p);
		return NULL;
	}
	apply_limits(p);
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	flow_table_free(p->flows);
	policy_free(p->policy);
	free(p->deferred);
	free(p);
}

void pipeline_conf_changed(struct pipeline *p)
{
	conf_local_domains_source(p->conf, p->local_src, sizeof(p->local_src));
	apply_limits(p);
}

static void prefix_of(const struct rg_flow_key *k, struct prefix *src)
{
	memset(src, 0, sizeof(*src));
	src->family = k->family;
	src->len = prefix_host_len(k->family);
	memcpy(src->addr, k->client, k->family == AF_INET ? 4 : 16);
}

static struct flow *new_flow(struct pipeline *p, struct flow *f)
{
	struct pflow *pf = flow_user(f);

	pf->p = p;
	pf->f = f;
	smtp_init(&pf->smtp, &smtp_cb, pf);
	prefix_of(&f->key, &pf->src);
	return f;
}

int pipeline_adopt(struct pipeline *p, const struct rg_flow *dp)
{
	struct flow *f;
	struct pflow *pf;
	bool created;

	if (dp->flags & RG_FLOW_STOP)
		return 0; /* nothing more will be sampled */
	f = flow_get(p->flows, &dp->key, dp->last_ns, true, &created);
	if (!f)
		return -ENOMEM;
	if (!created)
		return 0;
	pf = flow_user(new_flow(p, f));
	pf->adopted = true;
	/* banned before this daemon: its replies are still graded */
	pf->banned = dp->flags & RG_FLOW_STOP_IN;
	if (dp->sampled_out)
		pf->smtp.flags |= SMTP_F_GREETED;
	if (dp->flags & RG_FLOW_SEEN_IN)
		pf->smtp.flags |= SMTP_F_SKIPPED;
	return 1;
}

static struct flow *lookup(struct pipeline *p, const struct rg_sample *s)
{
	bool create, created;
	struct flow *f;

	create = s->payload_len || (s->tcp_flags & RG_TCP_SYN);
	f = flow_get(p->flows, &s->flow, p->now_ns, create, &created);
	if (f && !created && s->dir == RG_DIR_OUT &&
	    (s->tcp_flags & (RG_TCP_SYN | RG_TCP_ACK)) ==
		    (RG_TCP_SYN | RG_TCP_ACK) &&
	    f->dir[RG_DIR_OUT].started &&
	    (!(f->state & FLOW_SEEN_SYNACK) ||
	     f->server_isn != ntohl(s->seq))) {
		/* the server answers a new connection on the 4-tuple (a
		 * client SYN alone proves nothing) */
		flow_delete(p->flows, f);
		f = flow_get(p->flows, &s->flow, p->now_ns, true, &created);
	}
	if (f && created)
		new_flow(p, f);
	return f;
}

/* Talking before the greeting: the client sends bytes while it has not
 * received a single server byte (its ACK still says server ISN + 1). */
static void check_pregreet(struct pflow *pf, const struct rg_sample *s)
{
	struct flow *f = pf->f;

	if (pf->pregreet ||
	    (pf->smtp.flags & (SMTP_F_GREETED | SMTP_F_CLIENT_TALKED)))
		return;
	if (f->state & FLOW_SEEN_SYNACK) {
		if (ntohl(s->ack) != f->server_isn + 1)
			return;
	} else if (f->dir[RG_DIR_OUT].started) {
		return;
	}
	pf->pregreet = true;
	signal_src(pf, SIG_PREGREET, NULL);
}

static bool valid_record(const void *record, size_t len)
{
	const struct rg_sample *s = record;

	if (len < sizeof(*s) || sizeof(*s) + s->payload_len > len)
		return false;
	if (s->dir > RG_DIR_OUT)
		return false;
	return s->flow.family == AF_INET || s->flow.family == AF_INET6;
}

/* New client sequence space sampled in this transaction's window (the
 * data plane charges its budget the same way: retransmissions are free). */
static void count_window(struct pflow *pf, uint32_t seq, uint32_t len)
{
	uint32_t end = seq + len;

	if (pf->paused)
		return;
	if (!pf->win_set) {
		pf->win_in = seq;
		pf->win_set = true;
	}
	if ((int32_t)(end - pf->win_in - pf->bytes_in) > 0)
		pf->bytes_in = end - pf->win_in;
}

/* What an ACK tells: the server's lets go of the client bytes it holds;
 * acks of bytes never sampled are losses, except the client's during a
 * body (not sampled by design). */
static void acked(struct pflow *pf, const struct rg_sample *s)
{
	struct flow *f = pf->f;
	uint32_t ack = ntohl(s->ack);

	if (!(s->tcp_flags & RG_TCP_ACK))
		return;
	if (s->dir == RG_DIR_OUT)
		flow_server_acked(f, ack);
	if (s->dir == RG_DIR_OUT && pf->paused)
		return;
	flow_acked(pf->p->flows, f, s->dir, ack);
}

/* Flow state changes only on what the server confirms: its RST, or both
 * FINs; a client RST the server may have ignored changes nothing (the
 * flow idles out if it was real). */
static bool closed(struct pipeline *p, struct flow *f,
		   const struct rg_sample *s)
{
	if (s->tcp_flags & RG_TCP_FIN) {
		f->state |= s->dir == RG_DIR_IN ? FLOW_FIN_IN : FLOW_FIN_OUT;
		/* the server's stream ends: what it lacks will not come */
		if (s->dir == RG_DIR_OUT)
			flow_flush(p->flows, f, RG_DIR_OUT);
	}
	if ((s->tcp_flags & RG_TCP_RST) && s->dir == RG_DIR_OUT)
		return true;
	return (f->state & (FLOW_FIN_IN | FLOW_FIN_OUT)) ==
	       (FLOW_FIN_IN | FLOW_FIN_OUT);
}

static void client_payload(struct pflow *pf, const struct rg_sample *s)
{
	struct pipeline *p = pf->p;
	uint32_t seq = ntohl(s->seq);

	check_pregreet(pf, s);
	/* Linux takes the urgent byte out of the stream the MTA reads (no
	 * SO_OOBINLINE), and no SMTP client sends urgent data */
	if (s->tcp_flags & RG_TCP_URG)
		stream_conflict(pf, "urgent data");
	flow_segment(p->flows, pf->f, RG_DIR_IN, seq, s->payload,
		     s->payload_len);
	count_window(pf, seq, s->payload_len);
}

int pipeline_feed(struct pipeline *p, const void *record, size_t len)
{
	const struct rg_sample *s = record;
	struct pflow *pf;
	struct flow *f;

	p->st.samples++;
	if (!valid_record(record, len))
		return -EINVAL;
	p->now_ns = s->ts_ns;
	p->rec_ack = ntohl(s->ack);
	p->rec_dir = s->dir;
	f = lookup(p, s);
	if (!f)
		return 0;
	pf = flow_user(f);
	if (f->state & FLOW_FINISHED) {
		/* in flight when sampling stopped: nothing more to learn */
		if ((s->tcp_flags & RG_TCP_RST) && s->dir == RG_DIR_OUT)
			flow_delete(p->flows, f);
		return 0;
	}
	flow_keep_sample(p->flows, f, s);
	if (flow_track(f, s->dir, s->tcp_flags, ntohl(s->seq), ntohl(s->ack)) &&
	    policy_session(p->policy, &pf->src, p->now_ns))
		signal_src(pf, SIG_SESSION_RATE,
			   NULL); /* verified sessions only */
	/* An adopted flow's handshake was not seen: the server sends bytes
	 * only on a connection whose handshake its client completed. */
	if (pf->adopted && s->payload_len && s->dir == RG_DIR_OUT &&
	    !(f->state & FLOW_SEEN_SYNACK))
		f->state |= FLOW_VERIFIED;
	/* before this record's bytes: what they answer was lost */
	acked(pf, s);
	if (s->payload_len && s->dir == RG_DIR_IN)
		client_payload(pf, s);
	else if (s->payload_len)
		flow_segment(p->flows, f, s->dir, ntohl(s->seq), s->payload,
			     s->payload_len);
	if (pf->drain_in) {
		pf->drain_in = false;
		flow_drain(p->flows, f, RG_DIR_IN);
	}
	check_padding(pf);
	if (closed(p, f, s)) {
		if (!flow_verified(f))
			p->st.flows_unverified++;
		flow_delete(p->flows, f);
	} else if (smtp_done(&pf->smtp) ||
		   (pf->banned && (f->state & FLOW_FIN_OUT))) {
		/* QUIT, STARTTLS, a banned client's server done talking: free
		 * the flow's buffers now, sampling stops; a tombstone catches
		 * what is in flight */
		stop_sampling(pf);
		flow_finish(p->flows, f, p->now_ns);
	}
	return 0;
}

void pipeline_tick(struct pipeline *p, uint64_t now_ns)
{
	const struct flow_stats *fs = flow_table_stats(p->flows);
	uint64_t before = fs->unverified;

	flow_expire(p->flows, now_ns,
		    p->conf->flow_idle_timeout * NSEC_PER_SEC);
	p->st.flows_unverified += fs->unverified - before;
	policy_tick(p->policy, now_ns);
	pipeline_retry_deferred(p, now_ns);
}

struct policy *pipeline_policy(struct pipeline *p)
{
	return p->policy;
}

const struct flow *pipeline_find_flow(struct pipeline *p,
				      const struct rg_flow_key *key)
{
	struct flow *f = flow_get(p->flows, key, p->now_ns, false, NULL);

	return f && !(f->state & FLOW_FINISHED) ? f : NULL;
}

const struct pipeline_stats *pipeline_stats(struct pipeline *p)
{
	const struct flow_stats *fs = flow_table_stats(p->flows);
	struct pipeline_stats *st = &p->st;

	st->flows_created = fs->created;
	st->flows_active = fs->active;
	st->flows_evicted_cap = fs->evicted_cap;
	st->flows_evicted_unverified = fs->evicted_unverified;
	st->flows_idle = fs->idle;
	st->bytes_dropped_cap = fs->bytes_dropped_cap;
	st->out_of_order = fs->out_of_order;
	return st;
}
