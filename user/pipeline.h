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

#include "decision.h"
#include "parse.h"
#include "relayguard.h"

struct rg_conf;
struct flow;

struct pipeline_ops {
	void (*decide)(void *ctx, const struct decision *d);
	/* The parser has what it needs (STARTTLS, QUIT, non-SMTP, the end
	 * of a banned flow): the data plane may stop sampling this flow. */
	void (*stop_sampling)(void *ctx, const struct rg_flow_key *key);
	/* The client is banned: the data plane may stop sampling its
	 * payload, never the server's replies (still graded: an open relay
	 * that accepted is reported). */
	void (*stop_client)(void *ctx, const struct rg_flow_key *key);
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
	uint64_t flows_evicted_unverified; /* of flows_evicted_cap */
	/* RCPTs graded later (their domain's locality was being asked), and
	 * those that could not be (no room, session gone, no answer) */
	uint64_t deferred, deferred_dropped;
};

/* RCPTs waiting for their domain's locality, and how long at most. */
#define PIPELINE_MAX_DEFERRED 256
#define PIPELINE_DEFER_MAX_NS (30ULL * 1000000000ULL)

/* conf is borrowed, as by every module: it outlives the pipeline, and a
 * reload rewrites it in place (then pipeline_conf_changed). */
struct pipeline *pipeline_new(const struct rg_conf *conf,
			      const struct pipeline_ops *ops, void *ctx);
void pipeline_free(struct pipeline *p);
/* The conf was reloaded: its caps applied to the flow table; flows and
 * their state are kept. */
void pipeline_conf_changed(struct pipeline *p);
/* One ring-buffer record (struct rg_sample + payload) of len bytes; a
 * malformed record is counted and ignored. */
int pipeline_feed(struct pipeline *p, const void *record, size_t len);
/* A flow the data plane was sampling before this daemon started (a
 * restart, an upgrade), from its entry in `flows`: taken up where its
 * next bytes are, its handshake taken as done once the server sends a
 * byte. 1 if adopted, 0 if known already or stopped, or -errno. */
int pipeline_adopt(struct pipeline *p, const struct rg_flow *dp);
/* Expire idle flows; call from a timer with the boot clock. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);
/* The counters, the flow table's refreshed into them first. */
const struct pipeline_stats *pipeline_stats(struct pipeline *p);
/* The policy (scores, sessions) the pipeline feeds: the policy service
 * feeds the same one. */
struct policy *pipeline_policy(struct pipeline *p);
/* Grade the RCPTs that waited for a domain's locality once it is known
 * (or waited PIPELINE_DEFER_MAX_NS): call when Postfix answered. */
void pipeline_retry_deferred(struct pipeline *p, uint64_t now_ns);
/* The flow of key while it still holds its samples (evidence for a
 * decision the policy service made about a session the wire saw too), or
 * NULL. */
const struct flow *pipeline_find_flow(struct pipeline *p,
				      const struct rg_flow_key *key);

#endif
