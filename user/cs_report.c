// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>

#include "cs_report.h"
#include "names.h"
#include "promtext.h"

const char *crowdsec_state_name(enum crowdsec_state s)
{
	static const char *const names[] = {
		[CS_OFF] = "off",	  [CS_STARTING] = "starting",
		[CS_UP] = "up",		  [CS_UNREACHABLE] = "unreachable",
		[CS_REFUSED] = "refused", [CS_ERROR] = "error",
	};

	return name_of(names, s, "unknown");
}

void crowdsec_print_state(FILE *f, const struct crowdsec_counters *c)
{
	fprintf(f,
		"bouncer=%s\nmachine=%s\nlast_pull=%" PRId64 "\n"
		"decisions_received=%" PRIu64 "\ndecisions_applied=%" PRIu64
		"\ndecisions_deleted=%" PRIu64 "\nalerts_pushed=%" PRIu64
		"\nalerts_queued=%" PRIu64 "\nerrors=%" PRIu64 "\n",
		crowdsec_state_name(c->bouncer),
		crowdsec_state_name(c->machine), c->last_pull_unix,
		c->dec.received, c->dec.applied, c->dec.deleted,
		c->alerts_pushed, c->queued,
		c->pull_errors + c->push_errors + c->login_errors +
			c->dec.errors);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	prom_family(f, type, help, "crowdsec_%s", name);
}

static void labelled(FILE *f, const char *name, const char *label,
		     const char *value, uint64_t v)
{
	fprintf(f, "relayguard_crowdsec_%s{%s=\"%s\"} %" PRIu64 "\n", name,
		label, value, v);
}

/* A metric of one unlabelled series. */
static void single(FILE *f, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "relayguard_crowdsec_%s %" PRIu64 "\n", name, v);
}

/* How the decision stream is taken: resyncs, whole sets, slices, state. */
static void print_sync(FILE *f, const struct crowdsec_counters *c)
{
	unsigned int i;

	single(f, "resyncs_total", "counter",
	       "Whole sets pulled again after deltas (crowdsec 1.4 stream "
	       "race).",
	       c->resyncs);
	single(f, "whole_sets_total", "counter", "Whole sets applied.",
	       c->apply.whole_sets);
	single(f, "answers_pending", "gauge",
	       "LAPI answers waiting to be applied, the one under way "
	       "included.",
	       c->apply_pending);
	single(f, "apply_slices_total", "counter",
	       "Slices of decisions applied between the event loop's other "
	       "work.",
	       c->apply.slices);
	family(f, "apply_slice_max_seconds", "gauge",
	       "The longest slice so far: what a sample waited at most for "
	       "the fleet.");
	fprintf(f, "relayguard_crowdsec_apply_slice_max_seconds %.6f\n",
		c->apply.slice_max_ns / 1e9);
	family(f, "state", "gauge",
	       "LAPI state as the bouncer and the machine see it (1: now).");
	for (i = CS_OFF; i <= CS_ERROR; i++) {
		fprintf(f,
			"relayguard_crowdsec_state{role=\"bouncer\",state=\"%"
			"s\"} %d\n",
			crowdsec_state_name(i), c->bouncer == i);
		fprintf(f,
			"relayguard_crowdsec_state{role=\"machine\",state=\"%"
			"s\"} %d\n",
			crowdsec_state_name(i), c->machine == i);
	}
	family(f, "last_pull_seconds", "gauge",
	       "Unix time of the last good pull.");
	fprintf(f, "relayguard_crowdsec_last_pull_seconds %" PRId64 "\n",
		c->last_pull_unix);
}

void crowdsec_print_metrics(FILE *f, const struct crowdsec_counters *c)
{
	const struct csdec_stats *d = &c->dec;
	const struct {
		const char *what;
		uint64_t v;
	} decisions[] = {
		{ "received", d->received },
		{ "applied", d->applied },
		{ "deleted", d->deleted + c->deleted_stale },
		{ "kept_local", d->kept_local },
		{ "exempt", d->exempt },
		{ "expired", d->expired },
		{ "denied", d->denied },
		{ "too_wide", d->too_wide },
		{ "skipped", d->skipped },
	};
	unsigned int i;

	family(f, "decisions_total", "counter",
	       "Decisions from the CrowdSec LAPI, by what became of them.");
	for (i = 0; i < ARRAY_LEN(decisions); i++)
		labelled(f, "decisions_total", "what", decisions[i].what,
			 decisions[i].v);
	family(f, "alerts_total", "counter",
	       "Local bans sent to the LAPI as alerts, or dropped unsent.");
	labelled(f, "alerts_total", "what", "pushed", c->alerts_pushed);
	labelled(f, "alerts_total", "what", "dropped", c->alerts_dropped);
	single(f, "alerts_queued", "gauge", "Alerts waiting for the LAPI.",
	       c->queued);
	family(f, "errors_total", "counter",
	       "Failed LAPI exchanges and map writes.");
	labelled(f, "errors_total", "what", "pull", c->pull_errors);
	labelled(f, "errors_total", "what", "push", c->push_errors);
	labelled(f, "errors_total", "what", "login", c->login_errors);
	labelled(f, "errors_total", "what", "map", d->errors);
	print_sync(f, c);
}
