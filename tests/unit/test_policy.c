// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Policy: relay-probe forms, grading by the server's reply, trusted and
 * authenticated sessions, weighted signals, ban escalation; and through the
 * whole pipeline: unverified handshakes never ban. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "craft.h"
#include "policy.h"
#include "unit.h"

/* A policy on c, and src parsed from addr. */
static struct policy *policy_at(const struct rg_conf *c, const char *addr,
				struct prefix *src)
{
	assert_int_equal(parse_prefix(addr, src), 0);
	return policy_new(c);
}

static void test_classify(void **state)
{
	static const struct {
		const char *path;
		enum relay_kind kind;
	} cases[] = {
		{ "user@example.test", RELAY_NONE },
		{ "User@EXAMPLE.TEST", RELAY_NONE },
		{ "user@mx.example.test", RELAY_NONE }, /* *.example.test */
		{ "postmaster", RELAY_NONE },
		{ "victim@gmail.com", RELAY_FOREIGN },
		{ "user@example.test.evil.com", RELAY_FOREIGN },
		{ "user@notexample.test", RELAY_FOREIGN },
		{ "u@", RELAY_FOREIGN },
		{ "u%other.com@example.test", RELAY_PERCENT },
		{ "u%other.com", RELAY_PERCENT },
		{ "@relay.example:u@other.com", RELAY_SOURCE_ROUTE },
		{ "@a,@b:u@c", RELAY_SOURCE_ROUTE },
		{ "other.com!u", RELAY_BANG },
		{ "other.com!u@example.test", RELAY_BANG },
		{ "u@[192.0.2.1]", RELAY_IP_LITERAL },
		{ "u@[IPv6:2001:db8::1]", RELAY_IP_LITERAL },
		{ "\"u@other.com\"@example.test", RELAY_QUOTED },
		{ "\"u%other.com\"@example.test", RELAY_QUOTED },
		{ "\"u\\@other\"@example.test", RELAY_QUOTED },
		{ "\"unterminated@example.test", RELAY_QUOTED },
		{ "\"john smith\"@example.test", RELAY_NONE },
	};
	const struct rg_conf *c = lab_conf();
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		enum relay_kind k = policy_classify_rcpt(c, cases[i].path);

		if (k != cases[i].kind)
			fail_msg("%s: got %s, expected %s", cases[i].path,
				 relay_kind_name(k), relay_kind_name(cases[i].kind));
	}
}

/* Every kind has a name of its own; past the last one, "unknown". */
static void test_relay_kind_names(void **state)
{
	enum relay_kind k, j;

	(void)state;
	for (k = RELAY_NONE; k <= RELAY_UNKNOWN; k++) {
		assert_string_not_equal(relay_kind_name(k), "unknown");
		for (j = RELAY_NONE; j < k; j++)
			assert_string_not_equal(relay_kind_name(j),
						relay_kind_name(k));
	}
	assert_string_equal(relay_kind_name(RELAY_UNKNOWN + 1), "unknown");
}

/* One grading case; code 0 is a RCPT whose reply was not seen. */
struct grading {
	const char *src, *path;
	bool auth;
	unsigned int code;
	int n;
	enum decision_action a0;
	const char *code0;
};

static void check_grading(const struct grading *g, unsigned int code)
{
	struct verdict v[POLICY_RCPT_MAX_VERDICTS];
	struct prefix src;
	struct policy *p;
	int n;

	print_message("%s %s%s, code %u\n", g->src, g->path,
		      g->auth ? " (authenticated)" : "", code);
	p = policy_at(lab_conf(), g->src, &src);
	n = policy_rcpt(p, &(struct rcpt_event){
		.src = &src, .client_port = 40000, .authenticated = g->auth,
		.counts = true, .path = g->path, .code = code, .n_rcpt = 1,
		.now_ns = NSEC_PER_SEC }, v);
	policy_free(p);
	assert_int_equal(n, g->n);
	if (!n)
		return;
	assert_int_equal(v[0].action, g->a0);
	assert_string_equal(v[0].code, g->code0);
	if (n == 2) {
		assert_int_equal(v[1].action, DECISION_BAN);
		assert_int_equal(v[1].reason, RG_REASON_RELAY_ACCEPTED);
	}
}

