// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fsutil.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "parse.h"
#include "cs_report.h"
#include "promtext.h"

const uint64_t reaction_bucket_us[REACTION_BUCKETS] = {
	50,   100,   250,   500,    1000,    2500,
	5000, 10000, 25000, 100000, 1000000, 10000000,
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

/* An unlabelled metric: a uint64_t at off in its struct. */
struct metric {
	const char *name;
	const char *type;
	const char *help;
	size_t off;
};

#define COUNTER(s, field, name, help)                                          \
	{                                                                      \
		name, "counter", help, offsetof(struct s, field)               \
	}
#define GAUGE(s, field, name, help)                                            \
	{                                                                      \
		name, "gauge", help, offsetof(struct s, field)                 \
	}

static void print_metrics(FILE *f, const struct metric *m, size_t n,
			  const void *base)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&v, (const char *)base + m[i].off, sizeof(v));
		prom_family(f, m[i].type, m[i].help, "%s", m[i].name);
		fprintf(f, "relayguard_%s %" PRIu64 "\n", m[i].name, v);
	}
}

static void print_reaction(FILE *f, const struct reaction_hist *h)
{
	uint64_t cum = 0;
	unsigned int i;

	prom_family(
		f, "histogram",
		"Time from the sample that decided a ban to the ban in the map.",
		"reaction_seconds");
	for (i = 0; i < REACTION_BUCKETS; i++) {
		cum += h->bucket[i];
		fprintf(f,
			"relayguard_reaction_seconds_bucket{le=\"%g\"} %" PRIu64
			"\n",
			reaction_bucket_us[i] / 1e6, cum);
	}
	cum += h->bucket[REACTION_BUCKETS];
	fprintf(f,
		"relayguard_reaction_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
		cum);
	fprintf(f, "relayguard_reaction_seconds_sum %.9f\n", h->sum_ns / 1e9);
	fprintf(f, "relayguard_reaction_seconds_count %" PRIu64 "\n", h->count);
}

static void print_bans(FILE *f, const uint64_t *by_reason)
{
	unsigned int r;

	prom_family(f, "gauge", "Bans in bans4/bans6 now, by reason.", "bans");
	for (r = 0; r < RG_REASON_MAX; r++)
		fprintf(f, "relayguard_bans{reason=\"%s\"} %" PRIu64 "\n",
			reason_name(r), by_reason[r]);
}

static const struct metric pipeline_metrics[] = {
	COUNTER(pipeline_stats, samples, "samples_total",
		"Sample records read from the ring buffer."),
	COUNTER(pipeline_stats, flows_created, "flows_created_total",
		"Flows created."),
	GAUGE(pipeline_stats, flows_active, "flows_active",
	      "Flows in the flow table now."),
	COUNTER(pipeline_stats, flows_evicted_cap, "flows_evicted_cap_total",
		"Flows evicted because the flow table was full."),
	COUNTER(pipeline_stats, flows_evicted_unverified,
		"flows_evicted_unverified_total",
		"Of those, flows whose handshake was never verified (evicted first)."),
	COUNTER(pipeline_stats, flows_idle, "flows_idle_total",
		"Flows expired by the idle timeout."),
	COUNTER(pipeline_stats, flows_unverified, "flows_unverified_total",
		"Flows whose TCP handshake was never verified."),
	COUNTER(pipeline_stats, bytes_dropped_cap,
		"flow_bytes_dropped_cap_total",
		"Payload bytes not buffered: per-flow cap."),
	COUNTER(pipeline_stats, gaps, "flow_gaps_total",
		"Sequence gaps in reassembly."),
	COUNTER(pipeline_stats, out_of_order, "flow_out_of_order_total",
		"Out-of-order segments."),
	COUNTER(pipeline_stats, smtp_sessions, "smtp_sessions_total",
		"SMTP sessions parsed."),
	COUNTER(pipeline_stats, findings, "parser_findings_total",
		"Parser and policy findings."),
	COUNTER(pipeline_stats, decisions, "decisions_total",
		"Decisions of the policy."),
	COUNTER(pipeline_stats, unverified_suppressed,
		"unverified_findings_suppressed_total",
		"Findings from unverified (possibly spoofed) flows not logged."),
	COUNTER(pipeline_stats, deferred, "rcpt_deferred_total",
		"RCPTs graded once Postfix said whether their domain is local."),
	COUNTER(pipeline_stats, deferred_dropped, "rcpt_deferred_dropped_total",
		"RCPTs that could not (no room, session gone, no answer in 30 s)."),
};

