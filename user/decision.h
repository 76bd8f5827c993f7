/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the pipeline decided about a source: the contract between the
 * policy (which classifies), the pipeline (which decides) and those that
 * act on a decision or record it (the daemon, the event log, replay). */
#ifndef RG_DECISION_H
#define RG_DECISION_H

#include <stdbool.h>
#include <stdint.h>

#include "parse.h"
#include "relayguard.h"

struct flow;

enum decision_action {
	DECISION_BAN,
	DECISION_ALERT,	  /* critical: e.g. the gateway accepted a relay */
	DECISION_FINDING, /* worth logging, no ban by itself */
	DECISION_UNBAN,	  /* never from the pipeline: for the event log */
};

/* Strings point into the flow and live until the callback returns. */
struct decision {
	enum decision_action action;
	enum rg_reason reason; /* for bans and alerts */
	const char *code;      /* snake_case: "relay_attempt", "bare_lf", ... */
	struct prefix source;  /* the client (host address) */
	struct rg_flow_key flow_key;
	uint64_t sample_ns; /* boot clock of the sample that decided it */
	const char *helo, *mail_from, *rcpt_to, *reply; /* may be NULL */
	const struct flow *flow; /* for evidence: flow_for_each_sample() */
	/* The flow's handshake was not verified: every decision is then a
	 * DECISION_FINDING with this set (a would-be ban or alert keeps its
	 * code), and nothing from it counts toward a source's score. */
	bool unverified;
	/* Who saw it: NULL for the wire, "policy" for the MTA's policy
	 * service (no flow, no samples). */
	const char *via;
	/* A RCPT verdict's: the local domains it was checked against
	 * ("postfix:/etc/postfix", "example.com, *.example.com"), or NULL. */
	const char *local_domains;
};

#endif
