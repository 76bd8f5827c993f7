// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Replay: the real lab captures (../shared/testdata) give the decisions
 * their README names; the data plane's sampling budget applies; bad files
 * fail cleanly. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "craft.h"
#include "log.h"
#include "names.h"
#include "replay.h"

/* The lab captures in ../shared/testdata, beside the clone (tests run from
 * its top); RG_SHARED names another shared/ folder. */
static const char *testdata(const char *name)
{
	static char path[512];
	const char *shared = getenv("RG_SHARED");

	snprintf(path, sizeof(path), "%s/testdata/%s",
		 shared && *shared ? shared : "../shared", name);
	return access(path, R_OK) ? NULL : path;
}

static char *replay_text(const char *path, const struct rg_conf *c, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*ret = replay_pcap(path, c, f);
	fclose(f);
	return buf;
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	while ((text = strstr(text, needle))) {
		n++;
		text++;
	}
	return n;
}

/* The replay of path under c, asserted to run and to hold n bans. */
static char *replay_bans(const char *path, const struct rg_conf *c, int n)
{
	int ret;
	char *out = replay_text(path, c, &ret);

	assert_int_equal(ret, 0);
	assert_int_equal(count(out, "\"action\":\"ban\""), n);
	return out;
}

static void test_lab_captures(void **state)
{
	static const struct {
		const char *file;
		int bans, alerts, lines;
		const char *must;
	} cases[] = {
		/* one refused plain foreign recipient: a finding under the
		 * default relay_attempts_ban = 2 (a misdirected delivery
		 * looks the same) */
		{ "a-swaks-relay-denied.pcap", 0, 0, 1,
		  "\"action\":\"finding\",\"source\":\"10.77.0.66\",\"reason\":\"relay_attempt\"" },
		{ "a-open-swaks-relay-accepted.pcap", 1, 1, 2,
		  "\"source\":\"10.77.0.66\",\"reason\":\"relay_accepted\"" },
		{ "c-legit-delivery.pcap", 0, 0, 0, NULL },
		{ "trust-relay-accepted.pcap", 0, 0, 0, NULL },
	};
	const char *path;
	char *out;
	size_t i;
	int ret;

	(void)state;
	if (!testdata(cases[0].file))
		skip();
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		path = testdata(cases[i].file);
		assert_non_null(path);
		out = replay_text(path, lab_conf(), &ret);
		assert_int_equal(ret, 0);
		if (count(out, "\"action\":\"ban\"") != cases[i].bans ||
		    count(out, "\"action\":\"alert\"") != cases[i].alerts ||
		    count(out, "\n") != cases[i].lines ||
		    (cases[i].must && !strstr(out, cases[i].must)))
			fail_msg("%s:\n%s", cases[i].file, out);
		free(out);
	}
}

/* relay_attempts_ban = 1: the same capture is a ban. */
static void test_relay_denied_bans_at_one(void **state)
{
	struct rg_conf c = *lab_conf();
	const char *path = testdata("a-swaks-relay-denied.pcap");
	char *out;

	(void)state;
	if (!path)
		skip();
	c.relay_attempts_ban = 1;
	out = replay_bans(path, &c, 1);
	assert_non_null(strstr(out, "\"source\":\"10.77.0.66\",\"reason\":\"relay_attempt\""));
	free(out);
}

/* Without the lab's local domain, the legit delivery is a relay attempt:
 * the verdict follows the config, not the file name. */
static void test_policy_follows_config(void **state)
{
	struct rg_conf c;
	const char *path = testdata("c-legit-delivery.pcap");
	char *out;
	int ret;

	(void)state;
	if (!path)
		skip();
	conf_defaults(&c);
	out = replay_text(path, &c, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(out, "\"action\":\"ban\""));
	assert_non_null(strstr(out, "\"source\":\"10.77.0.10\""));
	free(out);
}

/* A generated capture of one TCP session to port 25 from client port
 * 0x8000 (IPv4 over Ethernet) or 0x9000 (IPv6, Linux cooked capture as
 * tcpdump -i any writes it): the clock and both sequence numbers. */
struct gen {
	pcap_t *pc;
	pcap_dumper_t *d;
	bool v6;
	uint64_t us;
	uint32_t cseq, sseq;
};

static void gen_open(struct gen *g, const char *path, bool v6, uint32_t cseq,
		     uint32_t sseq)
{
	g->pc = pcap_open_dead(v6 ? DLT_LINUX_SLL : DLT_EN10MB, 65535);
	g->d = pcap_dump_open(g->pc, path);
	assert_non_null(g->d);
	g->v6 = v6;
	g->us = 1700000000000000ULL;
	g->cseq = cseq;
	g->sseq = sseq;
}

