// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "parse.h"

const uint64_t reaction_bucket_us[REACTION_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000,
	10000000,
};

void reaction_observe(struct reaction_hist *h, uint64_t ns)
{
	unsigned int i;

	for (i = 0; i < REACTION_BUCKETS; i++)
		if (ns <= reaction_bucket_us[i] * 1000)
			break;
	h->bucket[i]++;
	h->count++;
	h->sum_ns += ns;
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	fprintf(f, "# HELP relayguard_%s %s\n# TYPE relayguard_%s counter\n",
		name, help, name);
	fprintf(f, "relayguard_%s %" PRIu64 "\n", name, v);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	fprintf(f, "# HELP relayguard_%s %s\n# TYPE relayguard_%s gauge\n",
		name, help, name);
	fprintf(f, "relayguard_%s %" PRIu64 "\n", name, v);
}

static void print_reaction(FILE *f, const struct reaction_hist *h)
{
	uint64_t cum = 0;
	unsigned int i;

	fputs("# HELP relayguard_reaction_seconds Time from the sample that "
	      "decided a ban to the ban in the map.\n"
	      "# TYPE relayguard_reaction_seconds histogram\n", f);
	for (i = 0; i < REACTION_BUCKETS; i++) {
		cum += h->bucket[i];
		fprintf(f, "relayguard_reaction_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			reaction_bucket_us[i] / 1e6, cum);
	}
	cum += h->bucket[REACTION_BUCKETS];
	fprintf(f, "relayguard_reaction_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
		cum);
	fprintf(f, "relayguard_reaction_seconds_sum %.9f\n", h->sum_ns / 1e9);
	fprintf(f, "relayguard_reaction_seconds_count %" PRIu64 "\n", h->count);
}

static void print_bans(FILE *f, const uint64_t *by_reason)
{
	unsigned int r;

	fputs("# HELP relayguard_bans Bans in bans4/bans6 now, by reason.\n"
	      "# TYPE relayguard_bans gauge\n", f);
	for (r = 0; r < RG_REASON_MAX; r++)
		fprintf(f, "relayguard_bans{reason=\"%s\"} %" PRIu64 "\n",
			reason_name(r), by_reason[r]);
}

static void print_pipeline(FILE *f, const struct pipeline_stats *p)
{
	counter(f, "samples_total", "Sample records read from the ring buffer.",
		p->samples);
	counter(f, "flows_created_total", "Flows created.", p->flows_created);
	gauge(f, "flows_active", "Flows in the flow table now.",
	      p->flows_active);
	counter(f, "flows_evicted_cap_total",
		"Flows evicted because the flow table was full.",
		p->flows_evicted_cap);
	counter(f, "flows_idle_total", "Flows expired by the idle timeout.",
		p->flows_idle);
	counter(f, "flows_unverified_total",
		"Flows whose TCP handshake was never verified.",
		p->flows_unverified);
	counter(f, "flow_bytes_dropped_cap_total",
		"Payload bytes not buffered: per-flow cap.",
		p->bytes_dropped_cap);
	counter(f, "flow_gaps_total", "Sequence gaps in reassembly.", p->gaps);
	counter(f, "flow_out_of_order_total", "Out-of-order segments.",
		p->out_of_order);
	counter(f, "smtp_sessions_total", "SMTP sessions parsed.",
		p->smtp_sessions);
	counter(f, "parser_findings_total", "Parser and policy findings.",
		p->findings);
	counter(f, "decisions_total", "Decisions of the policy.", p->decisions);
}

static void print_alerts(FILE *f, const struct alert_stats *a)
{
	fputs("# HELP relayguard_alert_commands_total alert_command runs by "
	      "outcome.\n# TYPE relayguard_alert_commands_total counter\n", f);
	fprintf(f, "relayguard_alert_commands_total{outcome=\"ok\"} %" PRIu64 "\n"
		   "relayguard_alert_commands_total{outcome=\"failed\"} %" PRIu64 "\n"
		   "relayguard_alert_commands_total{outcome=\"killed\"} %" PRIu64 "\n"
		   "relayguard_alert_commands_total{outcome=\"busy\"} %" PRIu64 "\n"
		   "relayguard_alert_commands_total{outcome=\"spawn_error\"} %" PRIu64 "\n",
		a->ok, a->failed, a->killed, a->dropped_busy, a->spawn_errors);
}

static void print_daemon(FILE *f, const struct daemon_counters *d)
{
	counter(f, "bans_added_total", "Bans written by the daemon.", d->bans);
	counter(f, "unbans_total", "Expired bans swept.", d->unbans);
	counter(f, "ban_errors_total", "Bans that could not be written.",
		d->ban_errors);
	counter(f, "bans_skipped_trusted_total",
		"Ban decisions for trusted networks, not applied.",
		d->bans_skipped_trusted);
	counter(f, "bans_skipped_allowed_total",
		"Ban decisions for allow-listed sources, not applied.",
		d->bans_skipped_allowed);
	counter(f, "alerts_total", "Critical alerts.", d->alerts);
	counter(f, "findings_total", "Findings logged.", d->findings);
	counter(f, "events_written_total", "Event log lines written.",
		d->events_written);
	counter(f, "event_errors_total", "Event log lines lost.",
		d->event_errors);
	counter(f, "evidence_written_total", "Evidence pcaps written.",
		d->evidence_written);
	counter(f, "evidence_errors_total", "Evidence pcaps not written.",
		d->evidence_errors);
	counter(f, "reloads_total", "Configuration reloads applied.",
		d->reloads);
	counter(f, "reload_errors_total", "Reloads refused (bad config).",
		d->reload_errors);
	counter(f, "snapshots_total", "Ban snapshots written.", d->snapshots);
	counter(f, "snapshot_errors_total", "Ban snapshots that failed.",
		d->snapshot_errors);
	counter(f, "link_reattach_total",
		"Interfaces re-attached after they came back.",
		d->link_reattach);
}

int metrics_print(FILE *f, const struct metrics_input *in)
{
	int err = 0;

	if (in->dataplane)
		err = in->dataplane(f, in->dataplane_ctx);
	if (in->bans_by_reason)
		print_bans(f, in->bans_by_reason);
	if (in->pipeline)
		print_pipeline(f, in->pipeline);
	if (in->alerts)
		print_alerts(f, in->alerts);
	if (in->daemon)
		print_daemon(f, in->daemon);
	if (in->reaction)
		print_reaction(f, in->reaction);
	if (!err && ferror(f))
		err = -EIO;
	return err;
}

int metrics_write(const char *path, const struct metrics_input *in)
{
	char tmp[4096];
	FILE *f;
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		log_err("cannot write metrics file %s: %s", tmp, strerror(errno));
		return err;
	}
	err = metrics_print(f, in);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		log_err("cannot write metrics file %s: %s", path,
			log_strerror(err));
		unlink(tmp);
	}
	return err;
}