static void test_grading(void **state)
{
	static const struct grading cases[] = {
		/* one refused plain foreign RCPT: a finding (relay_attempts_ban
		 * = 2); test_pipeline_misdirected has the second */
		{ "10.77.0.66", "victim@gmail.com", false, 554, 1,
		  DECISION_FINDING, "relay_attempt" },
		{ "10.77.0.66", "victim@gmail.com", false, 450, 1,
		  DECISION_FINDING, "relay_attempt" },
		{ "10.77.0.66", "victim@gmail.com", false, 250, 2, DECISION_ALERT,
		  "relay_accepted" },
		{ "10.77.0.66", "u%x@example.test", false, 550, 1, DECISION_BAN,
		  "relay_probe" },
		{ "10.77.0.66", "u@example.test", false, 250, 0, 0, NULL },
		{ "10.77.0.66", "u@example.test", false, 550, 0, 0, NULL },
		{ "10.77.0.66", "victim@gmail.com", true, 250, 0, 0, NULL },
		{ "10.77.0.66", "victim@gmail.com", true, 554, 0, 0, NULL },
		{ "10.77.1.5", "victim@gmail.com", false, 250, 0, 0, NULL },
		{ "10.77.1.5", "victim@gmail.com", false, 554, 0, 0, NULL },
		{ "10.77.1.5", "u%x@example.test", false, 554, 0, 0, NULL },
		{ "10.77.0.66", "victim@gmail.com", false, 354, 0, 0, NULL },
	};
	struct verdict v[POLICY_RCPT_MAX_VERDICTS];
	struct rg_conf c1 = *lab_conf();
	struct policy *p;
	struct prefix src;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		check_grading(&cases[i], cases[i].code);
		/* reply not seen: the command alone grades, as a refusal */
		if (cases[i].code >= 400)
			check_grading(&cases[i], 0);
	}
	/* relay_attempts_ban = 1: the first refused attempt bans */
	c1.relay_attempts_ban = 1;
	p = policy_at(&c1, "10.77.0.66", &src);
	n = policy_rcpt(p, &(struct rcpt_event){
		.src = &src, .client_port = 40000, .counts = true,
		.path = "victim@gmail.com", .code = 554, .n_rcpt = 1,
		.now_ns = NSEC_PER_SEC }, v);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].action, DECISION_BAN);
	assert_string_equal(v[0].code, "relay_attempt");
	policy_free(p);
}

/* The wire and the policy service report the same RCPT of one session
 * (same client address and port): it counts once. Another session, or
 * another recipient, counts again; the second attempt outside
 * score_window of the first starts over. */
static void test_rcpt_counted_once(void **state)
{
	struct verdict v[POLICY_RCPT_MAX_VERDICTS];
	struct policy *p = policy_new(lab_conf());
	struct rcpt_event e = {
		.counts = true, .path = "victim@gmail.com",
		.now_ns = NSEC_PER_SEC, .client_port = 40000,
	};
	struct prefix src;

	(void)state;
	parse_prefix("10.77.0.66", &src);
	e.src = &src;
	/* policy service first (no reply yet), then the wire's 554 */
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_int_equal(v[0].action, DECISION_FINDING);
	e.code = 554;
	e.path = "Victim@GMAIL.com"; /* the wire strips the brackets */
	e.n_rcpt = 1;
	assert_int_equal(policy_rcpt(p, &e, v), 0);
	/* the same recipient in the next session is a second attempt */
	e.client_port = 40001;
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_int_equal(v[0].action, DECISION_BAN);
	/* after the ban the count starts again; a gap over score_window
	 * forgets the first attempt */
	e.client_port = 40002;
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_int_equal(v[0].action, DECISION_FINDING);
	e.client_port = 40003;
	e.now_ns += (lab_conf()->score_window + 1) * NSEC_PER_SEC;
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_int_equal(v[0].action, DECISION_FINDING);
	policy_free(p);
}

/* More than max_rcpts in a session is signalled once, whoever (wire or
 * policy service) counts past it first. */
