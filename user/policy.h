/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the SMTP dialogue means: relay attempts graded by the server's reply,
 * and weighted abuse signals summed per source within a window. Decides,
 * never acts: the pipeline turns verdicts into decisions. */
#ifndef RG_POLICY_H
#define RG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "parse.h"
#include "decision.h"

#define POLICY_MAX_SOURCES   65536 /* per-source score entries kept */
#define POLICY_MAX_SESSIONS  65536 /* sessions remembered for dedup */
#define POLICY_SESSION_RCPTS 8	   /* foreign RCPTs remembered per session */

/* What a RCPT path asks for, from the gateway's point of view. */
enum relay_kind {
	RELAY_NONE = 0,	    /* a local recipient */
	RELAY_FOREIGN,	    /* a domain that is not local */
	RELAY_PERCENT,	    /* u%other@local */
	RELAY_SOURCE_ROUTE, /* @a:u@b, <@a,@b:u@c> */
	RELAY_BANG,	    /* b!u, b!u@local */
	RELAY_IP_LITERAL,   /* u@[192.0.2.1] */
	RELAY_QUOTED,	    /* "u@x"@local, "u%x"@local */
	RELAY_CUT_OFF,	    /* <u@... its end cut off by the line limit */
	/* a plain address whose domain Postfix is being asked about
	 * (local_domains = postfix:DIR): graded once the answer is in */
	RELAY_UNKNOWN,
};

enum policy_signal {
	SIG_PREGREET,
	SIG_NON_SMTP,
	SIG_AUTH_FAILURE,
	SIG_TOO_MANY_RCPTS,
	SIG_SESSION_RATE,
	SIG_ENVELOPE_PADDING,
	SIG_MAX,
};

struct verdict {
	enum decision_action action;
	enum rg_reason reason;
	const char *code;
};

struct policy;

/* conf is borrowed: it outlives the policy; a reload rewrites it. */
struct policy *policy_new(const struct rg_conf *conf);
void policy_free(struct policy *p);
/* Forget sources idle for longer than the score window. */
void policy_tick(struct policy *p, uint64_t now_ns);

enum relay_kind policy_classify_rcpt(const struct rg_conf *c, const char *path);
const char *relay_kind_name(enum relay_kind k);

/* One RCPT of a session, from the wire (code: the server's reply) or from
 * the MTA's policy service (code 0: asked before the reply). A session is
 * its client address and port: a RCPT seen on both the wire and the policy
 * socket counts once. */
struct rcpt_event {
	const struct prefix *src; /* the client (host address) */
	uint16_t client_port;	  /* host order; 0: not known (no dedup) */
	bool authenticated;
	bool counts; /* false: graded but adds to no count (unverified flow) */
	const char *path;  /* as the client wrote it */
	unsigned int code; /* the reply; 0: not seen */
	unsigned int
		n_rcpt; /* RCPTs of the session so far, this one included */
	uint64_t now_ns;
};

#define POLICY_RCPT_MAX_VERDICTS 3

/* Grade one RCPT. Fills up to 3 verdicts (alert then ban for an accepted
 * relay; a too_many_rcpts signal): returns how many. A refused plain
 * foreign RCPT is a finding that adds to the source's score until it is
 * the relay_attempts_ban-th within score_window of the last one: then a
 * ban. Probe forms and accepted relays ban at once. Trusted sources and
 * authenticated sessions get no relay verdict. */
int policy_rcpt(struct policy *p, const struct rcpt_event *e,
		struct verdict out[POLICY_RCPT_MAX_VERDICTS]);

/* The RCPT asks this gateway to relay (unauthenticated, untrusted client,
 * foreign or probe-form path): what an MTA should refuse. Not while the
 * domain's locality is RELAY_UNKNOWN: the policy service then answers
 * DUNNO (Postfix's own restrictions decide) and grades nothing. */
bool policy_is_relay(const struct rg_conf *c, const struct prefix *src,
		     bool authenticated, const char *path);

/* The signal's name in events ("pregreet", ...). */
const char *policy_signal_code(enum policy_signal sig);

/* One weighted signal from src at now_ns: a finding, or a ban once the
 * source's score (or its AUTH failures) reaches the threshold. Volume
 * signals (too_many_rcpts, session_rate) are what a legitimate bulk sender
 * shows: together they add at most score_threshold - 1 within a window, so
 * they never ban alone (unless one weight is >= score_threshold). Returns
 * 1 with *out filled. */
int policy_signal(struct policy *p, const struct prefix *src,
		  enum policy_signal sig, uint64_t now_ns, struct verdict *out);

/* A new session from src; true when src is over sessions_per_minute (the
 * caller then raises SIG_SESSION_RATE). */
bool policy_session(struct policy *p, const struct prefix *src,
		    uint64_t now_ns);

/* ban_time * ban_time_factor^(offences-1), capped at ban_time_max
 * (seconds; offences >= 1, 0 counts as 1). */
uint64_t policy_ban_duration(const struct rg_conf *c, unsigned int offences);

#endif