static void gen_close(struct gen *g)
{
	pcap_dump_close(g->d);
	pcap_close(g->pc);
}

/* Where a capture's link and IP headers put what put() fills in: IPv4
 * over Ethernet, IPv6 in Linux cooked capture. */
struct ip_layout {
	int af;
	size_t link_len, ip_len, pad; /* pad: Ethernet's, which must not count */
	uint16_t ethertype; /* at link_len - 2 */
	uint8_t version; /* the IP header's first byte */
	size_t len_at, proto_at, src_at; /* in the IP header; dst after src */
	bool len_counts_ip; /* IPv4's total length, IPv6's payload length */
	const char *client, *server;
};

static const struct ip_layout ipv4_ether = {
	.af = AF_INET, .link_len = 14, .ip_len = 20, .pad = 6,
	.ethertype = 0x0800, .version = 0x45,
	.len_at = 2, .proto_at = 9, .src_at = 12, .len_counts_ip = true,
	.client = "192.0.2.66", .server = "10.77.0.1",
};

static const struct ip_layout ipv6_cooked = {
	.af = AF_INET6, .link_len = 16, .ip_len = 40, .pad = 0,
	.ethertype = 0x86dd, .version = 0x60,
	.len_at = 4, .proto_at = 6, .src_at = 8, .len_counts_ip = false,
	.client = "2001:db8::66", .server = "2001:db8::1",
};

/* The link and IP headers of a TCP segment with plen payload bytes;
 * returns the TCP header, *len the record's. */
static uint8_t *ip_hdr(const struct ip_layout *l, uint8_t *buf,
		       int from_client, size_t plen, size_t *len)
{
	uint8_t *ip = buf + l->link_len;
	size_t alen = l->af == AF_INET ? 4 : 16;
	size_t iplen = (l->len_counts_ip ? l->ip_len : 0) + 20 + plen;

	buf[l->link_len - 2] = l->ethertype >> 8;
	buf[l->link_len - 1] = l->ethertype & 0xff;
	ip[0] = l->version;
	ip[l->len_at] = iplen >> 8;
	ip[l->len_at + 1] = iplen & 0xff;
	ip[l->proto_at] = IPPROTO_TCP;
	inet_pton(l->af, from_client ? l->client : l->server, ip + l->src_at);
	inet_pton(l->af, from_client ? l->server : l->client,
		  ip + l->src_at + alen);
	*len = l->link_len + l->ip_len + 20 + plen + l->pad;
	return ip + l->ip_len;
}

static void put(struct gen *g, int from_client, uint8_t flags,
		const char *text)
{
	uint8_t buf[1600] = { 0 };
	size_t plen = text ? strlen(text) : 0, len;
	uint8_t *tcp = ip_hdr(g->v6 ? &ipv6_cooked : &ipv4_ether, buf,
			      from_client, plen, &len);
	struct pcap_pkthdr h;
	uint32_t seq = htonl(from_client ? g->cseq : g->sseq);
	uint32_t ack = htonl(from_client ? g->sseq : g->cseq);

	tcp[from_client ? 3 : 1] = 25; /* the other port is 0x8000 or 0x9000 */
	tcp[from_client ? 0 : 2] = g->v6 ? 0x90 : 0x80;
	memcpy(tcp + 4, &seq, 4);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	memcpy(tcp + 20, text ? text : "", plen);
	g->us += 10;
	h.ts.tv_sec = g->us / 1000000;
	h.ts.tv_usec = g->us % 1000000;
	h.caplen = h.len = len;
	pcap_dump((u_char *)g->d, &h, buf);
	*(from_client ? &g->cseq : &g->sseq) +=
		plen + ((flags & (RG_TCP_SYN | RG_TCP_FIN)) ? 1 : 0);
}

/* A client command and the server's reply, a segment each. */
static void say(struct gen *g, const char *command, const char *reply)
{
	put(g, 1, RG_TCP_PSH | RG_TCP_ACK, command);
	put(g, 0, RG_TCP_PSH | RG_TCP_ACK, reply);
}

/* An IPv4 capture at path: the handshake and the server's greeting. */
static void open_greeted(struct gen *g, const char *path)
{
	gen_open(g, path, false, 100, 5000);
	put(g, 1, RG_TCP_SYN, NULL);
	put(g, 0, RG_TCP_SYN | RG_TCP_ACK, NULL);
	put(g, 1, RG_TCP_ACK, NULL);
	put(g, 0, RG_TCP_PSH | RG_TCP_ACK, "220 gw ESMTP\r\n");
}

static const char relay_denied[] = "554 5.7.1 Relay access denied\r\n";