static void test_too_many_rcpts_once(void **state)
{
	struct verdict v[POLICY_RCPT_MAX_VERDICTS];
	struct rg_conf c = *lab_conf();
	struct policy *p;
	struct rcpt_event e = {
		.counts = true, .path = "user@example.test",
		.now_ns = NSEC_PER_SEC, .client_port = 40000,
	};
	struct prefix src;
	unsigned int i, signals = 0;

	(void)state;
	c.max_rcpts = 3;
	p = policy_at(&c, "192.0.2.40", &src);
	e.src = &src;
	for (i = 1; i <= 6; i++) { /* policy service: counts by itself */
		signals += policy_rcpt(p, &e, v);
	}
	for (i = 1; i <= 6; i++) { /* the wire, same session */
		e.n_rcpt = i;
		signals += policy_rcpt(p, &e, v);
	}
	assert_int_equal(signals, 1);
	e.client_port = 40001; /* the next session may be signalled again */
	e.n_rcpt = 4;
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_string_equal(v[0].code, "too_many_rcpts");
	policy_free(p);
}

static void test_ban_duration(void **state)
{
	struct rg_conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(policy_ban_duration(&c, 0), 3600);
	assert_int_equal(policy_ban_duration(&c, 1), 3600);
	assert_int_equal(policy_ban_duration(&c, 2), 7200);
	assert_int_equal(policy_ban_duration(&c, 4), 28800);
	assert_int_equal(policy_ban_duration(&c, 9), 7 * 86400); /* capped */
	assert_int_equal(policy_ban_duration(&c, 4000000), 7 * 86400);
	c.ban_time_factor = 1;
	assert_int_equal(policy_ban_duration(&c, 50), 3600);
}

static void test_signals(void **state)
{
	struct rg_conf c = *lab_conf();
	struct policy *p = policy_new(&c);
	struct prefix src, trusted;
	struct verdict v;
	uint64_t t = 5 * NSEC_PER_SEC;

	(void)state;
	assert_non_null(p);
	parse_prefix("192.0.2.9", &src);
	parse_prefix("10.77.1.7", &trusted);
	/* pregreet 5 + auth 2 = 7 < 10: findings; then pregreet: 12 >= 10 */
	assert_int_equal(policy_signal(p, &src, SIG_PREGREET, t, &v), 1);
	assert_int_equal(v.action, DECISION_FINDING);
	assert_string_equal(v.code, "pregreet");
	policy_signal(p, &src, SIG_AUTH_FAILURE, t + 1, &v);
	assert_int_equal(v.action, DECISION_FINDING);
	policy_signal(p, &src, SIG_PREGREET, t + 2, &v);
	assert_int_equal(v.action, DECISION_BAN);
	assert_int_equal(v.reason, RG_REASON_ABUSE_SCORE);
	assert_string_equal(v.code, "abuse_score");
	/* a signal as heavy as the threshold bans under its own reason */
	policy_signal(p, &src, SIG_NON_SMTP, t + 3, &v);
	assert_int_equal(v.action, DECISION_BAN);
	assert_string_equal(v.code, "non_smtp");
	/* outside the window the score starts again */
	policy_signal(p, &src, SIG_PREGREET, t + 4, &v);
	policy_signal(p, &src, SIG_PREGREET,
		      t + 4 + (c.score_window + 1) * NSEC_PER_SEC, &v);
	assert_int_equal(v.action, DECISION_FINDING);
	/* trusted sources are never banned */
	policy_signal(p, &trusted, SIG_NON_SMTP, t, &v);
	assert_int_equal(v.action, DECISION_FINDING);
	policy_free(p);
}

static void test_auth_failures_ban(void **state)
{
	struct rg_conf c = *lab_conf();
	struct policy *p;
	struct prefix src;
	struct verdict v;
	unsigned int i;

	(void)state;
	c.weight_auth_failure = 0;
	c.auth_failures_ban = 3;
	p = policy_at(&c, "192.0.2.10", &src);
	for (i = 1; i <= 3; i++) {
		policy_signal(p, &src, SIG_AUTH_FAILURE, i, &v);
		assert_int_equal(v.action, i < 3 ? DECISION_FINDING : DECISION_BAN);
	}
	assert_string_equal(v.code, "auth_failure");
	policy_free(p);
}

