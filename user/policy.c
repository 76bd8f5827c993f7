// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Relay grading and abuse scoring: see policy.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "flow.h"
#include "policy.h"

/* Per-source state lives in a flow table keyed by the grouped source (the
 * table's LRU, cap and expiry are exactly what this needs). */
struct src_state {
	uint64_t window_start_ns;
	uint32_t score;
	uint32_t auth_failures;
	uint64_t minute_start_ns;
	uint32_t sessions; /* in the current minute */
	bool rate_signalled; /* in the current minute */
};

struct policy {
	const struct rg_conf *conf;
	struct flow_table *sources;
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
	struct flow_table_params fp = {
		.max_flows = POLICY_MAX_SOURCES,
		.max_bytes = 0,
		.user_size = sizeof(struct src_state),
	};
	struct policy *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->conf = conf;
	p->sources = flow_table_new(&fp);
	if (!p->sources) {
		free(p);
		return NULL;
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	flow_table_free(p->sources);
	free(p);
}

void policy_set_conf(struct policy *p, const struct rg_conf *conf)
{
	p->conf = conf;
}

void policy_tick(struct policy *p, uint64_t now_ns)
{
	uint64_t idle = p->conf->score_window;

	if (idle < 60)
		idle = 60;
	flow_expire(p->sources, now_ns, idle * NSEC_PER_SEC);
}

/* ---- relay classification ---- */

const char *relay_kind_name(enum relay_kind k)
{
	static const char *const names[] = {
		"local", "foreign_domain", "percent_hack", "source_route",
		"bang_path", "ip_literal", "quoted_local_part", "cut_off",
	};

	return k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
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

enum relay_kind policy_classify_rcpt(const struct rg_conf *c,
				     const char *path)
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
	return conf_is_local_domain(c, at + 1) ? RELAY_NONE : RELAY_FOREIGN;
}

int policy_rcpt(const struct rg_conf *c, const struct prefix *src,
		bool authenticated, const char *path, unsigned int code,
		struct verdict out[2])
{
	enum relay_kind k;

	if (authenticated || conf_is_trusted(c, src) || !path)
		return 0;
	k = policy_classify_rcpt(c, path);
	if (k == RELAY_NONE)
		return 0;
	if (code >= 200 && code < 300) {
		out[0] = (struct verdict){ DECISION_ALERT,
					   RG_REASON_RELAY_ACCEPTED,
					   "relay_accepted" };
		out[1] = (struct verdict){ DECISION_BAN,
					   RG_REASON_RELAY_ACCEPTED,
					   "relay_accepted" };
		return 2;
	}
	if (code && code < 400)
		return 0; /* 3xx to a RCPT is not SMTP; nothing to grade */
	/* 4xx/5xx, or 0: the reply was not seen, the command is the attempt */
	if (k == RELAY_FOREIGN)
		out[0] = (struct verdict){ DECISION_BAN, RG_REASON_RELAY_ATTEMPT,
					   "relay_attempt" };
	else
		out[0] = (struct verdict){ DECISION_BAN, RG_REASON_RELAY_PROBE,
					   "relay_probe" };
	return 1;
}

/* ---- per-source scores ---- */

static struct src_state *source(struct policy *p, const struct prefix *src,
				uint64_t now_ns)
{
	struct rg_flow_key key;
	struct prefix g = *src;
	struct flow *f;
	unsigned int plen = p->conf->dp.ipv6_prefix;

	if (g.family == AF_INET6) {
		g.len = plen ? plen : RG_DEFAULT_IPV6_PREFIX;
		prefix_mask(&g);
	}
	memset(&key, 0, sizeof(key));
	memcpy(key.client, g.addr, sizeof(key.client));
	key.family = g.family;
	f = flow_get(p->sources, &key, now_ns, true, NULL);
	return f ? flow_user(f) : NULL;
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
		[SIG_AUTH_FAILURE] = offsetof(struct rg_conf, weight_auth_failure),
		[SIG_TOO_MANY_RCPTS] =
			offsetof(struct rg_conf, weight_too_many_rcpts),
		[SIG_SESSION_RATE] = offsetof(struct rg_conf, weight_session_rate),
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
	if (now_ns - s->window_start_ns >= c->score_window * NSEC_PER_SEC ||
	    !s->window_start_ns) {
		s->window_start_ns = now_ns ? now_ns : 1;
		s->score = 0;
		s->auth_failures = 0;
	}
	s->score += weight;
	if (sig == SIG_AUTH_FAILURE && ++s->auth_failures >= c->auth_failures_ban &&
	    c->auth_failures_ban) {
		out->action = DECISION_BAN;
	} else if (weight && s->score >= c->score_threshold) {
		out->action = DECISION_BAN;
		if (weight < c->score_threshold) {
			out->reason = RG_REASON_ABUSE_SCORE;
			out->code = "abuse_score";
		}
	}
	if (out->action == DECISION_BAN) {
		s->score = 0;
		s->auth_failures = 0;
	}
	return 1;
}

bool policy_session(struct policy *p, const struct prefix *src,
		    uint64_t now_ns)
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
		if (d > c->ban_time_max / (c->ban_time_factor ? c->ban_time_factor : 1))
			return c->ban_time_max;
		d *= c->ban_time_factor;
	}
	return d < c->ban_time_max ? d : c->ban_time_max;
}
