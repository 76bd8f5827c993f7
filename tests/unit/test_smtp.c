// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The SMTP dialogue parser: replies paired with commands (pipelining,
 * multi-line), AUTH, STARTTLS, DATA/BDAT, line limits, bare LF, non-SMTP
 * bytes; the same result whatever the segment boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtp.h"
#include "unit.h"

/* Everything the parser reports, as one transcript string. */
struct rec {
	char log[8192];
	size_t len;
	int stops;
};

static void rec_printf(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (r->len < sizeof(r->log))
		r->len += vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt,
				    ap);
	va_end(ap);
}

static void on_reply(void *ctx, struct smtp *s, enum smtp_verb verb,
		     const char *arg, const struct smtp_reply *r)
{
	(void)s;
	rec_printf(ctx, "%s%s%s=%u[%s]/%u;", smtp_verb_name(verb),
		   arg ? ":" : "", arg ? arg : "", r->code, r->enhanced,
		   r->lines);
}

static void on_finding(void *ctx, struct smtp *s, enum smtp_finding what,
		       const char *detail)
{
	(void)s;
	(void)detail;
	rec_printf(ctx, "!%s;", smtp_finding_name(what));
}

static void on_stop(void *ctx, struct smtp *s)
{
	struct rec *r = ctx;

	(void)s;
	r->stops++;
	rec_printf(r, "STOP;");
}

static void on_pause(void *ctx, struct smtp *s)
{
	(void)s;
	rec_printf(ctx, "PAUSE;");
}

static void on_resume(void *ctx, struct smtp *s)
{
	rec_printf(ctx, "RESUME@%u;", s->reply_ack);
}

static const struct smtp_callbacks cbs = { .reply = on_reply,
					   .finding = on_finding,
					   .stop = on_stop,
					   .pause = on_pause,
					   .resume = on_resume };

/* A dialogue: the client's and the server's bytes, interleaved in the
 * order they travel; text NULL is a gap (a lost segment) in dir. Each
 * server step acknowledges every client byte before it. */
struct step {
	enum smtp_dir dir;
	const char *text;
};

/* A parser recording into a clean r. */
static void start(struct rec *r, struct smtp *s)
{
	memset(r, 0, sizeof(*r));
	smtp_init(s, &cbs, r);
}

/* Run steps, cutting every step at byte `cut` (0: no cut). */
static void run(const struct step *steps, size_t n, size_t cut, struct rec *r,
		struct smtp *s)
{
	size_t i, len;

	start(r, s);
	for (i = 0; i < n; i++) {
		if (!steps[i].text) {
			smtp_gap(s, steps[i].dir);
			continue;
		}
		len = strlen(steps[i].text);
		if (steps[i].dir == SMTP_SERVER)
			s->reply_ack = s->seq[SMTP_CLIENT];
		if (cut && cut < len) {
			smtp_feed(s, steps[i].dir, (const uint8_t *)steps[i].text,
				  cut);
			smtp_feed(s, steps[i].dir,
				  (const uint8_t *)steps[i].text + cut, len - cut);
		} else {
			smtp_feed(s, steps[i].dir, (const uint8_t *)steps[i].text,
				  len);
		}
	}
}

static const struct step pipelined[] = {
	{ SMTP_SERVER, "220 gw.example.test ESMTP Postfix\r\n" },
	{ SMTP_CLIENT, "EHLO client.example.net\r\n" },
	{ SMTP_SERVER, "250-gw.example.test\r\n250-PIPELINING\r\n"
		       "250-SIZE 10240000\r\n250 8BITMIME\r\n" },
	{ SMTP_CLIENT, "MAIL FROM:<a@example.net> SIZE=100\r\n"
		       "RCPT TO:<user@example.test>\r\n"
		       "RCPT TO:<victim@gmail.com>\r\nRCPT TO:<\"q>x\"@example.test>\r\n"
		       "DATA\r\n" },
	{ SMTP_SERVER, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		       "554 5.7.1 <victim@gmail.com>: Relay access denied\r\n"
		       "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" },
	{ SMTP_CLIENT, "Subject: x\r\n\r\nRCPT TO:<not-a-command@x>\r\n.\r\n" },
	{ SMTP_SERVER, "250 2.0.0 Ok: queued as 4F00\r\n" },
	{ SMTP_CLIENT, "MAIL FROM:<b@example.net>\r\nRCPT TO:<w@gmail.com>\r\n" },
	{ SMTP_SERVER, "250 2.1.0 Ok\r\n"
		       "554 5.7.1 <w@gmail.com>: Relay access denied\r\n" },
};