static void test_session_rate(void **state)
{
	struct rg_conf c = *lab_conf();
	struct policy *p;
	struct prefix src;
	unsigned int i, over = 0;

	(void)state;
	c.sessions_per_minute = 5;
	p = policy_at(&c, "2001:db8::1", &src);
	for (i = 0; i < 20; i++)
		over += policy_session(p, &src, NSEC_PER_SEC + i);
	assert_int_equal(over, 1); /* once per minute */
	/* another address in the same /64 shares the count */
	parse_prefix("2001:db8::2", &src);
	assert_false(policy_session(p, &src, NSEC_PER_SEC + 30));
	assert_true(policy_session(p, &src, 62 * NSEC_PER_SEC) == false);
	policy_free(p);
}

/* ---- through the pipeline ---- */

CRAFT_LAB_PIPELINE_FIXTURE(pl, col)

static const char denied[] =
	"554 5.7.1 <victim@gmail.com>: Relay access denied\r\n";

/* The fixture's pipeline anew, on conf (which must outlive it), nothing
 * collected yet. */
static void pipeline_on(const struct rg_conf *conf)
{
	pipeline_free(pl);
	memset(&col, 0, sizeof(col));
	pl = pipeline_new(conf, &collect_ops, &col);
	assert_non_null(pl);
}

/* A verified connection from client, port. */
static void session_from(struct craft *c, const char *client, uint16_t port)
{
	craft_init(c, pl, client, port);
	craft_handshake(c);
}

/* The client's SYN and a SYN-ACK acking its ISN + ack (1: the SYN's
 * answer); no third ACK. */
static void syn_synack(struct craft *c, uint32_t ack)
{
	craft_raw(c, RG_DIR_IN, RG_TCP_SYN, c->cseq, 0, NULL, 0);
	craft_raw(c, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, c->sseq,
		  c->cseq + ack, NULL, 0);
	c->cseq++;
	c->sseq++;
}

static void relay_session(struct craft *c, const char *reply)
{
	craft_server(c, "220 gw.example.test ESMTP\r\n");
	craft_client(c, "EHLO vm\r\n");
	craft_server(c, "250-gw.example.test\r\n250 PIPELINING\r\n");
	craft_client(c, "MAIL FROM:<a@spam.example>\r\nRCPT TO:<victim@gmail.com>\r\n");
	craft_server(c, "250 2.1.0 Ok\r\n");
	craft_server(c, reply);
}

/* got is want, where want says anything. */
static void assert_if_given(const char *got, const char *want)
{
	if (*want)
		assert_string_equal(got, want);
}

/* n decisions were collected, the first n of want: each its action, and
 * its reason, code, recipient, reply and source where want gives them. */
static void assert_decisions(const struct seen_decision *want, int n)
{
	int i;

	assert_int_equal(col.n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(col.d[i].action, want[i].action);
		if (want[i].reason)
			assert_int_equal(col.d[i].reason, want[i].reason);
		assert_if_given(col.d[i].code, want[i].code);
		assert_if_given(col.d[i].rcpt_to, want[i].rcpt_to);
		assert_if_given(col.d[i].reply, want[i].reply);
		assert_if_given(col.d[i].source, want[i].source);
	}
}

/* relay_attempts_ban = 1 (the behaviour before the default became 2):
 * the first refused attempt bans in-session. */
static void test_pipeline_relay_denied(void **state)
{
	static const struct seen_decision want[] = {
		{ .action = DECISION_BAN, .reason = RG_REASON_RELAY_ATTEMPT,
		  .code = "relay_attempt", .rcpt_to = "victim@gmail.com",
		  .reply = "554 5.7.1 <victim@gmail.com>: Relay access denied",
		  .source = "10.77.0.66" },
	};
	static struct rg_conf conf;
	struct craft c;

	(void)state;
	conf = *lab_conf();
	conf.relay_attempts_ban = 1;
	pipeline_on(&conf);
	session_from(&c, "10.77.0.66", 40000);
	relay_session(&c, denied);
	assert_decisions(want, 1);
	/* the client's side stops, the server's replies are still read */
	assert_int_equal(col.client_stops, 1);
	assert_int_equal(col.stops, 0);
}

