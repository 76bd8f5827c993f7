// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Relay grading and abuse scoring: see policy.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "dpconfig.h"
#include "flow.h"
#include "names.h"
#include "policy.h"
#include "srctable.h"

/* Per-source state, in a source table (srctable.h): keyed by the grouped
 * source, bounded by LRU, forgotten when idle. */
struct src_state {
	uint64_t window_start_ns;
	uint32_t score;
	uint32_t volume_score; /* the part of score from volume signals */
	uint32_t auth_failures;
	uint32_t relay_attempts; /* refused foreign RCPTs, each within
				  * score_window of the one before */
	uint64_t last_relay_ns;
	uint64_t minute_start_ns;
	uint32_t sessions;   /* in the current minute */
	bool rate_signalled; /* in the current minute */
};

/* Per-session state, keyed by client address and port: what the wire and
 * the policy service both report is counted once. */
struct session_state {
	uint32_t rcpt_hash[POLICY_SESSION_RCPTS]; /* foreign RCPTs counted */
	unsigned int n_hash;
	unsigned int n_policy_rcpts; /* RCPTs asked about on the socket */
	bool rcpts_signalled;
};

struct policy {
	const struct rg_conf *conf;
	struct src_table *sources;
	struct flow_table *sessions;
};

static const struct {
	enum rg_reason reason;
	const char *code;
} signals[SIG_MAX] = {
	[SIG_PREGREET] = { RG_REASON_PREGREET, "pregreet" },
	[SIG_NON_SMTP] = { RG_REASON_NON_SMTP, "non_smtp" },
	[SIG_AUTH_FAILURE] = { RG_REASON_AUTH_FAILURE, "auth_failure" },
	[SIG_TOO_MANY_RCPTS] = { RG_REASON_TOO_MANY_RCPTS, "too_many_rcpts" },
	[SIG_SESSION_RATE] = { RG_REASON_SESSION_RATE, "session_rate" },
	[SIG_ENVELOPE_PADDING] = { RG_REASON_ENVELOPE_PADDING,
				   "envelope_padding" },
};

struct policy *policy_new(const struct rg_conf *conf)
{
	struct flow_table_params sp = {
		.max_flows = POLICY_MAX_SESSIONS,
		.user_size = sizeof(struct session_state),
	};
	struct policy *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->conf = conf;
	p->sources =
		src_table_new(POLICY_MAX_SOURCES, sizeof(struct src_state));
	p->sessions = flow_table_new(&sp);
	if (!p->sources || !p->sessions) {
		policy_free(p);
		return NULL;
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	src_table_free(p->sources);
	flow_table_free(p->sessions);
	free(p);
}

void policy_tick(struct policy *p, uint64_t now_ns)
{
	uint64_t idle = p->conf->score_window;

	if (idle < 60)
		idle = 60;
	src_table_expire(p->sources, now_ns, idle * NSEC_PER_SEC);
	/* a session lives as long as the MTA lets it idle (smtpd_timeout) */
	idle = p->conf->flow_idle_timeout;
	if (idle < 300)
		idle = 300;
	flow_expire(p->sessions, now_ns, idle * NSEC_PER_SEC);
}

/* ---- relay classification ---- */

const char *relay_kind_name(enum relay_kind k)
{
	static const char *const names[] = {
		[RELAY_NONE] = "local",
		[RELAY_FOREIGN] = "foreign_domain",
		[RELAY_PERCENT] = "percent_hack",
		[RELAY_SOURCE_ROUTE] = "source_route",
		[RELAY_BANG] = "bang_path",
		[RELAY_IP_LITERAL] = "ip_literal",
		[RELAY_QUOTED] = "quoted_local_part",
		[RELAY_CUT_OFF] = "cut_off",
		[RELAY_UNKNOWN] = "locality_unknown",
	};

	return name_of(names, k, "unknown");
}

/* The end of a quoted local part starting at p[0] == '"', or NULL. */
static const char *quoted_end(const char *p, bool *hides)
{
	for (p++; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			if (*p == '@' || *p == '%' || *p == '!')
				*hides = true;
		} else if (*p == '"') {
			return p;
		} else if (*p == '@' || *p == '%' || *p == '!' || *p == ':') {
			*hides = true;
		}
	}
	return NULL;
}