#define N_PIPELINED (ARRAY_LEN(pipelined))

#define PIPELINED_LOG                                                        \
	"greeting=220[]/1;EHLO=250[]/4;MAIL=250[2.1.0]/1;"                   \
	"RCPT:user@example.test=250[2.1.5]/1;"                               \
	"RCPT:victim@gmail.com=554[5.7.1]/1;"                                \
	"RCPT:\"q>x\"@example.test=250[2.1.5]/1;DATA=354[]/1;PAUSE;"     \
	"end of data=250[2.0.0]/1;RESUME@198;MAIL=250[2.1.0]/1;"            \
	"RCPT:w@gmail.com=554[5.7.1]/1;"

static void test_pipelined(void **state)
{
	struct smtp s;
	struct rec r;

	(void)state;
	run(pipelined, N_PIPELINED, 0, &r, &s);
	assert_string_equal(r.log, PIPELINED_LOG);
	assert_int_equal(s.n_rcpt, 4);
	assert_string_equal(s.helo, "client.example.net");
	assert_string_equal(s.mail_from, "b@example.net");
	assert_false(smtp_done(&s));
	smtp_free(&s);
}

/* Every byte boundary of every step, and byte-by-byte, give the same
 * transcript. */
static void test_every_split(void **state)
{
	struct smtp s;
	struct rec r;
	size_t cut, i, j, len;

	(void)state;
	for (cut = 1; cut < 200; cut++) {
		run(pipelined, N_PIPELINED, cut, &r, &s);
		assert_string_equal(r.log, PIPELINED_LOG);
		smtp_free(&s);
	}
	start(&r, &s);
	for (i = 0; i < N_PIPELINED; i++) {
		len = strlen(pipelined[i].text);
		if (pipelined[i].dir == SMTP_SERVER)
			s.reply_ack = s.seq[SMTP_CLIENT];
		for (j = 0; j < len; j++)
			smtp_feed(&s, pipelined[i].dir,
				  (const uint8_t *)pipelined[i].text + j, 1);
	}
	assert_string_equal(r.log, PIPELINED_LOG);
	smtp_free(&s);
}

