// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Sessions begun before the daemon started (a restart, an upgrade),
 * taken up from their entry in the data plane's flows map
 * (pipeline_adopt): graded from their next command once the server
 * answers, where a flow first seen in mid-stream stays unverified; what
 * the server accepts there is not held against a session that may have
 * authenticated unseen; a stopped flow is left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "craft.h"
#include "unit.h"

CRAFT_LAB_PIPELINE_FIXTURE(p, col)

/* The attacker's session, greeted and past MAIL before the daemon
 * started: its flows entry as the data plane left it. */
static void begun_before(struct craft *c, uint16_t port, struct rg_flow *dp)
{
	craft_init(c, p, "10.77.0.66", port);
	c->cseq += 120; /* EHLO and MAIL went by unseen */
	c->sseq += 300;
	memset(dp, 0, sizeof(*dp));
	dp->key = c->key;
	dp->sampled_in = 120;
	dp->sampled_out = 300;
	dp->flags = RG_FLOW_SEEN_IN | RG_FLOW_SRV_ACK;
	dp->last_ns = c->ts;
}

/* begun_before() with flags added to its entry, then offered to the
 * pipeline: pipeline_adopt()'s answer. */
static int adopt_begun(struct craft *c, uint16_t port, uint32_t flags)
{
	struct rg_flow dp;

	begun_before(c, port, &dp);
	dp.flags |= flags;
	return pipeline_adopt(p, &dp);
}

static void two_foreign_rcpts(struct craft *c, const char *reply)
{
	craft_client(c, "RCPT TO:<victim@gmail.com>\r\n");
	craft_server(c, reply);
	craft_client(c, "RCPT TO:<victim2@gmail.com>\r\n");
	craft_server(c, reply);
}

#define DENIED "554 5.7.1 Relay access denied\r\n"

/* Adopted with flags added, two foreign RCPTs answered reply: no ban. */
static void adopted_not_banned(uint16_t port, uint32_t flags, const char *reply)
{
	struct craft c;

	assert_int_equal(adopt_begun(&c, port, flags), 1);
	two_foreign_rcpts(&c, reply);
	assert_int_equal(collected(&col, DECISION_BAN, NULL), 0);
}

static void test_adopted_relay_banned(void **state)
{
	struct rg_flow dp;
	struct craft c;

	(void)state;
	begun_before(&c, 40001, &dp);
	assert_int_equal(pipeline_adopt(p, &dp), 1);
	assert_int_equal(pipeline_adopt(p, &dp), 0); /* known already */
	two_foreign_rcpts(&c, DENIED);
	assert_int_equal(collected(&col, DECISION_BAN, "relay_attempt"), 1);
	assert_int_equal(collected(&col, DECISION_FINDING, "pregreet"), 0);
}

/* The same bytes on a flow first met in mid-stream: unverified, so
 * nothing bans (a spoofer can forge them). */
static void test_not_adopted_unverified(void **state)
{
	struct rg_flow dp;
	struct craft c;
	int i;

	(void)state;
	begun_before(&c, 40002, &dp);
	two_foreign_rcpts(&c, DENIED);
	assert_int_equal(collected(&col, DECISION_BAN, NULL), 0);
	for (i = 0; i < col.n; i++)
		assert_true(col.d[i].unverified);
}

/* No server byte: an adopted flow's client alone proves nothing. */
static void test_adopted_client_alone(void **state)
{
	struct craft c;

	(void)state;
	assert_int_equal(adopt_begun(&c, 40003, 0), 1);
	craft_client(&c, "GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
	craft_client(&c, "RCPT TO:<a%b@example.test>\r\n"); /* a probe form */
	assert_int_equal(collected(&col, DECISION_BAN, NULL), 0);
}

/* Accepted foreign recipients: the session may have authenticated
 * before the daemon saw it. */
static void test_adopted_accepted_not_held(void **state)
{
	(void)state;
	adopted_not_banned(40004, 0, "250 2.1.5 Ok\r\n");
}

/* A session not greeted yet when the daemon started: its greeting is
 * the greeting, and the client talking after it is no pregreet. */
static void test_adopted_before_greeting(void **state)
{
	struct rg_flow dp;
	struct craft c;

	(void)state;
	begun_before(&c, 40005, &dp);
	dp.sampled_in = dp.sampled_out = 0;
	dp.flags = 0;
	assert_int_equal(pipeline_adopt(p, &dp), 1);
	craft_server(&c, "220 gw.example.test ESMTP\r\n");
	craft_client(&c, "EHLO x\r\n");
	craft_server(&c, "250 gw.example.test\r\n");
	craft_client(&c, "MAIL FROM:<a@spam.example>\r\n");
	craft_server(&c, "250 2.1.0 Ok\r\n");
	two_foreign_rcpts(&c, DENIED);
	assert_int_equal(pipeline_stats(p)->smtp_sessions, 1);
	assert_int_equal(collected(&col, DECISION_BAN, "relay_attempt"), 1);
	assert_int_equal(collected(&col, DECISION_FINDING, "pregreet"), 0);
}

static void test_stopped_not_adopted(void **state)
{
	struct craft c;

	(void)state;
	assert_int_equal(adopt_begun(&c, 40006, RG_FLOW_STOP), 0);
	assert_int_equal(pipeline_stats(p)->flows_created, 0);
}

/* Banned before this daemon (RG_FLOW_STOP_IN): still taken up, so the
 * server's replies are graded, but nothing it does bans it again. */
static void test_banned_adopted_as_banned(void **state)
{
	(void)state;
	adopted_not_banned(40007, RG_FLOW_STOP_IN, DENIED);
}

UNIT_TEST_MAIN(cmocka_unit_test_setup_teardown(test_adopted_relay_banned, setup,
					       teardown),
	       cmocka_unit_test_setup_teardown(test_not_adopted_unverified,
					       setup, teardown),
	       cmocka_unit_test_setup_teardown(test_adopted_client_alone, setup,
					       teardown),
	       cmocka_unit_test_setup_teardown(test_adopted_accepted_not_held,
					       setup, teardown),
	       cmocka_unit_test_setup_teardown(test_adopted_before_greeting,
					       setup, teardown),
	       cmocka_unit_test_setup_teardown(test_banned_adopted_as_banned,
					       setup, teardown),
	       cmocka_unit_test_setup_teardown(test_stopped_not_adopted, setup,
					       teardown))