enum relay_kind policy_classify_rcpt(const struct rg_conf *c, const char *path)
{
	const char *at, *qend;
	bool hides = false;
	size_t n;

	while (*path == ' ')
		path++;
	if (path[0] == '<') /* smtp.c keeps it on a path it could not close */
		return RELAY_CUT_OFF;
	if (path[0] == '@')
		return RELAY_SOURCE_ROUTE;
	if (path[0] == '"') {
		qend = quoted_end(path, &hides);
		if (!qend || hides)
			return RELAY_QUOTED;
		at = strchr(qend, '@');
	} else {
		at = strrchr(path, '@');
		/* the whole local part, however long */
		n = at ? (size_t)(at - path) : strlen(path);
		if (memchr(path, ':', n))
			return RELAY_SOURCE_ROUTE;
		if (memchr(path, '%', n))
			return RELAY_PERCENT;
		if (memchr(path, '!', n))
			return RELAY_BANG;
	}
	if (!at) /* "postmaster" and other bare local parts */
		return RELAY_NONE;
	if (at[1] == '[')
		return RELAY_IP_LITERAL;
	if (!at[1])
		return RELAY_FOREIGN; /* "u@": no domain, not ours either */
	switch (conf_domain_locality(c, at + 1)) {
	case MTA_LOCAL:
		return RELAY_NONE;
	case MTA_UNKNOWN:
		return RELAY_UNKNOWN;
	default:
		return RELAY_FOREIGN;
	}
}

bool policy_is_relay(const struct rg_conf *c, const struct prefix *src,
		     bool authenticated, const char *path)
{
	enum relay_kind k;

	if (authenticated || !path || conf_is_trusted(c, src))
		return false;
	k = policy_classify_rcpt(c, path);
	return k != RELAY_NONE && k != RELAY_UNKNOWN;
}

/* ---- per-source scores ---- */

static struct src_state *source(struct policy *p, const struct prefix *src,
				uint64_t now_ns)
{
	return src_table_get(p->sources, src,
			     dpconfig_ipv6_prefix(&p->conf->dp), now_ns);
}

/* A new score window once the last one is over. */
static void window(const struct rg_conf *c, struct src_state *s,
		   uint64_t now_ns)
{
	if (s->window_start_ns &&
	    now_ns - s->window_start_ns < c->score_window * NSEC_PER_SEC)
		return;
	s->window_start_ns = now_ns ? now_ns : 1;
	s->score = 0;
	s->volume_score = 0;
	s->auth_failures = 0;
}

static void reset_scores(struct src_state *s)
{
	s->score = 0;
	s->volume_score = 0;
	s->auth_failures = 0;
	s->relay_attempts = 0;
}

static bool volume_signal(enum policy_signal sig)
{
	return sig == SIG_TOO_MANY_RCPTS || sig == SIG_SESSION_RATE;
}

/* weight added to s for sig: volume signals together stay below the
 * threshold, a single one as heavy as the threshold excepted. */
static unsigned int add_weight(const struct rg_conf *c, struct src_state *s,
			       enum policy_signal sig, unsigned int weight)
{
	unsigned int room;

	if (volume_signal(sig) && weight < c->score_threshold) {
		room = c->score_threshold - 1 > s->volume_score
			       ? c->score_threshold - 1 - s->volume_score
			       : 0;
		if (weight > room)
			weight = room;
		s->volume_score += weight;
	}
	s->score += weight;
	return weight;
}

const char *policy_signal_code(enum policy_signal sig)
{
	return sig < SIG_MAX ? signals[sig].code : "unknown";
}