/* Findings: table-driven. */
static void test_findings(void **state)
{
	static char long_cmd[700], long_reply[700], huge[3000];
	static const struct {
		const char *client, *server, *expect;
	} cases[] = {
		{ "EHLO x\n", "220 gw\r\n250 ok\r\n", "!bare_lf;" },
		{ "EHLO x\r\n", "220 gw\n250 ok\r\n", "!bare_lf;" },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "220 gw\r\n",
		  "!non_smtp;STOP;" },
		{ "CONNECT 1.2.3.4:25 HTTP/1.0\r\n\r\n", "220 gw\r\n",
		  "!non_smtp;STOP;" },
		{ "POST / HTTP/1.1\r\n", "220 gw\r\n", "!non_smtp;STOP;" },
		{ "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1", "220 gw\r\n",
		  "!non_smtp;STOP;" },
		{ "EHLO \x01\x02\x03\r\n", "220 gw\r\n", "!non_smtp;STOP;" },
		{ "XYZZY\r\n", "220 gw\r\n500 5.5.2 Error\r\n",
		  "!unknown_command;" },
		{ long_cmd, "220 gw\r\n", "!command_too_long;" },
		{ huge, "220 gw\r\n", "!command_too_long;" },
		{ "NOOP\r\n", long_reply, "!reply_too_long;" },
		{ "NOOP\r\n", "hello there\r\n", "!bad_reply;" },
		{ "", "220 gw\r\n250 what\r\n", "!unexpected_reply;" },
	};
	struct smtp s;
	struct rec r;
	size_t i;

	(void)state;
	memcpy(long_cmd, "MAIL FROM:<", 11);
	memset(long_cmd + 11, 'a', 600);
	memcpy(long_cmd + 611, ">\r\n", 4);
	memcpy(long_reply, "220 ", 4);
	memset(long_reply + 4, 'b', 600);
	memcpy(long_reply + 604, "\r\n", 3);
	memcpy(huge, "NOOP ", 5);
	memset(huge + 5, 'c', 2500);
	memcpy(huge + 2505, "\r\n", 3);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		/* server first: a greeting, then the client talks */
		const struct step st[] = {
			{ SMTP_SERVER, cases[i].server },
			{ SMTP_CLIENT, cases[i].client },
		};

		run(st, 2, 0, &r, &s);
		if (!strstr(r.log, cases[i].expect))
			fail_msg("case %zu: '%s' lacks '%s'", i, r.log,
				 cases[i].expect);
		smtp_free(&s);
	}
}

/* The steps of a dialogue, and their count, for a struct dialogue. */
#define STEPS(...)                                                             \
	.steps = (const struct step[]){ __VA_ARGS__ },                         \
	.n = sizeof((const struct step[]){ __VA_ARGS__ }) /                    \
	     sizeof(struct step)

/* A dialogue and the transcript it gives; at its end the flags are set
 * and, where counted, n_rcpt RCPTs were seen. Written { name, STEPS(...),
 * log, ... }: the fields after n follow STEPS() in order. */
struct dialogue {
	const char *name;
	const struct step *steps;
	size_t n;
	const char *log;
	unsigned int flags;
	bool counted;
	unsigned int n_rcpt;
};

