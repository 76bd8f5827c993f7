// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Evidence pcaps: a sampled SMTP session written as .pcap.gz reads back with
 * tshark, which sees the dialogue (RCPT TO) and finds every IP and TCP
 * checksum good, for IPv4 and IPv6; the directory is pruned oldest first;
 * two files of one source in one millisecond both get written. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "evidence.h"

static char dir[] = "/tmp/rg-test-evidence-XXXXXX";

struct session {
	struct rg_flow_key key;
	uint32_t cseq, sseq;
	uint64_t ts;
};

static void emit(struct evidence *e, struct session *ss, int dir_,
		 uint8_t flags, const char *text)
{
	unsigned char buf[sizeof(struct rg_sample) + 512];
	struct rg_sample *s = (struct rg_sample *)buf;
	size_t len = text ? strlen(text) : 0;
	uint32_t *mine = dir_ == RG_DIR_IN ? &ss->cseq : &ss->sseq;
	uint32_t *theirs = dir_ == RG_DIR_IN ? &ss->sseq : &ss->cseq;

	memset(buf, 0, sizeof(buf));
	s->ts_ns = ss->ts += 1000000;
	s->flow = ss->key;
	s->seq = htonl(*mine);
	s->ack = flags & RG_TCP_ACK ? htonl(*theirs) : 0;
	s->dir = dir_;
	s->tcp_flags = flags;
	s->payload_len = len;
	memcpy(s->payload, text, len);
	*mine += len + (flags & RG_TCP_SYN ? 1 : 0);
	assert_int_equal(evidence_add(e, s), 0);
}

static void write_session(const struct rg_flow_key *key, char *path,
			  size_t pathlen)
{
	struct session ss = { .key = *key, .cseq = 1000, .sseq = 50000,
			      .ts = boot_ns() };
	struct prefix src = { .family = key->family,
			      .len = key->family == AF_INET ? 32 : 128 };
	struct evidence *e;

	memcpy(src.addr, key->client, 16);
	assert_int_equal(evidence_open(dir, &src, &e, path, pathlen), 0);
	emit(e, &ss, RG_DIR_IN, RG_TCP_SYN, NULL);
	emit(e, &ss, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, NULL);
	emit(e, &ss, RG_DIR_IN, RG_TCP_ACK, NULL);
	emit(e, &ss, RG_DIR_OUT, RG_TCP_PSH | RG_TCP_ACK,
	     "220 mx.example.com ESMTP\r\n");
	emit(e, &ss, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK,
	     "EHLO spammer.test\r\n");
	emit(e, &ss, RG_DIR_OUT, RG_TCP_PSH | RG_TCP_ACK,
	     "250-mx.example.com\r\n250 PIPELINING\r\n");
	emit(e, &ss, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK,
	     "MAIL FROM:<a@spammer.test>\r\n");
	emit(e, &ss, RG_DIR_OUT, RG_TCP_PSH | RG_TCP_ACK, "250 2.1.0 Ok\r\n");
	emit(e, &ss, RG_DIR_IN, RG_TCP_PSH | RG_TCP_ACK,
	     "RCPT TO:<victim@elsewhere.test>\r\n");
	emit(e, &ss, RG_DIR_OUT, RG_TCP_PSH | RG_TCP_ACK,
	     "554 5.7.1 <victim@elsewhere.test>: Relay access denied\r\n");
	assert_int_equal(evidence_close(e), 0);
}

/* First line of a command's output. */
static void run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

static void check_with_tshark(const char *path)
{
	char cmd[1024], out[4096];

	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -Y smtp.req.command -T fields "
		 "-e smtp.req.command -e smtp.req.parameter 2>/dev/null",
		 path);
	run(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "EHLO\tspammer.test"));
	assert_non_null(strstr(out, "RCPT\tTO:<victim@elsewhere.test>"));
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -Y smtp.response.code==554 -T fields "
		 "-e smtp.response.code 2>/dev/null", path);
	run(cmd, out, sizeof(out));
	assert_string_equal(out, "554\n");
	/* No packet with a checksum tshark calls bad. */
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -o tcp.check_checksum:TRUE "
		 "-o ip.check_checksum:TRUE "
		 "-Y 'tcp.checksum.status != 1 || ip.checksum.status == 0' "
		 "2>/dev/null | wc -l", path);
	run(cmd, out, sizeof(out));
	assert_string_equal(out, "0\n");
	snprintf(cmd, sizeof(cmd), "tshark -r %s 2>/dev/null | wc -l", path);
	run(cmd, out, sizeof(out));
	assert_string_equal(out, "10\n");
}

/* A session from client to server port 25 written and read back by
 * tshark; the file's name is returned in path. */
static void check_session(int family, const char *client, const char *server,
			  uint16_t client_port, char *path, size_t size)
{
	struct rg_flow_key key = { .family = family };

	if (access("/usr/bin/tshark", X_OK))
		skip();
	inet_pton(family, client, key.client);
	inet_pton(family, server, key.server);
	key.client_port = htons(client_port);
	key.server_port = htons(25);
	write_session(&key, path, size);
	check_with_tshark(path);
}

