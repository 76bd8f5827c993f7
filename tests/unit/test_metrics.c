// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The metrics textfile: cumulative histogram buckets, sum and count, bans by
 * reason, atomic rewrite, and `promtool check metrics` accepts it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics.h"
#include "unit.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	assert_non_null(f);
	assert_true(fread(buf, 1, (1 << 16) - 1, f) > 0);
	fclose(f);
	return buf;
}

static int fake_dataplane(FILE *f, void *ctx)
{
	fprintf(f, "# HELP relayguard_dp_packets_total Packets.\n"
		   "# TYPE relayguard_dp_packets_total counter\n"
		   "relayguard_dp_packets_total %d\n", *(int *)ctx);
	return 0;
}

static void test_histogram(void **state)
{
	struct reaction_hist h = { 0 };

	(void)state;
	reaction_observe(&h, 10 * 1000); /* 10 us: first bucket */
	reaction_observe(&h, 50 * 1000); /* on the bound: still first */
	reaction_observe(&h, 51 * 1000); /* second */
	reaction_observe(&h, 20ULL * 1000 * 1000 * 1000); /* +Inf */
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 1);
	assert_int_equal(h.bucket[REACTION_BUCKETS], 1);
	assert_int_equal(h.count, 4);
	assert_int_equal(h.sum_ns, 111000 + 20000000000ULL);
}

static void test_file(void **state)
{
	char path[] = "/tmp/rg-test-metrics-XXXXXX";
	uint64_t by_reason[RG_REASON_MAX] = { 0 };
	struct pipeline_stats ps = { .flows_active = 42, .findings = 7,
				     .unverified_suppressed = 11,
				     .deferred = 4 };
	struct alert_stats as = { .ok = 3 };
	struct daemon_counters dc = { .bans = 5 };
	struct reaction_hist h = { 0 };
	static const struct metrics_iface ifaces[] = {
		{ "eth0", .xdp = true, .tc = true },
		{ "odd\"na\\me", .xdp = false, .tc = true },
	};
	struct metrics_health health = {
		.written_unix = 1700000000,
		.interval_s = 300,
		.ifaces = ifaces,
		.n_ifaces = 2,
		.ban_entries = { 1900000, 12 },
		.ban_capacity = { 2097152, 262144 },
	};
	struct metrics_input in = {
		.health = &health,
		.reaction = &h,
		.bans_by_reason = by_reason,
		.pipeline = &ps,
		.alerts = &as,
		.daemon = &dc,
		.dataplane = fake_dataplane,
	};
	int packets = 1234, fd, rc;
	char cmd[256], *text;

	(void)state;
	in.dataplane_ctx = &packets;
	by_reason[RG_REASON_RELAY_ATTEMPT] = 9;
	reaction_observe(&h, 30 * 1000);
	reaction_observe(&h, 700 * 1000);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(metrics_write(path, &in), 0);
	text = slurp(path);
	assert_contains_all(text, (const char *const[]){
		"relayguard_dp_packets_total 1234\n",
		"relayguard_bans{reason=\"relay_attempt\"} 9\n",
		"relayguard_flows_active 42\n",
		"relayguard_parser_findings_total 7\n",
		"relayguard_rcpt_deferred_total 4\n",
		"relayguard_rcpt_deferred_dropped_total 0\n",
		NULL });
	assert_non_null(strstr(
		text, "relayguard_unverified_findings_suppressed_total 11\n"));
	assert_contains_all(text, (const char *const[]){
		"relayguard_reaction_seconds_bucket{le=\"5e-05\"} 1\n",
		"relayguard_reaction_seconds_bucket{le=\"0.0005\"} 1\n",
		"relayguard_reaction_seconds_bucket{le=\"0.001\"} 2\n",
		"relayguard_reaction_seconds_bucket{le=\"+Inf\"} 2\n",
		"relayguard_reaction_seconds_count 2\n",
		"relayguard_reaction_seconds_sum 0.000730000\n",
		NULL });
	/* what user/dist/relayguard.rules.yml alerts on */
	assert_contains_all(text, (const char *const[]){
		"relayguard_metrics_timestamp_seconds 1700000000\n",
		"relayguard_metrics_interval_seconds 300\n",
		"relayguard_interface_attached{interface=\"eth0\",program=\"xdp\"} 1\n",
		"relayguard_interface_attached{interface=\"eth0\",program=\"tc\"} 1\n",
		"relayguard_interface_attached{interface=\"odd\\\"na\\\\me\",program=\"xdp\"} 0\n",
		"relayguard_ban_map_entries{map=\"bans4\"} 1900000\n",
		"relayguard_ban_map_entries{map=\"bans6\"} 12\n",
		"relayguard_ban_map_capacity{map=\"bans4\"} 2097152\n",
		"relayguard_ban_map_capacity{map=\"bans6\"} 262144\n",
		NULL });
	free(text);
	if (!access("/usr/bin/promtool", X_OK)) {
		snprintf(cmd, sizeof(cmd),
			 "promtool check metrics < %s", path);
		rc = system(cmd);
		assert_int_equal(rc, 0);
	}
	unlink(path);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_histogram), cmocka_unit_test(test_file))
