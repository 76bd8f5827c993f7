// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Issue 12, the daemon's half: an attacker who adapts does not slip past
 * the pipeline. A second mail transaction is graded; a forged RST, SYN or
 * ACK changes nothing; two versions of the same bytes and urgent data are
 * evasion; a padded RCPT line is parsed; a body before the 354 is its own
 * signal. Records are crafted as the data plane of dpspec writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "craft.h"
#include "unit.h"

CRAFT_LAB_PIPELINE_FIXTURE(p, col)

/* Handshake, greeting, EHLO. */
static void open_session(struct craft *c, uint16_t port)
{
	craft_init(c, p, "10.77.0.66", port);
	craft_handshake(c);
	craft_server(c, "220 gw.example.test ESMTP\r\n");
	craft_client(c, "EHLO x\r\n");
	craft_server(c, "250-gw.example.test\r\n250 PIPELINING\r\n");
}

/* setup, and a session open (open_session()) for the test in *state. */
static int setup_session(void **state)
{
	static struct craft session;
	int err = setup(state);

	if (!err) {
		open_session(&session, 41000);
		*state = &session;
	}
	return err;
}

/* MAIL FROM, accepted. */
static void mail_from(struct craft *c)
{
	craft_client(c, "MAIL FROM:<a@spam.example>\r\n");
	craft_server(c, "250 2.1.0 Ok\r\n");
}

/* MAIL FROM and a local RCPT, both accepted. */
static void local_envelope(struct craft *c)
{
	mail_from(c);
	craft_client(c, "RCPT TO:<user@example.test>\r\n");
	craft_server(c, "250 2.1.5 Ok\r\n");
}