static void test_pipeline_relay_accepted(void **state)
{
	static const struct seen_decision want[] = {
		{ .action = DECISION_ALERT, .code = "relay_accepted" },
		{ .action = DECISION_BAN, .reason = RG_REASON_RELAY_ACCEPTED },
	};
	struct craft c;

	(void)state;
	session_from(&c, "10.77.0.66", 40001);
	relay_session(&c, "250 2.1.5 Ok\r\n");
	assert_decisions(want, 2);
}

/* No SYN-ACK, or a client ACK that does not match the server's ISN: the
 * same dialogue gives findings marked unverified, never a ban. */
static void test_pipeline_unverified_never_bans(void **state)
{
	struct craft c;

	(void)state;
	/* 1: no handshake at all (picked up mid-stream / spoofed) */
	craft_init(&c, pl, "10.77.0.66", 40002);
	relay_session(&c, "554 5.7.1 Relay access denied\r\n");
	/* 2: SYN and SYN-ACK, but the client's ACK guesses the ISN wrong */
	craft_init(&c, pl, "10.77.0.67", 40003);
	syn_synack(&c, 1);
	c.ack_skew = 77777; /* every client ACK is off: it never saw the SYN-ACK */
	relay_session(&c, "250 2.1.5 Ok\r\n");
	/* 3: SYN-ACK that does not answer the client's SYN: the server
	 * expects the client's bytes at another position, these are not the
	 * connection's and nothing is read */
	craft_init(&c, pl, "10.77.0.68", 40004);
	syn_synack(&c, 99);
	relay_session(&c, "554 5.7.1 Relay access denied\r\n");
	assert_int_equal(collected(&col, DECISION_BAN, NULL), 0);
	assert_int_equal(collected(&col, DECISION_ALERT, NULL), 0);
	/* one finding per unverified flow: flow 2's alert and ban are one
	 * line, the second counted as suppressed */
	assert_int_equal(collected(&col, DECISION_FINDING, "relay_attempt"), 1);
	assert_int_equal(collected(&col, DECISION_FINDING, "relay_accepted"), 1);
	assert_int_equal(pipeline_stats(pl)->unverified_suppressed, 1);
	for (int i = 0; i < col.n; i++)
		if (col.d[i].action == DECISION_FINDING &&
		    strncmp(col.d[i].code, "relay_", 6) == 0)
			assert_true(col.d[i].unverified);
}

/* A spoofer resetting and re-forging flows from many sources gets at most
 * UNVERIFIED_REPORTS_PER_SEC (10) lines a second into the event log. */
static void test_pipeline_unverified_reports_capped(void **state)
{
	struct craft c;
	char addr[32];
	int i;

	(void)state;
	for (i = 0; i < 30; i++) {
		snprintf(addr, sizeof(addr), "10.77.2.%d", i + 1);
		craft_init(&c, pl, addr, 41000 + i);
		relay_session(&c, "554 5.7.1 Relay access denied\r\n");
	}
	assert_int_equal(collected(&col, DECISION_BAN, NULL), 0);
	assert_int_equal(collected(&col, DECISION_FINDING, NULL), 10);
	assert_int_equal(pipeline_stats(pl)->unverified_suppressed, 20);
}