static const struct dialogue dialogues[] = {
	{ "multiline reply",
	  STEPS({ SMTP_SERVER, "220-gw.example.test first\r\n220-second\r\n"
			       "220 ready\r\n" },
		{ SMTP_CLIENT, "EHLO x\r\nNOOP\r\n" },
		{ SMTP_SERVER, "250-a\r\n250-b\r\n250 c\r\n250 2.0.0 Ok\r\n" }),
	  "greeting=220[]/3;EHLO=250[]/3;NOOP=250[2.0.0]/1;" },
	/* the AUTH answer was no command */
	{ "auth",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_CLIENT, "EHLO x\r\n" },
		{ SMTP_SERVER, "250-gw\r\n250 AUTH PLAIN LOGIN\r\n" },
		{ SMTP_CLIENT, "AUTH LOGIN\r\n" },
		{ SMTP_SERVER, "334 VXNlcm5hbWU6\r\n" },
		{ SMTP_CLIENT, "RCPT TO:<looks@like.command>\r\n" },
		{ SMTP_SERVER, "334 UGFzc3dvcmQ6\r\n" },
		{ SMTP_CLIENT, "c2VjcmV0\r\n" },
		{ SMTP_SERVER, "535 5.7.8 Error: authentication failed\r\n" },
		{ SMTP_CLIENT, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n" },
		{ SMTP_SERVER, "235 2.7.0 Authentication successful\r\n" }),
	  "greeting=220[]/1;EHLO=250[]/2;"
	  "AUTH=535[5.7.8]/1;AUTH=235[2.7.0]/1;",
	  SMTP_F_AUTHENTICATED, true, 0 },
	{ "STARTTLS stops",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_CLIENT, "EHLO x\r\n" },
		{ SMTP_SERVER, "250 STARTTLS\r\n" },
		{ SMTP_CLIENT, "STARTTLS\r\n" },
		{ SMTP_SERVER, "220 2.0.0 Ready to start TLS\r\n" },
		{ SMTP_CLIENT,
		  "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n" },
		{ SMTP_SERVER, "\x16\x03\x03\x00\x7a garbage\r\n" },
		{ SMTP_CLIENT, "RCPT TO:<victim@gmail.com>\r\n" }),
	  "greeting=220[]/1;EHLO=250[]/1;STARTTLS=220[2.0.0]/1;STOP;",
	  SMTP_F_TLS, true, 0 },
	{ "STARTTLS refused continues",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_CLIENT, "STARTTLS\r\n" },
		{ SMTP_SERVER, "454 4.7.0 TLS not available\r\n" },
		{ SMTP_CLIENT, "MAIL FROM:<>\r\n" },
		{ SMTP_SERVER, "250 2.1.0 Ok\r\n" }),
	  "greeting=220[]/1;STARTTLS=454[4.7.0]/1;MAIL=250[2.1.0]/1;" },
	/* the chunk ("RCPT TO:<x@y>\r\n", 15 bytes) is not a command, the
	 * NOOP after it is */
	{ "BDAT",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" },
		{ SMTP_CLIENT, "MAIL FROM:<a@b>\r\nRCPT TO:<u@example.test>\r\n"
			       "BDAT 15 LAST\r\nRCPT TO:<x@y>\r\nNOOP\r\n" },
		{ SMTP_SERVER, "250 Ok\r\n250 Ok\r\n250 2.0.0 queued\r\n"
			       "250 Ok\r\n" }),
	  "greeting=220[]/1;PAUSE;MAIL=250[]/1;"
	  "RCPT:u@example.test=250[]/1;BDAT=250[2.0.0]/1;"
	  "RESUME@78;NOOP=250[]/1;",
	  0, true, 1 },
	{ "QUIT",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_CLIENT, "QUIT\r\n" },
		{ SMTP_SERVER, "221 2.0.0 Bye\r\n" }),
	  "greeting=220[]/1;QUIT=221[2.0.0]/1;STOP;" },
	/* RSET: a new transaction, a new sampling window */
	{ "DATA refused resumes",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_CLIENT, "DATA\r\n" },
		{ SMTP_SERVER, "503 5.5.1 Error: need RCPT command\r\n" },
		{ SMTP_CLIENT, "RSET\r\n" },
		{ SMTP_SERVER, "250 2.0.0 Ok\r\n" }),
	  "greeting=220[]/1;DATA=503[5.5.1]/1;RSET=250[2.0.0]/1;"
	  "RESUME@12;" },
	/* Lost server bytes: no reply can be paired, so the RCPT awaiting one
	 * and every later RCPT are graded alone (code 0), a reply after the
	 * gap is not paired, and DATA ends the dialogue. */
	{ "server gap: RCPTs graded alone",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" },
		{ SMTP_CLIENT, "RCPT TO:<a@b>\r\n" }, { SMTP_SERVER, NULL },
		{ SMTP_SERVER, "250 Ok\r\n" },
		{ SMTP_CLIENT,
		  "RCPT TO:<v@gmail.com>\r\nDATA\r\nRCPT TO:<x@y>\r\n" }),
	  "greeting=220[]/1;RCPT:a@b=0[]/0;"
	  "RCPT:v@gmail.com=0[]/0;STOP;" },
	/* After lost server bytes, AUTH's outcome is unknown: nothing after it
	 * is graded (an authenticated client may relay). */
	{ "server gap: AUTH ends",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_SERVER, NULL },
		{ SMTP_CLIENT,
		  "AUTH PLAIN AGFAYg==\r\nRCPT TO:<v@gmail.com>\r\n" }),
	  "greeting=220[]/1;STOP;" },
	/* A lost command would shift every later reply onto the wrong
	 * command: after a client gap a reply sent before the server had the
	 * next command seen (its ack), or with nothing awaiting one, answers
	 * an unseen command and is not paired, but one refusing a relay for
	 * the <path> it names grades that RCPT; the first command seen after
	 * the gap is paired again with the first reply that could answer
	 * it. */
	{ "client gap: relay replies graded",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_CLIENT, "RCPT TO:<a" },
		{ SMTP_CLIENT, NULL }, { SMTP_CLIENT, "xx@gmail.com>\r\n" },
		{ SMTP_SERVER,
		  "554 5.7.1 <axx@gmail.com>: Relay access denied\r\n" },
		{ SMTP_SERVER, "250 2.1.0 Ok\r\n" },
		{ SMTP_CLIENT, "RCPT TO:<v@gmail.com>\r\n" },
		{ SMTP_SERVER, "250 2.1.5 Ok\r\n" }),
	  "greeting=220[]/1;RCPT:axx@gmail.com=554[5.7.1]/1;"
	  "RCPT:v@gmail.com=250[2.1.5]/1;" },
	/* Both sides lost: nothing more can be learnt. */
	{ "both gaps stop",
	  STEPS({ SMTP_SERVER, "220 gw\r\n" }, { SMTP_CLIENT, NULL },
		{ SMTP_CLIENT, NULL },
		{ SMTP_SERVER,
		  "554 5.7.1 <v@gmail.com>: Relay access denied\r\n" },
		{ SMTP_SERVER, NULL },
		{ SMTP_SERVER,
		  "554 5.7.1 <w@gmail.com>: Relay access denied\r\n" }),
	  "greeting=220[]/1;RCPT:v@gmail.com=554[5.7.1]/1;STOP;" },
};

