// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The wire's RCPT whose domain Postfix is being asked about (local_domains
 * = postfix:DIR, a table only postmap -q can answer): graded with its
 * reply once the answer is in — an accepted RCPT to a domain Postfix
 * receives for bans nobody, one to a foreign domain is a relay_accepted,
 * a refused one a relay_attempt; with no answer nothing is graded, and
 * the bound holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"
#include "craft.h"
#include "mtadomains.h"
#include "unit.h"

static struct pipeline *p;
static struct collector col;
static struct mta_domains *mta;

static int setup(void **state)
{
	static const char out[] =
		"mydestination = example.test\n"
		"relay_domains = pcre:/etc/postfix/relay.pcre\n"
		"virtual_alias_domains =\nvirtual_mailbox_domains =\n"
		"parent_domain_matches_subdomains = relay_domains\n";
	struct rg_conf conf = *lab_conf();
	char err[256];

	(void)state;
	memset(&col, 0, sizeof(col));
	mta = mta_domains_new();
	if (!mta || mta_parse_postconf(mta, out, strlen(out), err, sizeof(err)))
		return -1;
	mta_domains_finish(mta);
	conf.mta = mta;
	snprintf(conf.local_domains_postfix, sizeof(conf.local_domains_postfix),
		 "/etc/postfix");
	p = pipeline_new(&conf, &collect_ops, &col);
	return p ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pipeline_free(p);
	mta_domains_free(mta);
	return 0;
}

/* A session from client up to its RCPT to rcpt, answered reply. */
static void rcpt_session(struct craft *c, const char *client, uint16_t port,
			 const char *rcpt, const char *reply)
{
	char line[128];

	craft_init(c, p, client, port);
	craft_handshake(c);
	craft_server(c, "220 gw.example.test ESMTP\r\n");
	craft_client(c, "EHLO x\r\n");
	craft_server(c, "250 gw.example.test\r\n");
	craft_client(c, "MAIL FROM:<a@sender.test>\r\n");
	craft_server(c, "250 2.1.0 Ok\r\n");
	snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", rcpt);
	craft_client(c, line);
	craft_server(c, reply);
}

/* Postfix's answers to what relayguardd asked: local ones listed. */
static void answer(const char *local)
{
	char q[MTA_DOMAIN_LEN];

	while (mta_domains_next_query(mta, q, sizeof(q)))
		mta_domains_answer(mta, q, !strcmp(q, local));
	pipeline_retry_deferred(p, boot_ns());
}

/* A session whose RCPT to rcpt waits for Postfix's answer (nothing graded
 * meanwhile, one RCPT deferred), then the answer: partner.test is local. */
static void deferred_then_answered(const char *client, uint16_t port,
				   const char *rcpt, const char *reply)
{
	struct craft c;

	rcpt_session(&c, client, port, rcpt, reply);
	assert_int_equal(col.n, 0);
	assert_int_equal(pipeline_stats(p)->deferred, 1);
	answer("partner.test");
}

static void test_accepted_local(void **state)
{
	struct craft c;

	(void)state;
	deferred_then_answered("10.77.0.10", 40001, "bob@partner.test",
			       "250 2.1.5 Ok\r\n");
	assert_int_equal(col.n, 0); /* the honest sender: nothing */
	/* known now: the next RCPT to it is graded at once, as local */
	rcpt_session(&c, "10.77.0.11", 40002, "carol@partner.test",
		     "250 2.1.5 Ok\r\n");
	assert_int_equal(col.n, 0);
	assert_int_equal(pipeline_stats(p)->deferred, 1);
}

static void test_accepted_foreign(void **state)
{
	(void)state;
	deferred_then_answered("10.77.0.66", 40003, "victim@gmail.com",
			       "250 2.1.5 Ok\r\n");
	assert_int_equal(collected(&col, DECISION_ALERT, "relay_accepted"), 1);
	assert_int_equal(collected(&col, DECISION_BAN, "relay_accepted"), 1);
	assert_string_equal(col.d[0].rcpt_to, "victim@gmail.com");
	assert_string_equal(col.d[0].reply, "250 2.1.5 Ok");
}

static void test_refused_foreign(void **state)
{
	(void)state;
	deferred_then_answered("10.77.0.67", 40004, "victim@yahoo.test",
			       "554 5.7.1 Relay access denied\r\n");
	assert_int_equal(collected(&col, DECISION_FINDING, "relay_attempt"), 1);
}

/* No answer within PIPELINE_DEFER_MAX_NS: let go, counted, not graded. */
static void test_no_answer(void **state)
{
	struct craft c;

	(void)state;
	rcpt_session(&c, "10.77.0.68", 40005, "x@silent.test",
		     "250 2.1.5 Ok\r\n");
	pipeline_retry_deferred(p, c.ts + PIPELINE_DEFER_MAX_NS / 2);
	assert_int_equal(pipeline_stats(p)->deferred_dropped, 0);
	pipeline_retry_deferred(p, c.ts + PIPELINE_DEFER_MAX_NS + 1);
	assert_int_equal(col.n, 0);
	assert_int_equal(pipeline_stats(p)->deferred_dropped, 1);
}

/* Over PIPELINE_MAX_DEFERRED waiting: the next is let go, counted. */
static void test_bound(void **state)
{
	char rcpt[64];
	struct craft c;
	unsigned int i;

	(void)state;
	for (i = 0; i <= PIPELINE_MAX_DEFERRED; i++) {
		snprintf(rcpt, sizeof(rcpt), "u@d%u.test", i);
		rcpt_session(&c, "10.77.0.69", 41000 + i, rcpt,
			     "554 5.7.1 Relay access denied\r\n");
	}
	assert_int_equal(pipeline_stats(p)->deferred, PIPELINE_MAX_DEFERRED);
	assert_int_equal(pipeline_stats(p)->deferred_dropped, 1);
	answer("");
	/* each graded once the answer came: findings, then the ban */
	assert_true(collected(&col, DECISION_BAN, "relay_attempt") >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accepted_local, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_accepted_foreign, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_foreign, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