static void test_pipeline_auth_then_foreign(void **state)
{
	struct craft c;

	(void)state;
	session_from(&c, "192.0.2.50", 40005);
	craft_server(&c, "220 gw\r\n");
	craft_client(&c, "EHLO laptop\r\n");
	craft_server(&c, "250-gw\r\n250 AUTH PLAIN\r\n");
	craft_client(&c, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
	craft_server(&c, "235 2.7.0 Authentication successful\r\n");
	craft_client(&c, "MAIL FROM:<alice@example.test>\r\n");
	craft_server(&c, "250 Ok\r\n");
	craft_client(&c, "RCPT TO:<friend@gmail.com>\r\n");
	craft_server(&c, "250 Ok\r\n");
	assert_int_equal(col.n, 0);
}

static void test_pipeline_pregreet_and_trusted(void **state)
{
	struct craft c;

	(void)state;
	session_from(&c, "192.0.2.51", 40006);
	craft_client(&c, "EHLO eager\r\n"); /* before the 220 */
	craft_server(&c, "220 gw\r\n");
	assert_int_equal(collected(&col, DECISION_FINDING, "pregreet"), 1);
	/* a trusted relay accepted is normal */
	session_from(&c, "10.77.1.5", 40007);
	relay_session(&c, "250 2.1.5 Ok\r\n");
	assert_int_equal(col.n, 1);
}

/* Spoofed SYNs and unverified dialogues add nothing to a source's score or
 * session count: only verified sessions do. */
static void test_pipeline_spoofed_signals_do_not_count(void **state)
{
	static struct rg_conf conf;
	struct craft c;
	int i;

	(void)state;
	conf = *lab_conf();
	conf.sessions_per_minute = 3;
	conf.weight_session_rate = 10; /* one signal bans */
	conf.weight_pregreet = 9;
	pipeline_on(&conf);
	for (i = 0; i < 20; i++) { /* SYN flood, never completed */
		craft_init(&c, pl, "192.0.2.99", 2000 + i);
		syn_synack(&c, 1);
	}
	for (i = 0; i < 5; i++) { /* blind talk before any server byte */
		craft_init(&c, pl, "192.0.2.99", 3000 + i);
		craft_raw(&c, RG_DIR_IN, RG_TCP_SYN, c.cseq, 0, NULL, 0);
		c.cseq++;
		craft_client(&c, "EHLO x\r\n");
	}
	assert_int_equal(collected(&col, DECISION_BAN, NULL), 0);
	assert_int_equal(collected(&col, DECISION_FINDING, "session_rate"), 0);
	assert_int_equal(collected(&col, DECISION_FINDING, "pregreet"), 5);
	for (i = 0; i < col.n; i++)
		assert_true(col.d[i].unverified);
	/* real sessions: the 4th in the minute is over the rate */
	for (i = 0; i < 4; i++)
		session_from(&c, "192.0.2.99", 4000 + i);
	assert_int_equal(collected(&col, DECISION_BAN, "session_rate"), 1);
}

/* A legitimate MTA delivering to a domain whose MX wrongly points here:
 * one foreign RCPT, refused, QUIT. A finding; a second attempt within
 * score_window, in another session, is a ban. */
static void test_pipeline_misdirected(void **state)
{
	static const struct seen_decision want[] = {
		{ .action = DECISION_FINDING, .reason = RG_REASON_RELAY_ATTEMPT,
		  .code = "relay_attempt" },
		{ .action = DECISION_BAN, .code = "relay_attempt" },
	};
	struct craft c;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		session_from(&c, "10.77.0.70", 40100 + i);
		relay_session(&c, denied);
		craft_client(&c, "QUIT\r\n");
		craft_server(&c, "221 2.0.0 Bye\r\n");
		assert_decisions(want, i + 1);
	}
}

/* Two refused foreign RCPTs in one session: banned at the second. */
static void test_pipeline_second_rcpt_bans(void **state)
{
	static const struct seen_decision want[] = {
		{ .action = DECISION_FINDING },
		{ .action = DECISION_BAN, .rcpt_to = "victim2@gmail.com" },
	};
	struct craft c;

	(void)state;
	session_from(&c, "10.77.0.71", 40102);
	relay_session(&c, denied);
	craft_client(&c, "RCPT TO:<victim2@gmail.com>\r\n");
	craft_server(&c, "554 5.7.1 <victim2@gmail.com>: Relay access denied\r\n");
	assert_decisions(want, 2);
	assert_int_equal(col.client_stops, 1);
}

/* A bulk sender (a mailing list, a big provider's outbound address) opens
 * many sessions with many recipients: at the defaults, volume alone gives
 * findings and never a ban; one abuse signal on top of it does ban. */
