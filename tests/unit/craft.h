/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Test helpers: craft sample records the way the data plane writes them and
 * collect the pipeline's decisions. Header-only, for tests/unit. */
#ifndef RG_TEST_CRAFT_H
#define RG_TEST_CRAFT_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "pipeline.h"

#define CRAFT_MAX_DECISIONS 64

struct seen_decision {
	enum decision_action action;
	enum rg_reason reason;
	char code[32];
	char rcpt_to[128];
	char reply[128];
	char source[64];
	bool unverified;
};

struct collector {
	struct seen_decision d[CRAFT_MAX_DECISIONS];
	int n;
	int stops;	  /* both sides */
	int client_stops; /* the client's side (a ban) */
	int pauses, resumes;
	uint32_t resume_seq; /* the last resume's */
};

static inline void collect_decide(void *ctx, const struct decision *d)
{
	struct collector *c = ctx;
	struct seen_decision *s;

	if (c->n >= CRAFT_MAX_DECISIONS)
		return;
	s = &c->d[c->n++];
	s->action = d->action;
	s->reason = d->reason;
	s->unverified = d->unverified;
	snprintf(s->code, sizeof(s->code), "%s", d->code ? d->code : "");
	snprintf(s->rcpt_to, sizeof(s->rcpt_to), "%s",
		 d->rcpt_to ? d->rcpt_to : "");
	snprintf(s->reply, sizeof(s->reply), "%s", d->reply ? d->reply : "");
	format_prefix(&d->source, s->source, sizeof(s->source));
}

static inline void collect_stop(void *ctx, const struct rg_flow_key *key)
{
	struct collector *c = ctx;

	(void)key;
	c->stops++;
}

static inline void collect_stop_client(void *ctx, const struct rg_flow_key *key)
{
	struct collector *c = ctx;

	(void)key;
	c->client_stops++;
}

static inline void collect_pause(void *ctx, const struct rg_flow_key *key)
{
	struct collector *c = ctx;

	(void)key;
	c->pauses++;
}

static inline void collect_resume(void *ctx, const struct rg_flow_key *key,
				  uint32_t seq)
{
	struct collector *c = ctx;

	(void)key;
	c->resumes++;
	c->resume_seq = seq;
}

static const struct pipeline_ops collect_ops = {
	.decide = collect_decide,
	.stop_sampling = collect_stop,
	.stop_client = collect_stop_client,
	.pause_client = collect_pause,
	.resume_client = collect_resume,
};

/* How many decisions have this action and code. */
static inline int collected(const struct collector *c,
			    enum decision_action a, const char *code)
{
	int i, n = 0;

	for (i = 0; i < c->n; i++)
		if (c->d[i].action == a && (!code || !strcmp(c->d[i].code, code)))
			n++;
	return n;
}

/* One TCP connection seen from the data plane. */
struct craft {
	struct pipeline *p;
	struct rg_flow_key key;
	uint32_t cseq, sseq; /* next seq of each side, host order */
	uint32_t ack_skew; /* added to the client's ACKs (a blind spoofer) */
	uint64_t ts;
};

static inline void craft_init(struct craft *c, struct pipeline *p,
			      const char *client, uint16_t cport)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->key.family = AF_INET;
	inet_pton(AF_INET, client, c->key.client);
	inet_pton(AF_INET, "10.77.0.1", c->key.server);
	c->key.client_port = htons(cport);
	c->key.server_port = htons(25);
	c->cseq = 1000 + cport * 13;
	c->sseq = 900000 + cport * 7;
	c->ts = 1000000000ULL;
}

/* A record with an explicit seq/ack/flags and payload. */
static inline int craft_raw(struct craft *c, int dir, uint8_t flags,
			    uint32_t seq, uint32_t ack, const void *data,
			    size_t len)
{
	uint8_t buf[sizeof(struct rg_sample) + RG_SAMPLE_PAYLOAD_MAX];
	struct rg_sample *s = (struct rg_sample *)buf;

	if (len > RG_SAMPLE_PAYLOAD_MAX)
		len = RG_SAMPLE_PAYLOAD_MAX;
	memset(s, 0, sizeof(*s));
	s->ts_ns = c->ts += 1000;
	s->flow = c->key;
	s->seq = htonl(seq);
	s->ack = htonl(ack);
	s->payload_len = len;
	s->dir = dir;
	s->tcp_flags = flags;
	if (len)
		memcpy(s->payload, data, len);
	return pipeline_feed(c->p, s, sizeof(*s) + len);
}

static inline void craft_handshake(struct craft *c)
{
	craft_raw(c, RG_DIR_IN, RG_TCP_SYN, c->cseq, 0, NULL, 0);
	craft_raw(c, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, c->sseq, c->cseq + 1,
		  NULL, 0);
	c->cseq++;
	c->sseq++;
	craft_raw(c, RG_DIR_IN, RG_TCP_ACK, c->cseq, c->sseq, NULL, 0);
}

static inline void craft_client(struct craft *c, const char *text)
{
	size_t len = strlen(text);

	craft_raw(c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c->cseq,
		  c->sseq + c->ack_skew, text, len);
	c->cseq += len;
}

static inline void craft_server(struct craft *c, const char *text)
{
	size_t len = strlen(text);

	craft_raw(c, RG_DIR_OUT, RG_TCP_PSH | RG_TCP_ACK, c->sseq, c->cseq,
		  text, len);
	c->sseq += len;
}

/* The lab's policy: example.test is local, 10.77.1.0/24 is trusted. */
static inline struct rg_conf *lab_conf(void)
{
	static struct rg_conf c;
	char err[256];

	if (conf_parse("lab", "local_domains = example.test, *.example.test\n"
			      "trusted_networks = 10.77.1.0/24\n",
		       &c, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return &c;
}

/* Defines p, a pipeline on lab_conf() whose decisions go to col, and the
 * cmocka fixture pair setup/teardown that gives each test a fresh one. */
#define CRAFT_LAB_PIPELINE_FIXTURE(p, col)                                     \
	static struct pipeline *p;                                             \
	static struct collector col;                                           \
                                                                               \
	static int setup(void **state)                                         \
	{                                                                      \
		(void)state;                                                   \
		memset(&col, 0, sizeof(col));                                  \
		p = pipeline_new(lab_conf(), &collect_ops, &col);              \
		return p ? 0 : -1;                                             \
	}                                                                      \
                                                                               \
	static int teardown(void **state)                                      \
	{                                                                      \
		(void)state;                                                   \
		pipeline_free(p);                                              \
		return 0;                                                      \
	}

#endif