static void test_ipv4(void **state)
{
	char path[4096];

	(void)state;
	check_session(AF_INET, "198.51.100.7", "192.0.2.25", 40001, path,
		      sizeof(path));
	assert_non_null(strstr(path, "-198.51.100.7.pcap.gz"));
}

static void test_ipv6(void **state)
{
	char path[4096];

	(void)state;
	check_session(AF_INET6, "2001:db8:1::7", "2001:db8:2::25", 40002, path,
		      sizeof(path));
}

static void make_file(const char *name, size_t size, time_t mtime)
{
	struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), size), 0);
	fclose(f);
	assert_int_equal(utimes(path, tv), 0);
}

static bool exists(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !access(path, F_OK);
}

static int prune(uint64_t max_bytes, uint64_t keep_bytes)
{
	uint64_t left;

	return evidence_prune(dir, max_bytes, keep_bytes, &left);
}

static void test_prune(void **state)
{
	uint64_t left;

	(void)state;
	assert_true(prune(0, 0) >= 0); /* empty the dir */
	make_file("b.pcap.gz", 1000, 2000);
	make_file("a.pcap.gz", 1000, 1000); /* oldest */
	make_file("c.pcap.gz", 1000, 3000);
	make_file("notes.txt", 5000, 500); /* not evidence: never removed */
	assert_int_equal(prune(3000, 3000), 0);
	assert_int_equal(prune(2500, 2500), 1);
	assert_false(exists("a.pcap.gz"));
	assert_true(exists("b.pcap.gz"));
	assert_int_equal(evidence_prune(dir, 1000, 1000, &left), 1);
	assert_int_equal(left, 1000);
	assert_false(exists("b.pcap.gz"));
	assert_true(exists("c.pcap.gz"));
	assert_true(exists("notes.txt"));
	assert_int_equal(prune(500, 500), 1);
	/* over the bound: the oldest go until what is left is within keep */
	make_file("d.pcap.gz", 1000, 4000);
	make_file("e.pcap.gz", 1000, 5000);
	make_file("f.pcap.gz", 1000, 6000);
	assert_int_equal(evidence_prune(dir, 2500, 1500, &left), 2);
	assert_int_equal(left, 1000);
	assert_true(exists("f.pcap.gz"));
	assert_int_equal(evidence_prune("/nonexistent/rg", 0, 0, &left), 0);
	assert_int_equal(left, 0);
}

/* New files are counted, not scanned for: a file the daemon did not write
 * is only seen at the next scan, which only going over the bound starts;
 * that scan prunes to 7/8 of the bound. */
static void test_account(void **state)
{
	struct evidence_dir ed = { 0 };

	(void)state;
	assert_true(prune(0, 0) >= 0);
	make_file("a.pcap.gz", 1000, 1000);
	make_file("b.pcap.gz", 1000, 2000);
	make_file("c.pcap.gz", 1000, 3000);
	assert_int_equal(evidence_account(&ed, dir, 0, 4000), 0); /* learns */
	assert_true(ed.known);
	assert_int_equal(ed.total, 3000);
	make_file("d.pcap.gz", 500, 4000);
	assert_int_equal(evidence_account(&ed, dir, 500, 4000), 0);
	assert_int_equal(ed.total, 3500);
	make_file("x.pcap.gz", 9000, 500); /* not ours, oldest */
	assert_int_equal(evidence_account(&ed, dir, 0, 4000), 0); /* no scan */
	assert_true(exists("x.pcap.gz"));
	make_file("e.pcap.gz", 600, 5000);
	/* 3500 + 600 > 4000: the scan finds 13100 bytes and removes the
	 * oldest (x, a) down to 3500 = 7/8 of 4000 or less */
	assert_int_equal(evidence_account(&ed, dir, 600, 4000), 2);
	assert_false(exists("x.pcap.gz"));
	assert_false(exists("a.pcap.gz"));
	assert_true(exists("b.pcap.gz"));
	assert_true(exists("e.pcap.gz"));
	assert_int_equal(ed.total, 3100);
}

/* Two files for one source in one millisecond (an accepted relay's alert
 * right after the ban of its client): the second gets a name of its own,
 * never an error. Opened until two land in one millisecond. */
static void test_same_millisecond(void **state)
{
	struct prefix src = { .family = AF_INET, .len = 32 };
	char path[4096], last[4096] = "";
	size_t stamp = strlen(dir) + 1 + strlen("20261207T200914.209Z");
	struct evidence *e;
	bool same = false;
	int i;

	(void)state;
	inet_pton(AF_INET, "198.51.100.9", src.addr);
	for (i = 0; i < 2000 && !same; i++) {
		assert_int_equal(evidence_open(dir, &src, &e, path, sizeof(path)),
				 0);
		assert_int_equal(evidence_close(e), 0);
		same = !strncmp(path, last, stamp);
		snprintf(last, sizeof(last), "%s", path);
	}
	assert_true(same);
	assert_non_null(strstr(path, "-198.51.100.9.1.pcap.gz"));
}

static int cleanup(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_account),
		cmocka_unit_test(test_same_millisecond),
	};

	if (!mkdtemp(dir))
		return 1;
	return cmocka_run_group_tests(tests, NULL, cleanup);
}