/* A transaction's MAIL, accepted. */
static void say_mail(struct gen *g)
{
	say(g, "MAIL FROM:<a@b.example>\r\n", "250 2.1.0 Ok\r\n");
}

/* The foreign RCPT, refused by the reply given. */
static void say_foreign_rcpt(struct gen *g, const char *refusal)
{
	say(g, "RCPT TO:<v@gmail.com>\r\n", refusal);
}

/* A fresh temporary file for the test's capture (the state), removed
 * after the test however it ends. */
static int capture_setup(void **state)
{
	static char path[sizeof("/tmp/test_replay-XXXXXX")];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_replay-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	*state = path;
	return 0;
}

static int capture_teardown(void **state)
{
	return unlink(*state);
}

/* One session whose RCPT comes after 200 bytes of client chatter. */
static void write_session(const char *path)
{
	struct gen g;
	int i;

	open_greeted(&g, path);
	for (i = 0; i < 20; i++)
		put(&g, 1, RG_TCP_PSH | RG_TCP_ACK, "NOOP padding\r\n");
	for (i = 0; i < 20; i++)
		put(&g, 0, RG_TCP_PSH | RG_TCP_ACK, "250 2.0.0 Ok\r\n");
	say_mail(&g);
	say_foreign_rcpt(&g, relay_denied);
	put(&g, 1, RG_TCP_PSH | RG_TCP_ACK, "QUIT\r\n");
	gen_close(&g);
}

static void test_sampling_budget(void **state)
{
	struct rg_conf c = *lab_conf();
	const char *path = *state;
	char *out;

	c.relay_attempts_ban = 1; /* about sampling, not misdirected mail */
	write_session(path);
	out = replay_bans(path, &c, 1);
	assert_non_null(strstr(out, "\"rcpt_to\":\"v@gmail.com\""));
	assert_non_null(strstr(out, "\"source\":\"192.0.2.66\""));
	free(out);
	/* a 256-byte budget ends in the NOOP padding, before the RCPT: the
	 * daemon would not see the RCPT, neither does the replay, but the
	 * padding itself bans */
	c.dp.sample_bytes = 256;
	out = replay_bans(path, &c, 1);
	assert_non_null(strstr(out, "\"reason\":\"envelope_padding\""));
	assert_null(strstr(out, "relay_attempt"));
	free(out);
	/* with the signal off, nothing */
	c.weight_envelope_padding = 0;
	out = replay_bans(path, &c, 0);
	free(out);
}

/* A session padded after a first, local RCPT (pad: NOOP lines), or one
 * with many local recipients (pad == 0; RCPT lines outweigh their
 * replies, as with Postfix), then a foreign RCPT and its refusal. */
static void write_rcpts_session(const char *path, int pad,
				const char *refusal)
{
	struct gen g;
	int i;

	open_greeted(&g, path);
	say_mail(&g);
	for (i = 0; i < (pad ? 1 : 8); i++)
		say(&g, "RCPT TO:<a.rather.long.local.name@example.test>\r\n",
		    "250 2.1.5 Ok\r\n");
	for (i = 0; i < pad; i++)
		say(&g, "NOOP padding\r\n", "250 2.0.0 Ok\r\n");
	say_foreign_rcpt(&g, refusal);
	gen_close(&g);
}

/* With a 256-byte budget: padding after a first RCPT is caught too, while
 * a budget spent on local recipients is no padding; the RCPT it hides is
 * graded by Postfix's refusal, which names it (the server acknowledges
 * client bytes never sampled), and goes ungraded when the refusal does not
 * name it (the limit README names). */
static void test_padding_after_rcpt(void **state)
{
	static const char named[] =
		"554 5.7.1 <v@gmail.com>: Relay access denied\r\n";
	struct rg_conf c = *lab_conf();
	const char *path = *state;
	char *out;

	c.dp.sample_bytes = 256;
	c.relay_attempts_ban = 1; /* about sampling, not misdirected mail */
	write_rcpts_session(path, 20, named);
	out = replay_bans(path, &c, 1);
	assert_non_null(strstr(out, "\"reason\":\"envelope_padding\""));
	free(out);
	write_rcpts_session(path, 0, named);
	out = replay_bans(path, &c, 1);
	assert_non_null(strstr(out, "\"reason\":\"relay_attempt\""));
	assert_non_null(strstr(out, "\"rcpt_to\":\"v@gmail.com\""));
	assert_null(strstr(out, "envelope_padding"));
	free(out);
	write_rcpts_session(path, 0, relay_denied);
	out = replay_bans(path, &c, 0);
	free(out);
}

