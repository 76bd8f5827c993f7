// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Postfix side of local_domains = postfix:DIR (mtawatch.c) with the
 * real postconf and postmap on a config directory of the test's own: a
 * reading, a per-domain question to a regexp table, a config Postfix
 * cannot read (the error says why), a missing directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "mtawatch.h"
#include "unit.h"

#define TIMEOUT (20ULL * NSEC_PER_SEC)

static char dir[64], err[512];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char cf[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rg-mtawatch-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cf, sizeof(cf),
		 "myhostname = gw.example.test\nmydomain = example.test\n"
		 "mydestination = $myhostname, localhost.$mydomain\n"
		 "relay_domains = texthash:%s/relay, regexp:%s/relay.re\n",
		 dir, dir);
	write_file("main.cf", cf);
	write_file("relay", "partner.test OK\nuser@addr.test x\n");
	write_file("relay.re", "/^re[0-9]+\\.test$/ OK\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static void skip_without_postfix(void)
{
	if (access("/usr/sbin/postconf", X_OK))
		skip();
}

/* A watch on dir, run as the daemon's loop would until Postfix said
 * whether a and b are local (or the timeout). */
static struct mta_watch *watch_until_known(const char *a, const char *b)
{
	struct mta_watch *w = mta_watch_new(dir, "", NULL, NULL);
	uint64_t end = boot_ns() + TIMEOUT;
	struct mta_domains *m;

	assert_non_null(w);
	m = mta_watch_domains(w);
	while (boot_ns() < end && (mta_domains_match(m, a) == MTA_UNKNOWN ||
				   mta_domains_match(m, b) == MTA_UNKNOWN)) {
		mta_watch_run(w, boot_ns());
		usleep(10000);
	}
	return w;
}

static void test_read(void **state)
{
	struct mta_domains *m = NULL;
	struct mta_watch *w;

	(void)state;
	skip_without_postfix();
	assert_int_equal(mta_read_now(dir, TIMEOUT, &m, err, sizeof(err)), 0);
	/* $myhostname and localhost.$mydomain expanded by postconf */
	assert_int_equal(mta_domains_match(m, "gw.example.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "localhost.example.test"),
			 MTA_LOCAL);
	/* listed with postmap -s, subdomains by parent matching */
	assert_int_equal(mta_domains_match(m, "partner.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "mx.partner.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "addr.test"), MTA_UNKNOWN);
	assert_int_equal(mta_domains_stats(m)->query_tables, 1);
	mta_domains_free(m);

	/* the regexp table asked per domain through the watch's loop */
	w = watch_until_known("re7.test", "other.test");
	m = mta_watch_domains(w);
	assert_int_equal(mta_domains_match(m, "re7.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "other.test"), MTA_FOREIGN);
	assert_int_equal(mta_domains_stats(m)->queries, 2);
	assert_int_equal(mta_domains_stats(m)->query_errors, 0);
	mta_watch_free(w);
}

/* A table postmap cannot open: the domains asked are not local, the
 * error counted (and said once in the log). */
static void test_query_error(void **state)
{
	struct mta_domains *m;
	struct mta_watch *w;
	char cf[256];

	(void)state;
	skip_without_postfix();
	snprintf(cf, sizeof(cf),
		 "mydestination = a.test\n"
		 "relay_domains = regexp:%s/missing.re\n",
		 dir);
	write_file("main.cf", cf);
	w = watch_until_known("x.test", "y.test");
	m = mta_watch_domains(w);
	assert_int_equal(mta_domains_match(m, "a.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "x.test"), MTA_FOREIGN);
	assert_int_equal(mta_domains_match(m, "y.test"), MTA_FOREIGN);
	assert_int_equal(mta_domains_stats(m)->query_errors, 2);
	mta_watch_free(w);
}

/* A table whose listing outgrows the pipe (4 MiB of postmap -s output):
 * every key read, none lost to a full pipe. */
static void test_big_table(void **state)
{
	struct mta_domains *m = NULL;
	char cf[512], path[128];
	unsigned int i;
	FILE *f;

	(void)state;
	skip_without_postfix();
	snprintf(path, sizeof(path), "%s/big", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 200000; i++)
		fprintf(f, "domain-number-%u.example.org OK\n", i);
	fclose(f);
	snprintf(cf, sizeof(cf),
		 "mydestination =\n"
		 "virtual_mailbox_domains = texthash:%s/big\n",
		 dir);
	write_file("main.cf", cf);
	assert_int_equal(mta_read_now(dir, TIMEOUT, &m, err, sizeof(err)), 0);
	assert_int_equal(mta_domains_stats(m)->domains, 200000);
	assert_int_equal(
		mta_domains_match(m, "domain-number-199999.example.org"),
		MTA_LOCAL);
	mta_domains_free(m);
}

static void test_unreadable(void **state)
{
	struct mta_domains *m = NULL;

	(void)state;
	skip_without_postfix();
	write_file("main.cf", "mydestination = a.test\nbroken line\n");
	assert_int_equal(mta_read_now(dir, TIMEOUT, &m, err, sizeof(err)),
			 -EIO);
	assert_null(m);
	if (!strstr(err, "postconf") || !strstr(err, "missing '='"))
		fail_msg("error does not say why: %s", err);
	assert_int_equal(mta_read_now("/nonexistent/postfix", TIMEOUT, &m, err,
				      sizeof(err)),
			 -EIO);
	assert_non_null(strstr(err, "/nonexistent/postfix/main.cf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_query_error),
		cmocka_unit_test(test_big_table),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