/* A local transaction up to the 354: its body comes next. */
static void local_until_body(struct craft *c)
{
	local_envelope(c);
	craft_client(c, "DATA\r\n");
	craft_server(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
}

/* A whole local transaction; body: the message after the 354. */
static void local_transaction(struct craft *c, const char *body)
{
	local_until_body(c);
	craft_client(c, body);
	craft_server(c, "250 2.0.0 Ok: queued as 4F00\r\n");
}

static void foreign_rcpt(struct craft *c, const char *reply)
{
	mail_from(c);
	craft_client(c, "RCPT TO:<victim@gmail.com>\r\n");
	craft_server(c, reply);
}

/* before, pad spaces and after: one client command, longer than one
 * record, written in records of 1000 bytes. */
static void client_padded(struct craft *c, const char *before, int pad,
			  const char *after)
{
	char text[4096];
	size_t len, off, n;

	len = snprintf(text, sizeof(text), "%s%*s%s", before, pad, "", after);
	assert_true(len < sizeof(text));
	for (off = 0; off < len; off += n) {
		n = len - off < 1000 ? len - off : 1000;
		craft_raw(c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c->cseq,
			  c->sseq, text + off, n);
		c->cseq += n;
	}
}

/* Two versions of the client's bytes at cseq + off, decoy first; cseq
 * stays. */
static void client_twice(struct craft *c, uint32_t off, const char *decoy,
			 const char *real)
{
	craft_raw(c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c->cseq + off, c->sseq,
		  decoy, strlen(decoy));
	craft_raw(c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c->cseq + off, c->sseq,
		  real, strlen(real));
}

static void assert_relay_banned(const char *code)
{
	if (collected(&col, DECISION_BAN, code) != 1)
		fail_msg("expected one ban %s, got %d decisions", code, col.n);
}

/* A foreign RCPT was accepted: the alert, and the ban for it. */
static void assert_relay_accepted(void)
{
	assert_int_equal(collected(&col, DECISION_ALERT, "relay_accepted"), 1);
	assert_relay_banned("relay_accepted");
}

/* The refused foreign RCPT was graded, on a verified flow: a ban, or a
 * finding where one refused attempt does not ban (relay_attempts_ban). */
static void assert_relay_graded(void)
{
	int i, n = 0;

	for (i = 0; i < col.n; i++) {
		if (strcmp(col.d[i].code, "relay_attempt"))
			continue;
		assert_false(col.d[i].unverified);
		assert_string_equal(col.d[i].rcpt_to, "victim@gmail.com");
		n++;
	}
	if (n != 1)
		fail_msg("expected one relay_attempt, got %d decisions", col.n);
}

/* A foreign RCPT the server refuses: graded. */
static void relay_refused(struct craft *c)
{
	foreign_rcpt(c, "554 5.7.1 <victim@gmail.com>: Relay access denied\r\n");
	assert_relay_graded();
}

/* A foreign RCPT the server accepts: the alert and the ban. */
static void relay_accepted(struct craft *c)
{
	foreign_rcpt(c, "250 2.1.5 Ok\r\n");
	assert_relay_accepted();
}

/* Item 2: the relay comes in the second transaction of the connection. */
static void test_second_transaction(void **state)
{
	struct craft *c = *state;

	local_transaction(c, "Subject: hi\r\n\r\nhello\r\n.\r\n");
	assert_int_equal(col.n, 0);
	relay_refused(c);
}

/* The body was not sampled (paused): the client stream skips to where the
 * server's reply to the end of data acknowledges, and parsing goes on. */
static void test_second_transaction_body_unseen(void **state)
{
	struct craft *c = *state;

	local_until_body(c);
	assert_int_equal(col.pauses, 1);
	assert_int_equal(col.resumes, 0);
	c->cseq += 100000; /* the body: never sampled */
	craft_server(c, "250 2.0.0 Ok: queued as 4F00\r\n");
	assert_int_equal(col.resumes, 1);
	assert_int_equal(col.resume_seq, c->cseq);
	assert_int_equal(col.stops, 0);
	relay_accepted(c);
}

/* Commands pipelined behind the end-of-data dot, inside what the reply's
 * ack covers, are not seen: a refusal naming the recipient grades it. */
static void test_pipelined_behind_dot(void **state)
{
	struct craft *c = *state;

	local_until_body(c);
	c->cseq += 5000; /* body, dot, MAIL and RCPT: unseen */
	craft_server(c, "250 2.0.0 Ok: queued as 4F00\r\n250 2.1.0 Ok\r\n"
			"554 5.7.1 <victim@gmail.com>: Relay access denied\r\n");
	assert_relay_graded();
}

/* One forged client segment without payload (flags, seq offset), then a
 * refused relay attempt: still a verified flow, still banned. */
static void forged_then_relay(struct craft *c, uint8_t flags, uint32_t skew)
{
	craft_raw(c, RG_DIR_IN, flags, c->cseq + skew, 0, NULL, 0);
	relay_refused(c);
}

/* Commands sent while sampling was still paused (before the daemon
 * re-armed it) are lost: the replies sent before the server had the next
 * command seen are not paired (a refusal naming its recipient grades it),
 * and pairing resumes: a later relay is graded by its own reply. */
static void test_lost_commands_then_resync(void **state)
{
	struct craft *c = *state;

	local_until_body(c);
	c->cseq += 3000;
	craft_server(c, "250 2.0.0 Ok: queued as 4F00\r\n");
	c->cseq += 60; /* NOOP, MAIL: never sampled */
	craft_server(c, "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n");
	assert_int_equal(col.n, 0);
	craft_client(c, "RCPT TO:<victim@gmail.com>\r\n");
	craft_server(c, "250 2.1.5 Ok\r\n");
	assert_relay_accepted();
}

/* A BDAT chunk pauses the client, its reply resumes it where it acks. */
static void test_bdat_then_relay(void **state)
{
	struct craft *c = *state;

	local_envelope(c);
	craft_client(c, "BDAT 100000 LAST\r\nSubject: x\r\n");
	assert_int_equal(col.pauses, 1);
	c->cseq += 100000 - 12; /* the rest of the chunk: not sampled */
	craft_server(c, "250 2.0.0 Ok: queued as 4F00\r\n");
	assert_int_equal(col.resume_seq, c->cseq);
	relay_refused(c);
}

/* Item 3: a forged RST the server ignored changes nothing. */
static void test_forged_rst(void **state)
{
	forged_then_relay(*state, RG_TCP_RST, 70000);
}

/* A forged SYN on the established connection (Linux answers it with a
 * challenge ACK, never a SYN-ACK) changes nothing. */
static void test_forged_syn(void **state)
{
	forged_then_relay(*state, RG_TCP_SYN, 123456);
}

/* A flow ends on what the server confirms: both FINs, or its RST; a
 * client RST or FIN alone leaves it. */
static void test_close_confirmed_by_server(void **state)
{
	struct craft *c = *state;
	struct craft d;

	craft_raw(c, RG_DIR_IN, RG_TCP_FIN | RG_TCP_ACK, c->cseq, c->sseq, NULL,
		  0);
	craft_raw(c, RG_DIR_IN, RG_TCP_RST, c->cseq + 1, 0, NULL, 0);
	assert_int_equal(pipeline_stats(p)->flows_active, 1);
	craft_raw(c, RG_DIR_OUT, RG_TCP_FIN | RG_TCP_ACK, c->sseq, c->cseq + 1,
		  NULL, 0);
	assert_int_equal(pipeline_stats(p)->flows_active, 0);
	open_session(&d, 41017);
	craft_raw(&d, RG_DIR_OUT, RG_TCP_RST, d.sseq, 0, NULL, 0);
	assert_int_equal(pipeline_stats(p)->flows_active, 0);
}

/* A new connection on the 4-tuple is confirmed by the server's SYN-ACK. */
static void test_port_reuse_confirmed(void **state)
{
	struct craft *c = *state;

	craft_client(c, "QUIT\r\n");
	craft_server(c, "221 2.0.0 Bye\r\n");
	c->cseq += 777777;
	c->sseq += 555555;
	craft_handshake(c);
	craft_server(c, "220 gw.example.test ESMTP\r\n");
	craft_client(c, "EHLO x\r\n");
	craft_server(c, "250 gw.example.test\r\n");
	relay_refused(c);
}

/* A forged ACK of 50,000 server bytes never sent does not blind the
 * parser, and a DATA refused with 503 does not end parsing. */
static void test_forged_ack(void **state)
{
	struct craft *c = *state;

	craft_raw(c, RG_DIR_IN, RG_TCP_ACK, c->cseq, c->sseq + 50000, NULL, 0);
	craft_client(c, "DATA\r\n");
	craft_server(c, "503 5.5.1 Error: need RCPT command\r\n");
	relay_accepted(c);
}

/* The same, the forged ack riding on a command. */
static void test_forged_ack_on_payload(void **state)
{
	struct craft *c = *state;

	c->ack_skew = 50000;
	craft_client(c, "NOOP\r\n");
	c->ack_skew = 0;
	craft_server(c, "250 2.0.0 Ok\r\n");
	relay_accepted(c);
}

/* Item 4: an overlapping copy carrying other bytes (a decoy with a bad
 * checksum, or the copy Linux's out-of-order queue keeps) is evasion. */
static void test_conflicting_retransmission(void **state)
{
	struct craft *c = *state;

	mail_from(c);
	client_twice(c, 0, "RCPT TO:<user@example.test>\r\n",
		     "RCPT TO:<victim@gmail.com>\r\n");
	assert_relay_banned("stream_conflict");
}

static void test_conflicting_out_of_order(void **state)
{
	struct craft *c = *state;

	mail_from(c);
	client_twice(c, 8, "<user@example.test>\r\n", "<victim@gmail.com>\r\n");
	craft_raw(c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c->cseq, c->sseq,
		  "RCPT TO:", 8);
	assert_relay_banned("stream_conflict");
}

/* A true retransmission (same bytes) is no finding. */
static void test_same_retransmission(void **state)
{
	const char *line = "RCPT TO:<user@example.test>\r\n";
	struct craft *c = *state;

	client_twice(c, 0, line, line);
	craft_raw(c, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK, c->cseq + 4, c->sseq,
		  line + 4, 10);
	assert_int_equal(col.n, 0);
}

/* Urgent data: Linux takes the urgent byte out of the stream Postfix
 * reads; no SMTP client sends any. */
static void test_urgent_data(void **state)
{
	const char *line = "RCPT TO:<user@example.test>X\r\n";
	struct craft *c = *state;

	craft_raw(c, RG_DIR_IN, RG_TCP_URG | RG_TCP_PSH | RG_TCP_ACK, c->cseq,
		  c->sseq, line, strlen(line));
	assert_relay_banned("stream_conflict");
}

/* Item 5: a RCPT padded past every buffer but Postfix's 2048 bytes. */
static void test_padded_rcpt(void **state)
{
	struct craft *c = *state;

	mail_from(c);
	client_padded(c, "RCPT TO:<victim@gmail.com>", 1100, "\r\n");
	craft_client(c, "NOOP\r\n");
	craft_server(c, "250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n");
	assert_relay_accepted();
}

/* An address cut off by the line limit is a probe, never local. */
static void test_cut_address(void **state)
{
	struct craft *c = *state;

	client_padded(c, "RCPT TO:<", 2299, "x@example.test>\r\n");
	craft_server(c, "501 5.1.3 Bad recipient address syntax\r\n");
	assert_relay_banned("relay_probe");
}

/* A whole address on a line cut after it is read as Postfix reads it. */
static void test_cut_line_whole_address(void **state)
{
	struct craft *c = *state;

	client_padded(c, "RCPT TO:<user@example.test>", 3000, "\r\n");
	craft_server(c, "250 2.1.5 Ok\r\n");
	assert_int_equal(collected(&col, DECISION_FINDING, "command_too_long"), 1);
	assert_int_equal(collected(&col, DECISION_BAN, NULL), 0);
	assert_int_equal(collected(&col, DECISION_ALERT, NULL), 0);
}

/* Item 7: the body before the 354 (RFC 2920 forbids it). */
static void test_body_before_354(void **state)
{
	struct craft *c = *state;

	craft_client(c, "MAIL FROM:<a@spam.example>\r\nRCPT TO:<user@example.test>\r\n"
			"DATA\r\nSubject: x\r\n\r\nspam\r\n.\r\nQUIT\r\n");
	assert_relay_banned("unauth_pipelining");
}

/* A client that waits for the 354 is no finding. */
static void test_body_after_354(void **state)
{
	struct craft *c = *state;

	local_transaction(c, "Subject: x\r\n\r\nhi\r\n.\r\n");
	craft_client(c, "QUIT\r\n");
	craft_server(c, "221 2.0.0 Bye\r\n");
	assert_int_equal(col.n, 0);
}

/* Issue 20 item 1: a ban, for any reason, stops reading the client, not
 * the server: an open relay's acceptance of a RCPT already read is the
 * critical alert, and no second ban. */
static void assert_banned_then_alerted(const char *ban, const char *rcpt)
{
	int i, alert = -1, banned = -1;

	for (i = 0; i < col.n; i++) {
		if (col.d[i].action == DECISION_BAN)
			banned = i;
		if (col.d[i].action == DECISION_ALERT)
			alert = i;
	}
	if (collected(&col, DECISION_BAN, NULL) != 1 || banned < 0 ||
	    strcmp(col.d[banned].code, ban))
		fail_msg("expected one ban %s, got %d decisions", ban, col.n);
	if (collected(&col, DECISION_ALERT, "relay_accepted") != 1)
		fail_msg("expected one relay_accepted alert, got %d decisions",
			 col.n);
	assert_true(alert > banned);
	assert_int_equal(col.d[alert].reason, RG_REASON_RELAY_ACCEPTED);
	assert_string_equal(col.d[alert].rcpt_to, rcpt);
	assert_string_equal(col.d[alert].reply, "250 2.1.5 Ok");
	assert_false(col.d[alert].unverified);
}

/* EHLO, MAIL, a foreign RCPT, DATA, the body and QUIT in one write, on an
 * open relay: banned for the body before the 354, and Postfix's 250 to
 * the RCPT (read before the ban) is the alert. The server's side is read
 * to its end: the dialogue's 221 stops the flow for good. */
static void test_burst_on_open_relay(void **state)
{
	struct craft c;

	(void)state;
	craft_init(&c, p, "10.77.0.66", 41021);
	craft_handshake(&c);
	craft_server(&c, "220 gw.example.test ESMTP\r\n");
	craft_client(&c, "EHLO x\r\nMAIL FROM:<a@spam.example>\r\n"
			 "RCPT TO:<victim@gmail.com>\r\nDATA\r\nSubject: x\r\n"
			 "\r\nspam\r\n.\r\nQUIT\r\n");
	assert_relay_banned("unauth_pipelining");
	assert_int_equal(col.client_stops, 1);
	assert_int_equal(col.stops, 0);
	craft_server(&c, "250-gw.example.test\r\n250 PIPELINING\r\n"
			 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
			 "354 End data with <CR><LF>.<CR><LF>\r\n");
	assert_banned_then_alerted("unauth_pipelining", "victim@gmail.com");
	craft_server(&c, "250 2.0.0 Ok: queued as 4F00\r\n221 2.0.0 Bye\r\n");
	assert_int_equal(col.n, 2);
	assert_int_equal(col.stops, 1);
	assert_int_equal(col.pauses + col.resumes, 0);
	assert_null(pipeline_find_flow(p, &c.key));
}

/* The same burst before the greeting: banned for pregreet before a byte
 * of it is parsed; the bytes already sampled are read all the same. */
static void test_pregreet_burst_on_open_relay(void **state)
{
	static struct rg_conf conf; /* the pipeline's until teardown */
	struct craft c;

	(void)state;
	conf = *lab_conf();
	conf.weight_pregreet = conf.score_threshold;
	pipeline_free(p);
	p = pipeline_new(&conf, &collect_ops, &col);
	assert_non_null(p);
	craft_init(&c, p, "10.77.0.67", 41022);
	craft_handshake(&c);
	craft_client(&c, "EHLO x\r\nMAIL FROM:<a@spam.example>\r\n"
			 "RCPT TO:<victim@gmail.com>\r\n");
	assert_relay_banned("pregreet");
	craft_server(&c, "220 gw.example.test ESMTP\r\n250 gw.example.test\r\n"
			 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	assert_banned_then_alerted("pregreet", "victim@gmail.com");
}

/* Banned for a probe, a foreign RCPT pipelined behind it accepted: the
 * alert, no second ban; a refused one after it adds to no score. */
static void test_probe_ban_then_accepted(void **state)
{
	struct craft *c = *state;

	craft_client(c, "MAIL FROM:<a@spam.example>\r\n"
			"RCPT TO:<v%gmail.com@example.test>\r\n"
			"RCPT TO:<victim@gmail.com>\r\n"
			"RCPT TO:<other@gmail.com>\r\n");
	craft_server(c,
		     "250 2.1.0 Ok\r\n"
		     "554 5.7.1 <v%gmail.com@example.test>: Relay access "
		     "denied\r\n250 2.1.5 Ok\r\n"
		     "554 5.7.1 <other@gmail.com>: Relay access denied\r\n");
	assert_banned_then_alerted("relay_probe", "victim@gmail.com");
	assert_int_equal(col.n, 2);
}

/* A banned client's flow ends when its server closes (the client's FIN is
 * dropped at XDP): sampling stops for good, later records are ignored. */
static void test_banned_flow_ends_on_server_fin(void **state)
{
	struct craft *c = *state;

	foreign_rcpt(c,
		     "554 5.7.1 <victim@gmail.com>: Relay access denied\r\n");
	craft_client(c, "RCPT TO:<v2@gmail.com>\r\n");
	craft_server(c, "554 5.7.1 <v2@gmail.com>: Relay access denied\r\n");
	assert_relay_banned("relay_attempt");
	assert_non_null(pipeline_find_flow(p, &c->key));
	craft_raw(c, RG_DIR_OUT, RG_TCP_FIN | RG_TCP_ACK, c->sseq, c->cseq, NULL,
		  0);
	assert_int_equal(col.stops, 1);
	assert_null(pipeline_find_flow(p, &c->key));
	craft_server(c, "250 2.1.5 Ok\r\n");
	assert_int_equal(collected(&col, DECISION_ALERT, NULL), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define S(f) cmocka_unit_test_setup_teardown(f, setup_session, teardown)
UNIT_TEST_MAIN(S(test_second_transaction),
	       S(test_second_transaction_body_unseen),
	       S(test_pipelined_behind_dot), S(test_lost_commands_then_resync),
	       S(test_bdat_then_relay), S(test_forged_rst), S(test_forged_syn),
	       S(test_port_reuse_confirmed), S(test_close_confirmed_by_server),
	       S(test_forged_ack), S(test_forged_ack_on_payload),
	       S(test_conflicting_retransmission),
	       S(test_conflicting_out_of_order), S(test_same_retransmission),
	       S(test_urgent_data), S(test_padded_rcpt), S(test_cut_address),
	       S(test_cut_line_whole_address), S(test_body_before_354),
	       S(test_body_after_354), T(test_burst_on_open_relay),
	       T(test_pregreet_burst_on_open_relay),
	       S(test_probe_ban_then_accepted),
	       S(test_banned_flow_ends_on_server_fin))
#undef S
#undef T
