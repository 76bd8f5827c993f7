/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* From sample records to decisions: flow table and reassembly (flow.c), the
 * SMTP dialogue (smtp.c), policy (policy.c). Fed by the daemon's ring-buffer
 * callback or by a pcap replay; touches no maps and no files itself: what
 * the outside world must do arrives through struct pipeline_ops. */
#ifndef RG_PIPELINE_H
#define RG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "relayguard.h"

struct rg_conf;
struct flow;

enum decision_action {
	DECISION_BAN,
	DECISION_ALERT, /* critical: e.g. the gateway accepted a relay */
	DECISION_FINDING, /* worth logging, no ban by itself */
	DECISION_UNBAN, /* never from the pipeline: for the event log */
};

/* Strings point into the flow and live until the callback returns. */
struct decision {
	enum decision_action action;
	enum rg_reason reason; /* for bans and alerts */
	const char *code; /* snake_case: "relay_attempt", "bare_lf", ... */
	struct prefix source; /* the client (host address) */
	struct rg_flow_key flow_key;
	uint64_t sample_ns; /* boot clock of the sample that decided it */
	const char *helo, *mail_from, *rcpt_to, *reply; /* may be NULL */
	const struct flow *flow; /* for evidence: flow_for_each_sample() */
	/* The flow's handshake was not verified: every decision is then a
	 * DECISION_FINDING with this set (a would-be ban or alert keeps its
	 * code), and nothing from it counts toward a source's score. */
	bool unverified;
};

struct pipeline_ops {
	void (*decide)(void *ctx, const struct decision *d);
	/* The parser has what it needs (STARTTLS, QUIT, non-SMTP, ban):
	 * the data plane may stop sampling this flow. */
	void (*stop_sampling)(void *ctx, const struct rg_flow_key *key);
	/* A message body starts (the 354 to DATA, a BDAT chunk): the data
	 * plane may sample no client payload until resume_client. */
	void (*pause_client)(void *ctx, const struct rg_flow_key *key);
	/* A new mail transaction starts at client seq (host order: the
	 * position the server acknowledged with its reply to the end of
	 * data, a BDAT chunk or RSET): sample the client from there with a
	 * fresh budget. */
	void (*resume_client)(void *ctx, const struct rg_flow_key *key,
			      uint32_t seq);
};

struct pipeline_stats {
	uint64_t samples, flows_created, flows_active, flows_evicted_cap,
		flows_idle, flows_unverified, bytes_dropped_cap, gaps,
		out_of_order, smtp_sessions, findings, decisions,
		unverified_suppressed; /* unverified findings not reported */
};

struct pipeline *pipeline_new(const struct rg_conf *conf,
			      const struct pipeline_ops *ops, void *ctx);
void pipeline_free(struct pipeline *p);
/* New policy (SIGHUP); flows and their state are kept. */
void pipeline_set_conf(struct pipeline *p, const struct rg_conf *conf);
/* One ring-buffer record (struct rg_sample + payload) of len bytes; a
 * malformed record is counted and ignored. */
int pipeline_feed(struct pipeline *p, const void *record, size_t len);
/* Expire idle flows; call from a timer with the boot clock. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);
const struct pipeline_stats *pipeline_stats(const struct pipeline *p);

/* Each sample kept for a flow, in arrival order (evidence pcaps). */
typedef void (*flow_sample_cb)(const struct rg_sample *s, void *ctx);
void flow_for_each_sample(const struct flow *f, flow_sample_cb cb, void *ctx);

#endif
