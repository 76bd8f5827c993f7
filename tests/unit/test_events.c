// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Decisions as JSON lines: one object a line with the contract's fields;
 * bans carry expires and duration; strings are escaped. Checked with jq
 * when it is installed (a real JSON parser), else field by field. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "events.h"
#include "unit.h"

/* 2026-11-28T04:41:06.071Z */
#define T0 (1795840866ULL * NSEC_PER_SEC + 71000000ULL)

static struct decision sample_decision(enum decision_action a)
{
	struct decision d = {
		.action = a,
		.reason = RG_REASON_RELAY_ATTEMPT,
		.code = "relay_attempt",
		.helo = "vm",
		.mail_from = "a@spam.example",
		.rcpt_to = "victim@gmail.com",
		.reply = "554 5.7.1 <victim@gmail.com>: \"Relay\" access denied\t\x01",
	};

	parse_prefix("10.77.0.66", &d.source);
	d.flow_key.family = AF_INET;
	inet_pton(AF_INET, "10.77.0.66", d.flow_key.client);
	inet_pton(AF_INET, "10.77.0.1", d.flow_key.server);
	d.flow_key.client_port = htons(38064);
	d.flow_key.server_port = htons(25);
	return d;
}

static char *write_line(const struct decision *d, const struct event_extra *x)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(event_write(f, d, x), 0);
	fclose(f);
	return buf;
}

static void test_time(void **state)
{
	char buf[64];

	(void)state;
	event_format_time(T0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T04:41:06.071Z");
}

static void test_ban_line(void **state)
{
	struct decision d = sample_decision(DECISION_BAN);
	struct event_extra x = { .time_ns = T0, .duration_s = 7200,
				 .offences = 2, .reaction_us = 180,
				 .evidence = "/var/lib/relayguard/evidence/x.pcap" };
	char *line = write_line(&d, &x);

	(void)state;
	/* one line, newline-terminated */
	assert_non_null(strchr(line, '\n'));
	assert_int_equal(strchr(line, '\n') - line, strlen(line) - 1);
	assert_contains_all(line, (const char *const[]){
		"\"time\":\"2026-11-28T04:41:06.071Z\"",
		"\"action\":\"ban\"",
		"\"source\":\"10.77.0.66\"",
		"\"reason\":\"relay_attempt\"",
		"\"expires\":\"2026-11-28T06:41:06.071Z\"",
		"\"duration\":7200",
		"\"offences\":2",
		"\"helo\":\"vm\"",
		"\"mail_from\":\"a@spam.example\"",
		"\"rcpt_to\":\"victim@gmail.com\"",
		"\\\"Relay\\\" access denied\\t\\u0001\"",
		"\"flow\":\"10.77.0.66:38064 -> 10.77.0.1:25\"",
		"\"reaction_us\":180",
		"\"evidence\":\"/var/lib/relayguard/evidence/x.pcap\"",
		NULL });
	free(line);
}

static void test_finding_and_alert(void **state)
{
	struct decision d = sample_decision(DECISION_FINDING);
	struct event_extra x = { .time_ns = T0, .reaction_us = -1 };
	char *line;

	(void)state;
	d.unverified = true;
	d.helo = NULL;
	line = write_line(&d, &x);
	assert_non_null(strstr(line, "\"action\":\"finding\""));
	assert_null(strstr(line, "expires"));
	assert_null(strstr(line, "helo"));
	assert_null(strstr(line, "reaction_us"));
	assert_non_null(strstr(line, "\"verified\":false"));
	free(line);
	d = sample_decision(DECISION_ALERT);
	d.code = "relay_accepted";
	line = write_line(&d, &x);
	assert_non_null(strstr(line, "\"action\":\"alert\""));
	assert_non_null(strstr(line, "\"severity\":\"critical\""));
	free(line);
}

static void test_permanent_and_v6(void **state)
{
	struct decision d = sample_decision(DECISION_BAN);
	struct event_extra x = { .time_ns = T0, .duration_s = DURATION_PERMANENT,
				 .reaction_us = -1 };
	char *line;

	(void)state;
	parse_prefix("2001:db8::7", &d.source);
	d.flow_key.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", d.flow_key.client);
	inet_pton(AF_INET6, "2001:db8::1", d.flow_key.server);
	line = write_line(&d, &x);
	assert_contains_all(line, (const char *const[]){
		"\"expires\":null",
		"\"duration\":\"permanent\"",
		"\"source\":\"2001:db8::7\"",
		"\"flow\":\"[2001:db8::7]:38064 -> [2001:db8::1]:25\"",
		NULL });
	free(line);
}

/* jq, when present, must parse every kind of line. */
static void test_jq_parses(void **state)
{
	enum decision_action acts[] = { DECISION_BAN, DECISION_ALERT,
					DECISION_FINDING, DECISION_UNBAN };
	struct event_extra x = { .time_ns = T0, .duration_s = 60,
				 .reaction_us = 5 };
	char path[] = "/tmp/test_events-XXXXXX", cmd[256];
	struct decision d;
	size_t i;
	FILE *f;
	int fd;

	(void)state;
	if (system("command -v jq >/dev/null 2>&1"))
		skip();
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	for (i = 0; i < 4; i++) {
		d = sample_decision(acts[i]);
		event_write(f, &d, &x);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "test \"$(jq -r .action %s | tr '\\n' ' ')\" = 'ban alert finding unban '",
		 path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_time), cmocka_unit_test(test_ban_line),
	       cmocka_unit_test(test_finding_and_alert),
	       cmocka_unit_test(test_permanent_and_v6),
	       cmocka_unit_test(test_jq_parses))