static void test_volume_only_never_bans(void **state)
{
	struct rg_conf c;
	struct policy *p;
	struct prefix src;
	struct verdict v;
	uint64_t t = NSEC_PER_SEC;
	unsigned int i, bans = 0;

	(void)state;
	conf_defaults(&c);
	p = policy_at(&c, "198.51.100.25", &src);
	for (i = 0; i < 1000; i++) {
		policy_signal(p, &src, i % 2 ? SIG_SESSION_RATE :
					       SIG_TOO_MANY_RCPTS,
			      t + i * NSEC_PER_SEC / 10, &v);
		bans += v.action == DECISION_BAN;
	}
	assert_int_equal(bans, 0);
	assert_int_equal(v.action, DECISION_FINDING);
	policy_signal(p, &src, SIG_PREGREET, t + 101 * NSEC_PER_SEC, &v);
	assert_int_equal(v.action, DECISION_BAN);
	assert_string_equal(v.code, "abuse_score");
	policy_free(p);
}

/* The defaults' boundaries: 100 RCPTs in a session (RFC 5321's minimum a
 * server must accept) are no signal, 101 are; 60 sessions a minute are no
 * signal, the 61st is; a weight as heavy as the threshold still bans alone
 * (the operator's choice). */
static void test_volume_boundaries(void **state)
{
	struct verdict v[POLICY_RCPT_MAX_VERDICTS], one;
	struct rg_conf c;
	struct policy *p;
	struct prefix src;
	struct rcpt_event e = {
		.counts = true, .path = "user@example.com",
		.now_ns = NSEC_PER_SEC, .client_port = 40000,
	};
	unsigned int i;

	(void)state;
	conf_defaults(&c);
	c.n_local_domains = 1;
	snprintf(c.local_domains[0], sizeof(c.local_domains[0]), "example.com");
	p = policy_at(&c, "198.51.100.26", &src);
	e.src = &src;
	for (e.n_rcpt = 1; e.n_rcpt <= 100; e.n_rcpt++)
		assert_int_equal(policy_rcpt(p, &e, v), 0);
	assert_int_equal(policy_rcpt(p, &e, v), 1); /* the 101st */
	assert_int_equal(v[0].action, DECISION_FINDING);
	assert_string_equal(v[0].code, "too_many_rcpts");
	for (i = 0; i < 60; i++)
		assert_false(policy_session(p, &src, 2 * NSEC_PER_SEC + i));
	assert_true(policy_session(p, &src, 2 * NSEC_PER_SEC + 60));
	policy_signal(p, &src, SIG_SESSION_RATE, 2 * NSEC_PER_SEC + 60, &one);
	assert_int_equal(one.action, DECISION_FINDING); /* 5 + 5 capped at 9 */
	policy_free(p);
	c.weight_session_rate = c.score_threshold;
	p = policy_new(&c);
	policy_signal(p, &src, SIG_SESSION_RATE, NSEC_PER_SEC, &one);
	assert_int_equal(one.action, DECISION_BAN);
	assert_string_equal(one.code, "session_rate");
	policy_free(p);
}

/* A bulk sender (volume signals at their cap) delivering one misdirected
 * message is not banned for it; its second attempt is, as is one abuse
 * signal on top of the first. */
static void test_bulk_sender_misdirected(void **state)
{
	struct verdict v[POLICY_RCPT_MAX_VERDICTS], one;
	struct policy *p = policy_new(lab_conf());
	struct rcpt_event e = {
		.counts = true, .path = "someone@elsewhere.example",
		.code = 554, .n_rcpt = 1, .client_port = 40000,
	};
	struct prefix src;
	uint64_t t = NSEC_PER_SEC;

	(void)state;
	parse_prefix("198.51.100.27", &src);
	e.src = &src;
	policy_signal(p, &src, SIG_SESSION_RATE, t, &one);
	policy_signal(p, &src, SIG_TOO_MANY_RCPTS, t, &one);
	assert_int_equal(one.action, DECISION_FINDING); /* volume: 9 */
	e.now_ns = t + 1;
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_int_equal(v[0].action, DECISION_FINDING); /* 9 + 5, no ban */
	policy_signal(p, &src, SIG_PREGREET, t + 2, &one);
	assert_int_equal(one.action, DECISION_BAN); /* an abuse signal on top */
	policy_signal(p, &src, SIG_SESSION_RATE, t + 3, &one);
	e.client_port = 40001;
	e.now_ns = t + 4;
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_int_equal(v[0].action, DECISION_FINDING);
	e.client_port = 40002;
	e.now_ns = t + 5;
	assert_int_equal(policy_rcpt(p, &e, v), 1);
	assert_int_equal(v[0].action, DECISION_BAN); /* the second attempt */
	assert_string_equal(v[0].code, "relay_attempt");
	policy_free(p);
}

