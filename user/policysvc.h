/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Postfix policy service (SMTPD_POLICY_README): smtpd asks with
 * `name=value` lines ended by an empty line and reads `action=...` and an
 * empty line; the connection stays open for more requests, which may be
 * pipelined. What TLS hides from the wire, smtpd tells here. Every RCPT
 * feeds the pipeline's policy (policy_rcpt) and its decisions go out like
 * the wire's, marked via "policy". The parser (psvc_parse) touches no
 * socket: unit tests and tests/fuzz/fuzz_policy.c drive it alone. */
#ifndef RG_POLICYSVC_H
#define RG_POLICYSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "parse.h"
#include "sockspec.h"
#include "pipeline.h"

struct rg_conf;
struct policy;

/* Postfix's requests are ~600 bytes; a client certificate's subject and
 * issuer make the longest lines. */
#define PSVC_LINE_MAX	 2048 /* one attribute line, its newline excluded */
#define PSVC_REQUEST_MAX 8192 /* one request, its empty line included */
#define PSVC_ATTRS_MAX	 64
#define PSVC_ANSWER_MAX	 256
/* A request begun and not ended within this time: the client is stuck or
 * hostile (smtpd writes a request at once). */
#define PSVC_PARTIAL_TIMEOUT_S	10
#define PSVC_PARTIAL_TIMEOUT_NS (PSVC_PARTIAL_TIMEOUT_S * 1000000000ULL)

/* The attributes relayguard reads; NULL when absent. */
struct psvc_request {
	const char *request, *protocol_state, *client_address, *client_port,
		*server_address, *server_port, *helo_name, *sender, *recipient,
		*sasl_username, *instance, *encryption_protocol;
	unsigned int n_attrs;
};

/* The first request in buf[0..len), parsed in place (its '=' and newlines
 * become NULs; the fields point into buf). Returns its length (> 0) with
 * *req filled, 0 when more bytes are needed, or -EMSGSIZE (a line, the
 * request or the attribute count over its limit) or -EBADMSG (a control
 * byte, a line that is not name=value, no request=smtpd_access_policy)
 * with *why saying what. */
int psvc_parse(char *buf, size_t len, struct psvc_request *req,
	       const char **why);

/* What the service needs from the daemon. */
struct policysvc_ops {
	/* A decision, as the pipeline's (d->via = "policy"). */
	void (*decide)(void *ctx, const struct decision *d);
	/* src (a host address) is banned now. */
	bool (*banned)(void *ctx, const struct prefix *src);
	/* The wire's flow of the session, for evidence (may be NULL). */
	const struct flow *(*find_flow)(void *ctx,
					const struct rg_flow_key *key);
};

struct policysvc_stats {
	uint64_t connections, requests, rejects;
	uint64_t refused_cap;  /* connections over policy_max_connections */
	uint64_t refused_peer; /* inet peers outside loopback and trusted */
	uint64_t refused_user; /* local peers neither root nor allowed */
	uint64_t bad_input;    /* connections closed for what they sent */
	uint64_t stalled;      /* closed with a request begun and never ended */
	uint64_t log_suppressed; /* lines over the log rate */
	uint64_t active;	 /* connections open now */
};

struct policysvc;

/* conf and policy are borrowed: they outlive the service, and a reload
 * rewrites conf in place. */
struct policysvc *policysvc_new(const struct rg_conf *conf,
				struct policy *policy,
				const struct policysvc_ops *ops, void *ctx);
void policysvc_free(struct policysvc *s);

/* Listen on conf->policy_service. 0, or a negative errno with err saying
 * what failed. */
int policysvc_listen(struct policysvc *s, char *err, size_t errlen);
/* An epoll fd for the daemon's loop: readable when policysvc_run() has
 * work. */
int policysvc_fd(const struct policysvc *s);
/* Accept, read, answer and write what is ready; never blocks. */
void policysvc_run(struct policysvc *s);
/* Close connections whose request was begun too long ago. */
void policysvc_tick(struct policysvc *s, uint64_t now_ns);
const struct policysvc_stats *policysvc_stats(const struct policysvc *s);

/* The answer to one request ("action=DUNNO\n\n", "action=REJECT ..."),
 * deciding through the policy; no socket. Returns its length. */
size_t policysvc_answer(struct policysvc *s, const struct psvc_request *r,
			uint64_t now_ns, char *out, size_t size);

#endif