static const struct metric policy_service_metrics[] = {
	COUNTER(policysvc_stats, connections, "policy_connections_total",
		"Policy service connections accepted."),
	GAUGE(policysvc_stats, active, "policy_connections",
	      "Policy service connections open now."),
	COUNTER(policysvc_stats, requests, "policy_requests_total",
		"Policy requests answered."),
	COUNTER(policysvc_stats, rejects, "policy_rejects_total",
		"Policy requests answered REJECT."),
	COUNTER(policysvc_stats, refused_cap, "policy_refused_cap_total",
		"Connections refused: policy_max_connections reached."),
	COUNTER(policysvc_stats, refused_peer, "policy_refused_peer_total",
		"Connections refused: peer outside loopback and trusted_networks."),
	COUNTER(policysvc_stats, refused_user, "policy_refused_user_total",
		"Connections refused: local peer neither root nor policy_allowed_users."),
	COUNTER(policysvc_stats, bad_input, "policy_bad_input_total",
		"Connections closed for a malformed request."),
	COUNTER(policysvc_stats, stalled, "policy_stalled_total",
		"Connections closed in the middle of a request."),
	COUNTER(policysvc_stats, log_suppressed, "policy_log_suppressed_total",
		"Policy service log lines over the rate limit."),
};

static void print_pipeline(FILE *f, const struct pipeline_stats *p)
{
	print_metrics(f, pipeline_metrics, ARRAY_LEN(pipeline_metrics), p);
}

static void print_alerts(FILE *f, const struct alert_stats *a)
{
	prom_family(f, "counter", "alert_command runs by outcome.",
		    "alert_commands_total");
	fprintf(f,
		"relayguard_alert_commands_total{outcome=\"ok\"} %" PRIu64 "\n"
		"relayguard_alert_commands_total{outcome=\"failed\"} %" PRIu64
		"\n"
		"relayguard_alert_commands_total{outcome=\"killed\"} %" PRIu64
		"\n"
		"relayguard_alert_commands_total{outcome=\"busy\"} %" PRIu64
		"\n"
		"relayguard_alert_commands_total{outcome=\"spawn_error\"} %" PRIu64
		"\n",
		a->ok, a->failed, a->killed, a->dropped_busy, a->spawn_errors);
}

static const struct metric daemon_metrics[] = {
	COUNTER(daemon_counters, bans, "bans_added_total",
		"Bans written by the daemon."),
	COUNTER(daemon_counters, unbans, "unbans_total", "Expired bans swept."),
	COUNTER(daemon_counters, ban_errors, "ban_errors_total",
		"Bans that could not be written."),
	COUNTER(daemon_counters, bans_skipped_trusted,
		"bans_skipped_trusted_total",
		"Ban decisions for trusted networks, not applied."),
	COUNTER(daemon_counters, bans_skipped_allowed,
		"bans_skipped_allowed_total",
		"Ban decisions for allow-listed sources, not applied."),
	COUNTER(daemon_counters, alerts, "alerts_total", "Critical alerts."),
	COUNTER(daemon_counters, findings, "findings_total",
		"Findings logged."),
	COUNTER(daemon_counters, events_written, "events_written_total",
		"Event log lines written."),
	COUNTER(daemon_counters, event_errors, "event_errors_total",
		"Event log lines lost."),
	COUNTER(daemon_counters, evidence_written, "evidence_written_total",
		"Evidence pcaps written."),
	COUNTER(daemon_counters, evidence_errors, "evidence_errors_total",
		"Evidence pcaps not written."),
	COUNTER(daemon_counters, reloads, "reloads_total",
		"Configuration reloads applied."),
	COUNTER(daemon_counters, reload_errors, "reload_errors_total",
		"Reloads refused (bad config)."),
	COUNTER(daemon_counters, snapshots, "snapshots_total",
		"Ban snapshots written."),
	COUNTER(daemon_counters, snapshot_errors, "snapshot_errors_total",
		"Ban snapshots that failed."),
	COUNTER(daemon_counters, link_reattach, "link_reattach_total",
		"Interfaces re-attached after they came back."),
	COUNTER(daemon_counters, priority_drops, "priority_drops_total",
		"Real-time priority dropped after a second on the CPU without sleeping (SIGXCPU)."),
	COUNTER(daemon_counters, ring_budget_spent, "ring_budget_spent_total",
		"Ring-buffer drains that stopped at their budget with samples left."),
};