/* IPv6 in a Linux cooked capture; the client's sequence number wraps. */
static void test_ipv6_cooked(void **state)
{
	const char *path = *state;
	struct gen g;
	char *out;
	int ret;

	gen_open(&g, path, true, 0xfffffff0u, 42);
	put(&g, 1, RG_TCP_SYN, NULL);
	put(&g, 0, RG_TCP_SYN | RG_TCP_ACK, NULL);
	put(&g, 0, RG_TCP_PSH | RG_TCP_ACK, "220 gw ESMTP\r\n");
	put(&g, 1, RG_TCP_PSH | RG_TCP_ACK, "EHLO six\r\nMAIL FROM:<>\r\n");
	put(&g, 1, RG_TCP_PSH | RG_TCP_ACK,
	    "RCPT TO:<u@[IPv6:2001:db8::9]>\r\n");
	put(&g, 0, RG_TCP_PSH | RG_TCP_ACK, "250-gw\r\n250 SIZE\r\n250 Ok\r\n");
	put(&g, 0, RG_TCP_PSH | RG_TCP_ACK, "550 5.7.1 no IP literals\r\n");
	gen_close(&g);
	out = replay_text(path, lab_conf(), &ret);
	assert_int_equal(ret, 0);
	if (count(out, "\"action\":\"ban\"") != 1 ||
	    !strstr(out, "\"source\":\"2001:db8::66\",\"reason\":\"relay_probe\"") ||
	    !strstr(out, "\"flow\":\"[2001:db8::66]:36864 -> [2001:db8::1]:25\""))
		fail_msg("%s", out);
	free(out);
}

static void test_bad_files(void **state)
{
	const char *path = *state;
	int fd = open(path, O_WRONLY);
	char *out;
	int ret;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a pcap at all, just text\n", 29), 29);
	close(fd);
	out = replay_text(path, lab_conf(), &ret);
	assert_true(ret < 0);
	assert_string_equal(out, "");
	free(out);
	out = replay_text("/nonexistent/x.pcap", lab_conf(), &ret);
	assert_true(ret < 0);
	free(out);
}

/* MAIL, a foreign RCPT refused without naming it, end of the capture at
 * path: its replay must grade that RCPT as a relay attempt (a ban, or a
 * finding where one refused attempt does not ban), on a verified flow. */
static void put_relay_attempt(struct gen *g, const char *path)
{
	char *out;
	int ret;

	say_mail(g);
	say_foreign_rcpt(g, relay_denied);
	gen_close(g);
	out = replay_text(path, lab_conf(), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(count(out, "\"reason\":\"relay_attempt\""), 1);
	assert_non_null(strstr(out, "\"rcpt_to\":\"v@gmail.com\""));
	assert_null(strstr(out, "\"verified\":false"));
	free(out);
}

/* A message body longer than the budget, then a relay attempt in the
 * connection's second transaction: sampling pauses for the body and
 * resumes where the server's reply to the end of data acknowledges. */
static void test_second_transaction(void **state)
{
	const char *path = *state;
	char line[1402];
	struct gen g;
	int i;

	open_greeted(&g, path);
	say(&g, "EHLO x\r\n", "250 gw\r\n");
	say_mail(&g);
	say(&g, "RCPT TO:<user@example.test>\r\n", "250 2.1.5 Ok\r\n");
	say(&g, "DATA\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n");
	memset(line, 'x', sizeof(line) - 3);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	for (i = 0; i < 4; i++)
		put(&g, 1, RG_TCP_ACK, line);
	say(&g, ".\r\n", "250 2.0.0 Ok: queued as 4F00\r\n");
	put_relay_attempt(&g, path);
}

/* 700 retransmissions of a NOOP the server holds cost no budget (they
 * lie below its ack): the RCPT after them is seen, and it is no padding. */
static void test_retransmissions_free(void **state)
{
	const char *path = *state;
	struct gen g;
	int i;

	open_greeted(&g, path);
	say(&g, "NOOP\r\n", "250 2.0.0 Ok\r\n");
	for (i = 0; i < 700; i++) {
		g.cseq -= 6;
		put(&g, 1, RG_TCP_PSH | RG_TCP_ACK, "NOOP\r\n");
	}
	put_relay_attempt(&g, path);
}

#define CAPTURE_TEST(f) \
	cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_captures),
		cmocka_unit_test(test_relay_denied_bans_at_one),
		cmocka_unit_test(test_policy_follows_config),
		CAPTURE_TEST(test_sampling_budget),
		CAPTURE_TEST(test_padding_after_rcpt),
		CAPTURE_TEST(test_ipv6_cooked),
		CAPTURE_TEST(test_bad_files),
		CAPTURE_TEST(test_second_transaction),
		CAPTURE_TEST(test_retransmissions_free),
	};

	log_init("test_replay", false, LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