int policy_signal(struct policy *p, const struct prefix *src,
		  enum policy_signal sig, uint64_t now_ns, struct verdict *out)
{
	const struct rg_conf *c = p->conf;
	static const size_t weight_off[SIG_MAX] = {
		[SIG_PREGREET] = offsetof(struct rg_conf, weight_pregreet),
		[SIG_NON_SMTP] = offsetof(struct rg_conf, weight_non_smtp),
		[SIG_AUTH_FAILURE] =
			offsetof(struct rg_conf, weight_auth_failure),
		[SIG_TOO_MANY_RCPTS] =
			offsetof(struct rg_conf, weight_too_many_rcpts),
		[SIG_SESSION_RATE] =
			offsetof(struct rg_conf, weight_session_rate),
		[SIG_ENVELOPE_PADDING] =
			offsetof(struct rg_conf, weight_envelope_padding),
	};
	unsigned int weight;
	struct src_state *s;

	if (sig >= SIG_MAX)
		return 0;
	weight = *(const unsigned int *)((const char *)c + weight_off[sig]);
	*out = (struct verdict){ DECISION_FINDING, signals[sig].reason,
				 signals[sig].code };
	if (conf_is_trusted(c, src))
		return 1;
	s = source(p, src, now_ns);
	if (!s)
		return 1;
	window(c, s, now_ns);
	weight = add_weight(c, s, sig, weight);
	if (sig == SIG_AUTH_FAILURE &&
	    ++s->auth_failures >= c->auth_failures_ban &&
	    c->auth_failures_ban) {
		out->action = DECISION_BAN;
	} else if (weight && s->score >= c->score_threshold) {
		out->action = DECISION_BAN;
		if (weight < c->score_threshold) {
			out->reason = RG_REASON_ABUSE_SCORE;
			out->code = "abuse_score";
		}
	}
	if (out->action == DECISION_BAN)
		reset_scores(s);
	return 1;
}

bool policy_session(struct policy *p, const struct prefix *src, uint64_t now_ns)
{
	struct src_state *s;

	if (conf_is_trusted(p->conf, src))
		return false;
	s = source(p, src, now_ns);
	if (!s)
		return false;
	if (now_ns - s->minute_start_ns >= 60 * NSEC_PER_SEC ||
	    !s->minute_start_ns) {
		s->minute_start_ns = now_ns ? now_ns : 1;
		s->sessions = 0;
		s->rate_signalled = false;
	}
	s->sessions++;
	if (s->sessions <= p->conf->sessions_per_minute || s->rate_signalled)
		return false;
	s->rate_signalled = true;
	return true;
}

uint64_t policy_ban_duration(const struct rg_conf *c, unsigned int offences)
{
	uint64_t d = c->ban_time;
	unsigned int i;

	if (c->ban_time == DURATION_PERMANENT)
		return DURATION_PERMANENT;
	for (i = 1; i < offences && d < c->ban_time_max; i++) {
		if (d > c->ban_time_max /
				(c->ban_time_factor ? c->ban_time_factor : 1))
			return c->ban_time_max;
		d *= c->ban_time_factor;
	}
	return d < c->ban_time_max ? d : c->ban_time_max;
}

/* ---- RCPTs: relay grading, counted once per session ---- */

static struct session_state *session(struct policy *p,
				     const struct rcpt_event *e)
{
	struct rg_flow_key key;
	struct flow *f;

	if (!e->client_port)
		return NULL;
	flow_key_client(&key, e->src, e->client_port);
	f = flow_get(p->sessions, &key, e->now_ns, true, NULL);
	return f ? flow_user(f) : NULL;
}

/* FNV-1a over the path, case-folded: the wire and the MTA may differ in
 * case and in the angle brackets around it. */
static uint32_t path_hash(const char *path)
{
	uint32_t h = 2166136261u;

	for (; *path; path++) {
		if (*path == '<' || *path == '>')
			continue;
		h ^= (unsigned char)(*path >= 'A' && *path <= 'Z' ? *path + 32
								  : *path);
		h *= 16777619u;
	}
	return h;
}

/* True when the session already counted this path (the other observer
 * reported it); else remembers it. */
static bool counted_before(struct session_state *ss, const char *path)
{
	uint32_t h = path_hash(path);
	unsigned int i;

	if (!ss)
		return false;
	for (i = 0; i < ss->n_hash && i < POLICY_SESSION_RCPTS; i++)
		if (ss->rcpt_hash[i] == h)
			return true;
	ss->rcpt_hash[ss->n_hash++ % POLICY_SESSION_RCPTS] = h;
	return false;
}