static void test_dialogues(void **state)
{
	const struct dialogue *d;
	struct smtp s;
	struct rec r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(dialogues); i++) {
		d = &dialogues[i];
		print_message("dialogue: %s\n", d->name);
		run(d->steps, d->n, 0, &r, &s);
		assert_string_equal(r.log, d->log);
		assert_int_equal(s.flags & d->flags, d->flags);
		if (d->counted)
			assert_int_equal(s.n_rcpt, d->n_rcpt);
		smtp_free(&s);
	}
}

static void test_extract_path(void **state)
{
	static const struct {
		const char *arg, *prefix, *path;
		int ret;
	} cases[] = {
		{ "TO:<u@example.test>", "TO:", "u@example.test", 0 },
		{ "to: <u@example.test> NOTIFY=NEVER", "TO:", "u@example.test", 0 },
		{ "TO:u@example.test", "TO:", "u@example.test", 0 },
		{ "TO:<\"a>b\"@x>", "TO:", "\"a>b\"@x", 0 },
		{ "TO:<@a,@b:u@c>", "TO:", "@a,@b:u@c", 0 },
		{ "FROM:<>", "FROM:", "", 0 },
		{ "TO:<unterminated", "TO:", NULL, -1 },
		{ "FROM:<a@b>", "TO:", NULL, -1 },
	};
	char out[256];
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		ret = smtp_extract_path(cases[i].arg, cases[i].prefix, out,
					sizeof(out));
		assert_int_equal(ret < 0 ? -1 : 0, cases[i].ret);
		if (!ret)
			assert_string_equal(out, cases[i].path);
	}
}

static void test_pipeline_overflow(void **state)
{
	struct smtp s;
	struct rec r;
	int i;

	(void)state;
	start(&r, &s);
	smtp_feed(&s, SMTP_SERVER, (const uint8_t *)"220 gw\r\n", 8);
	for (i = 0; i < SMTP_QUEUE_MAX + 10; i++)
		smtp_feed(&s, SMTP_CLIENT, (const uint8_t *)"NOOP\r\n", 6);
	assert_non_null(strstr(r.log, "!pipeline_overflow;STOP;"));
	assert_true(s.q_len <= SMTP_QUEUE_MAX);
	smtp_free(&s);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_pipelined),
	       cmocka_unit_test(test_every_split),
	       cmocka_unit_test(test_findings),
	       cmocka_unit_test(test_dialogues),
	       cmocka_unit_test(test_extract_path),
	       cmocka_unit_test(test_pipeline_overflow))