static void print_daemon(FILE *f, const struct daemon_counters *d)
{
	print_metrics(f, daemon_metrics, ARRAY_LEN(daemon_metrics), d);
}

/* A label value of the text format: backslash, double quote and newline
 * escaped (Linux lets an interface name hold the first two). */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void print_attached(FILE *f, const char *ifname, const char *program,
			   bool on)
{
	fputs("relayguard_interface_attached{interface=\"", f);
	label_value(f, ifname);
	fprintf(f, "\",program=\"%s\"} %d\n", program, on);
}

/* The header of each gauge that print_health writes. */
static void gauge_family(FILE *f, const char *name, const char *help)
{
	prom_family(f, "gauge", help, "%s", name);
}

static void print_gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	gauge_family(f, name, help);
	fprintf(f, "relayguard_%s %" PRIu64 "\n", name, v);
}

/* One gauge per ban map: v[0] for bans4, v[1] for bans6. */
static void print_ban_maps(FILE *f, const char *name, const char *help,
			   const uint64_t *v)
{
	static const char *const maps[] = { RG_MAP_BANS4, RG_MAP_BANS6 };
	unsigned int i;

	gauge_family(f, name, help);
	for (i = 0; i < 2; i++)
		fprintf(f, "relayguard_%s{map=\"%s\"} %" PRIu64 "\n", name,
			maps[i], v[i]);
}

static void print_health(FILE *f, const struct metrics_health *h)
{
	unsigned int i;

	print_gauge(
		f, "metrics_timestamp_seconds",
		"When this file was written (Unix time): stale means the daemon is down.",
		h->written_unix);
	print_gauge(f, "metrics_interval_seconds",
		    "How often this file is rewritten (metrics_interval).",
		    h->interval_s);
	gauge_family(
		f, "interface_attached",
		"relayguard's program attached to a configured interface (1) or not (0).");
	for (i = 0; i < h->n_ifaces; i++) {
		print_attached(f, h->ifaces[i].name, "xdp", h->ifaces[i].xdp);
		print_attached(f, h->ifaces[i].name, "tc", h->ifaces[i].tc);
	}
	print_ban_maps(f, "ban_map_entries",
		       "Bans in force in a ban map at the last complete sweep.",
		       h->ban_entries);
	print_ban_maps(f, "ban_map_capacity",
		       "Entries a ban map holds (max_entries).",
		       h->ban_capacity);
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
	if (in->policy_service)
		print_metrics(f, policy_service_metrics,
			      ARRAY_LEN(policy_service_metrics),
			      in->policy_service);
	if (in->daemon)
		print_daemon(f, in->daemon);
	if (in->reaction)
		print_reaction(f, in->reaction);
	if (in->crowdsec)
		crowdsec_print_metrics(f, in->crowdsec);
	if (in->health)
		print_health(f, in->health);
	if (!err && ferror(f))
		err = -EIO;
	return err;
}

static int fill_metrics(FILE *f, void *ctx)
{
	return metrics_print(f, ctx);
}

int metrics_write(const char *path, const struct metrics_input *in)
{
	int err = fs_replace(path, 0, fill_metrics, (void *)in);

	if (err)
		log_err("cannot write metrics file %s: %s", path,
			log_strerror(err));
	return err;
}