/* A refused plain foreign RCPT: a finding worth threshold/N of the score,
 * a ban at the relay_attempts_ban-th within score_window of the last, or
 * when it brings the score without its volume part to the threshold. */
static void relay_attempt(struct policy *p, const struct rcpt_event *e,
			  struct verdict *v)
{
	const struct rg_conf *c = p->conf;
	unsigned int need = c->relay_attempts_ban ? c->relay_attempts_ban : 1;
	struct src_state *s;

	*v = (struct verdict){ DECISION_FINDING, RG_REASON_RELAY_ATTEMPT,
			       "relay_attempt" };
	s = e->counts ? source(p, e->src, e->now_ns) : NULL;
	if (!s) {
		if (need <= 1)
			v->action = DECISION_BAN;
		return;
	}
	if (!s->last_relay_ns ||
	    e->now_ns - s->last_relay_ns >= c->score_window * NSEC_PER_SEC)
		s->relay_attempts = 0;
	s->last_relay_ns = e->now_ns ? e->now_ns : 1;
	window(c, s, e->now_ns);
	if (++s->relay_attempts >= need) {
		v->action = DECISION_BAN;
	} else {
		s->score += (c->score_threshold + need - 1) / need;
		/* a bulk sender's volume does not make its one misdirected
		 * message a ban; an abuse signal with it does */
		if (s->score - s->volume_score >= c->score_threshold) {
			v->action = DECISION_BAN;
			v->reason = RG_REASON_ABUSE_SCORE;
			v->code = "abuse_score";
		}
	}
	if (v->action == DECISION_BAN)
		reset_scores(s);
}

/* The relay verdicts of one RCPT; returns how many (0-2). */
static int grade_relay(struct policy *p, const struct rcpt_event *e,
		       struct session_state *ss, struct verdict *out)
{
	enum relay_kind k;

	if (!policy_is_relay(p->conf, e->src, e->authenticated, e->path))
		return 0;
	k = policy_classify_rcpt(p->conf, e->path);
	if (e->code >= 200 && e->code < 300) {
		out[0] = (struct verdict){ DECISION_ALERT,
					   RG_REASON_RELAY_ACCEPTED,
					   "relay_accepted" };
		out[1] = (struct verdict){ DECISION_BAN,
					   RG_REASON_RELAY_ACCEPTED,
					   "relay_accepted" };
		return 2;
	}
	if (e->code && e->code < 400)
		return 0; /* 3xx to a RCPT is not SMTP; nothing to grade */
	/* 4xx/5xx, or 0: the reply was not seen, the command is the attempt */
	if (k != RELAY_FOREIGN) {
		out[0] = (struct verdict){ DECISION_BAN, RG_REASON_RELAY_PROBE,
					   "relay_probe" };
		return 1;
	}
	if (e->counts && counted_before(ss, e->path))
		return 0;
	relay_attempt(p, e, &out[0]);
	return 1;
}

/* More than max_rcpts in the session: once per session, whoever saw it. */
static bool too_many_rcpts(struct policy *p, const struct rcpt_event *e,
			   struct session_state *ss)
{
	unsigned int n = e->n_rcpt;

	if (!n && ss)
		n = ++ss->n_policy_rcpts;
	if (n <= p->conf->max_rcpts || (ss && ss->rcpts_signalled))
		return false;
	if (ss)
		ss->rcpts_signalled = true;
	/* without a session key, only the RCPT that crosses the limit */
	return ss || n == p->conf->max_rcpts + 1;
}

int policy_rcpt(struct policy *p, const struct rcpt_event *e,
		struct verdict out[POLICY_RCPT_MAX_VERDICTS])
{
	struct session_state *ss = session(p, e);
	int n;

	n = grade_relay(p, e, ss, out);
	if (!too_many_rcpts(p, e, ss))
		return n;
	out[n] = (struct verdict){ DECISION_FINDING, RG_REASON_NONE,
				   policy_signal_code(SIG_TOO_MANY_RCPTS) };
	if (e->counts)
		policy_signal(p, e->src, SIG_TOO_MANY_RCPTS, e->now_ns,
			      &out[n]);
	return n + 1;
}
