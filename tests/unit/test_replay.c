// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Replay: the real lab captures (../shared/testdata) give the decisions
 * their README names; the data plane's sampling budget applies; bad files
 * fail cleanly. */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "craft.h"
#include "log.h"
#include "replay.h"

static const char *testdata(const char *name)
{
	static char path[512];
	static const char *const dirs[] = { "../shared/testdata",
					    "../../shared/testdata",
					    "/work/shared/testdata" };
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (!access(path, R_OK))
			return path;
	}
	return NULL;
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

static void test_lab_captures(void **state)
{
	static const struct {
		const char *file;
		int bans, alerts, lines;
		const char *must;
	} cases[] = {
		{ "a-swaks-relay-denied.pcap", 1, 0, 1,
		  "\"source\":\"10.77.0.66\",\"reason\":\"relay_attempt\"" },
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
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
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

/* A generated capture: one session whose RCPT comes after 200 bytes of
 * client chatter. */
static void put(pcap_dumper_t *d, uint64_t *us, int from_client,
		uint8_t flags, uint32_t *cseq, uint32_t *sseq, const char *text)
{
	uint8_t buf[1600] = { 0 };
	size_t plen = text ? strlen(text) : 0;
	uint8_t *ip = buf + 14, *tcp = ip + 20;
	struct pcap_pkthdr h;
	uint32_t seq = htonl(from_client ? *cseq : *sseq);
	uint32_t ack = htonl(from_client ? *sseq : *cseq);

	buf[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (40 + plen) >> 8;
	ip[3] = (40 + plen) & 0xff;
	ip[9] = 6;
	inet_pton(AF_INET, from_client ? "192.0.2.66" : "10.77.0.1", ip + 12);
	inet_pton(AF_INET, from_client ? "10.77.0.1" : "192.0.2.66", ip + 16);
	tcp[from_client ? 3 : 1] = 25; /* the other port is 0x8000 */
	tcp[from_client ? 0 : 2] = 0x80;
	memcpy(tcp + 4, &seq, 4);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	memcpy(tcp + 20, text ? text : "", plen);
	*us += 10;
	h.ts.tv_sec = *us / 1000000;
	h.ts.tv_usec = *us % 1000000;
	h.caplen = h.len = 54 + plen + 6; /* Ethernet padding must not count */
	pcap_dump((u_char *)d, &h, buf);
	*(from_client ? cseq : sseq) += plen + ((flags & 0x03) ? 1 : 0);
}

static void write_session(const char *path)
{
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(pc, path);
	uint32_t c = 100, s = 5000;
	uint64_t us = 1700000000000000ULL;
	int i;

	assert_non_null(d);
	put(d, &us, 1, 0x02, &c, &s, NULL);
	put(d, &us, 0, 0x12, &c, &s, NULL);
	put(d, &us, 1, 0x10, &c, &s, NULL);
	put(d, &us, 0, 0x18, &c, &s, "220 gw ESMTP\r\n");
	for (i = 0; i < 20; i++)
		put(d, &us, 1, 0x18, &c, &s, "NOOP padding\r\n");
	for (i = 0; i < 20; i++)
		put(d, &us, 0, 0x18, &c, &s, "250 2.0.0 Ok\r\n");
	put(d, &us, 1, 0x18, &c, &s, "MAIL FROM:<a@b.example>\r\n");
	put(d, &us, 0, 0x18, &c, &s, "250 2.1.0 Ok\r\n");
	put(d, &us, 1, 0x18, &c, &s, "RCPT TO:<v@gmail.com>\r\n");
	put(d, &us, 0, 0x18, &c, &s, "554 5.7.1 Relay access denied\r\n");
	put(d, &us, 1, 0x18, &c, &s, "QUIT\r\n");
	pcap_dump_close(d);
	pcap_close(pc);
}

static void test_sampling_budget(void **state)
{
	struct rg_conf c = *lab_conf();
	char path[] = "/tmp/test_replay-XXXXXX";
	char *out;
	int ret;

	(void)state;
	close(mkstemp(path));
	write_session(path);
	out = replay_text(path, &c, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(count(out, "\"action\":\"ban\""), 1);
	assert_non_null(strstr(out, "\"rcpt_to\":\"v@gmail.com\""));
	assert_non_null(strstr(out, "\"source\":\"192.0.2.66\""));
	free(out);
	/* a 256-byte budget ends before the RCPT: the daemon would not see
	 * it, neither does the replay */
	c.dp.sample_bytes = 256;
	out = replay_text(path, &c, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(count(out, "\"action\":\"ban\""), 0);
	free(out);
	unlink(path);
}

/* Linux cooked capture (tcpdump -i any), IPv6. */
static void put6(pcap_dumper_t *d, uint64_t *us, int from_client,
		 uint8_t flags, uint32_t *cseq, uint32_t *sseq, const char *text)
{
	uint8_t buf[1600] = { 0 };
	size_t plen = text ? strlen(text) : 0;
	uint8_t *ip = buf + 16, *tcp = ip + 40;
	struct pcap_pkthdr h;
	uint32_t seq = htonl(from_client ? *cseq : *sseq);
	uint32_t ack = htonl(from_client ? *sseq : *cseq);

	buf[14] = 0x86;
	buf[15] = 0xdd;
	ip[0] = 0x60;
	ip[4] = (20 + plen) >> 8;
	ip[5] = (20 + plen) & 0xff;
	ip[6] = 6;
	inet_pton(AF_INET6, from_client ? "2001:db8::66" : "2001:db8::1", ip + 8);
	inet_pton(AF_INET6, from_client ? "2001:db8::1" : "2001:db8::66", ip + 24);
	tcp[from_client ? 3 : 1] = 25;
	tcp[from_client ? 0 : 2] = 0x90;
	memcpy(tcp + 4, &seq, 4);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	memcpy(tcp + 20, text ? text : "", plen);
	*us += 10;
	h.ts.tv_sec = *us / 1000000;
	h.ts.tv_usec = *us % 1000000;
	h.caplen = h.len = 16 + 40 + 20 + plen;
	pcap_dump((u_char *)d, &h, buf);
	*(from_client ? cseq : sseq) += plen + ((flags & 0x03) ? 1 : 0);
}

static void test_ipv6_cooked(void **state)
{
	pcap_t *pc = pcap_open_dead(DLT_LINUX_SLL, 65535);
	char path[] = "/tmp/test_replay-XXXXXX";
	uint64_t us = 1700000000000000ULL;
	uint32_t c = 0xfffffff0u, s = 42;
	pcap_dumper_t *d;
	char *out;
	int ret;

	(void)state;
	close(mkstemp(path));
	d = pcap_dump_open(pc, path);
	assert_non_null(d);
	put6(d, &us, 1, 0x02, &c, &s, NULL);
	put6(d, &us, 0, 0x12, &c, &s, NULL);
	put6(d, &us, 0, 0x18, &c, &s, "220 gw ESMTP\r\n");
	put6(d, &us, 1, 0x18, &c, &s, "EHLO six\r\nMAIL FROM:<>\r\n");
	put6(d, &us, 1, 0x18, &c, &s, "RCPT TO:<u@[IPv6:2001:db8::9]>\r\n");
	put6(d, &us, 0, 0x18, &c, &s, "250-gw\r\n250 SIZE\r\n250 Ok\r\n");
	put6(d, &us, 0, 0x18, &c, &s, "550 5.7.1 no IP literals\r\n");
	pcap_dump_close(d);
	pcap_close(pc);
	out = replay_text(path, lab_conf(), &ret);
	assert_int_equal(ret, 0);
	if (count(out, "\"action\":\"ban\"") != 1 ||
	    !strstr(out, "\"source\":\"2001:db8::66\",\"reason\":\"relay_probe\"") ||
	    !strstr(out, "\"flow\":\"[2001:db8::66]:36864 -> [2001:db8::1]:25\""))
		fail_msg("%s", out);
	free(out);
	unlink(path);
}

static void test_bad_files(void **state)
{
	char path[] = "/tmp/test_replay-XXXXXX";
	int fd = mkstemp(path);
	char *out;
	int ret;

	(void)state;
	assert_int_equal(write(fd, "not a pcap at all, just text\n", 29), 29);
	close(fd);
	out = replay_text(path, lab_conf(), &ret);
	assert_true(ret < 0);
	assert_string_equal(out, "");
	free(out);
	unlink(path);
	out = replay_text("/nonexistent/x.pcap", lab_conf(), &ret);
	assert_true(ret < 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_captures),
		cmocka_unit_test(test_policy_follows_config),
		cmocka_unit_test(test_sampling_budget),
		cmocka_unit_test(test_ipv6_cooked),
		cmocka_unit_test(test_bad_files),
	};

	log_init("test_replay", false, LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
