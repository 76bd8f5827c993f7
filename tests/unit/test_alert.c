// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* alert_command: the program gets the JSON on stdin without a shell, is
 * killed after its timeout, and no more than max_children run at once. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "alert.h"
#include "clock.h"

#define SEC NSEC_PER_SEC

/* Reap until nothing runs or limit_s (real seconds) passed. */
static void reap_all(struct alerter *a, uint64_t now, int limit_s)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < limit_s * 50 && alert_running(a); i++) {
		alert_reap(a, now);
		nanosleep(&ts, NULL);
	}
}

static void test_json_on_stdin(void **state)
{
	char out[] = "/tmp/rg-test-alert-XXXXXX";
	const char *json = "{\"action\":\"alert\",\"reason\":\"relay_accepted\"}";
	char *argv[] = { "tee", out, NULL };
	struct alerter *a = alert_new(2);
	char buf[256] = "";
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(alert_run(a, argv, 2, json, strlen(json), 5 * SEC, 0),
			 0);
	assert_int_equal(alert_running(a), 1);
	reap_all(a, 0, 5);
	assert_int_equal(alert_running(a), 0);
	assert_int_equal(alert_stats(a)->ok, 1);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(out);
	assert_int_equal(strlen(buf), strlen(json) + 1);
	assert_memory_equal(buf, json, strlen(json));
	alert_free(a);
}

/* Metacharacters are not interpreted: no shell runs. */
static void test_no_shell(void **state)
{
	char *argv[] = { "true;", "exit", "3", NULL };
	struct alerter *a = alert_new(1);

	(void)state;
	assert_int_equal(alert_run(a, argv, 3, "{}", 2, SEC, 0), -ENOENT);
	assert_int_equal(alert_stats(a)->spawn_errors, 1);
	assert_int_equal(alert_running(a), 0);
	alert_free(a);
}

static void test_exit_status(void **state)
{
	char *argv[] = { "false", NULL };
	struct alerter *a = alert_new(1);

	(void)state;
	assert_int_equal(alert_run(a, argv, 1, "{}", 2, SEC, 0), 0);
	reap_all(a, 0, 5);
	assert_int_equal(alert_stats(a)->failed, 1);
	alert_free(a);
}

static void test_timeout_and_cap(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct alerter *a = alert_new(2);
	uint64_t t0 = 100 * SEC;

	(void)state;
	assert_int_equal(alert_run(a, argv, 2, "{}", 2, 2 * SEC, t0), 0);
	assert_int_equal(alert_run(a, argv, 2, "{}", 2, 2 * SEC, t0), 0);
	assert_int_equal(alert_run(a, argv, 2, "{}", 2, 2 * SEC, t0), -EBUSY);
	assert_int_equal(alert_stats(a)->dropped_busy, 1);
	/* Before the deadline nothing is killed. */
	alert_reap(a, t0 + SEC);
	assert_int_equal(alert_running(a), 2);
	reap_all(a, t0 + 2 * SEC, 5);
	assert_int_equal(alert_running(a), 0);
	assert_int_equal(alert_stats(a)->killed, 2);
	alert_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_on_stdin),
		cmocka_unit_test(test_no_shell),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_timeout_and_cap),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