/* One stream cut into two segments at every byte boundary (the client's
 * pipelined MAIL+RCPT+DATA and the server's replies): the same decision. */
static void test_pipeline_every_split(void **state)
{
	static const char cli[] = "MAIL FROM:<a@spam.example>\r\n"
				  "RCPT TO:<user@example.test>\r\n"
				  "RCPT TO:<victim@gmail.com>\r\nDATA\r\n";
	static const char srv[] = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
				  "554 5.7.1 <victim@gmail.com>: Relay access denied\r\n"
				  "554 5.5.1 Error: no valid recipients\r\n";
	size_t cut, clen = strlen(cli), slen = strlen(srv);
	static struct rg_conf conf;
	struct craft c;

	(void)state;
	conf = *lab_conf();
	conf.relay_attempts_ban = 1;
	for (cut = 0; cut <= (clen > slen ? clen : slen); cut++) {
		size_t cc = cut < clen ? cut : clen, sc = cut < slen ? cut : slen;

		pipeline_on(&conf);
		session_from(&c, "10.77.0.66", 41000);
		craft_server(&c, "220 gw\r\n");
		craft_client(&c, "EHLO vm\r\n");
		craft_server(&c, "250-gw\r\n250 PIPELINING\r\n");
		/* second halves first: out of order as well as split */
		craft_raw(&c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c.cseq + cc,
			  c.sseq, cli + cc, clen - cc);
		craft_raw(&c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c.cseq,
			  c.sseq, cli, cc);
		c.cseq += clen;
		craft_raw(&c, RG_DIR_OUT, RG_TCP_PSH | RG_TCP_ACK, c.sseq + sc,
			  c.cseq, srv + sc, slen - sc);
		craft_raw(&c, RG_DIR_OUT, RG_TCP_PSH | RG_TCP_ACK, c.sseq,
			  c.cseq, srv, sc);
		if (col.n != 1 || col.d[0].action != DECISION_BAN ||
		    strcmp(col.d[0].code, "relay_attempt") ||
		    strcmp(col.d[0].rcpt_to, "victim@gmail.com") ||
		    strncmp(col.d[0].reply, "554 5.7.1 <victim", 17))
			fail_msg("cut %zu: %d decisions, first %s %s", cut, col.n,
				 col.n ? col.d[0].code : "-",
				 col.n ? col.d[0].reply : "-");
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
UNIT_TEST_MAIN(cmocka_unit_test(test_classify),
	       cmocka_unit_test(test_relay_kind_names),
	       cmocka_unit_test(test_grading),
	       cmocka_unit_test(test_rcpt_counted_once),
	       cmocka_unit_test(test_too_many_rcpts_once),
	       cmocka_unit_test(test_ban_duration),
	       cmocka_unit_test(test_signals),
	       cmocka_unit_test(test_auth_failures_ban),
	       cmocka_unit_test(test_session_rate),
	       T(test_pipeline_relay_denied), T(test_pipeline_relay_accepted),
	       T(test_pipeline_unverified_never_bans),
	       T(test_pipeline_unverified_reports_capped),
	       T(test_pipeline_auth_then_foreign),
	       T(test_pipeline_pregreet_and_trusted),
	       T(test_pipeline_every_split),
	       T(test_pipeline_spoofed_signals_do_not_count),
	       T(test_pipeline_misdirected), T(test_pipeline_second_rcpt_bans),
	       cmocka_unit_test(test_volume_only_never_bans),
	       cmocka_unit_test(test_volume_boundaries),
	       cmocka_unit_test(test_bulk_sender_misdirected))
#undef T
