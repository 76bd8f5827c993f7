// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Replay throughput and a capture generator for it.
 *   bench_replay gen FILE SESSIONS      write SESSIONS SMTP sessions to FILE
 *   bench_replay run FILE [CONF]        time the pipeline on FILE (no output)
 *   bench_replay print FILE [CONF]      decisions as JSON lines (like
 *                                       relayguardd --replay)
 *   bench_replay                        gen + run on a temporary capture of
 *                                       50000 sessions (make bench)
 * The generated sessions come from many client addresses; one in four asks
 * for a foreign recipient (a relay attempt the server refuses), the others
 * deliver locally, pipelined or not. */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "replay.h"

struct gen {
	pcap_dumper_t *d;
	uint64_t ts_us;
	uint8_t cli[4], srv[4];
	uint16_t cport;
	uint32_t cseq, sseq;
};

static uint16_t csum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* One Ethernet/IPv4/TCP frame; from_client picks the direction. */
static void frame(struct gen *g, int from_client, uint8_t flags,
		  const char *payload)
{
	uint8_t buf[1600] = { 0 };
	size_t plen = payload ? strlen(payload) : 0, iplen = 40 + plen;
	uint8_t *ip = buf + 14, *tcp = ip + 20;
	struct pcap_pkthdr h;
	uint32_t seq = from_client ? g->cseq : g->sseq;
	uint32_t ack = from_client ? g->sseq : g->cseq;
	uint16_t sport = from_client ? g->cport : 25;
	uint16_t dport = from_client ? 25 : g->cport;

	buf[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = iplen >> 8;
	ip[3] = iplen & 0xff;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, from_client ? g->cli : g->srv, 4);
	memcpy(ip + 16, from_client ? g->srv : g->cli, 4);
	ip[10] = 0;
	ip[11] = 0;
	{
		uint16_t c = csum16(ip, 20);

		ip[10] = c >> 8;
		ip[11] = c & 0xff;
	}
	tcp[0] = sport >> 8;
	tcp[1] = sport & 0xff;
	tcp[2] = dport >> 8;
	tcp[3] = dport & 0xff;
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(tcp + 4, &seq, 4);
	if (flags & RG_TCP_ACK)
		memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	if (plen)
		memcpy(tcp + 20, payload, plen);
	g->ts_us += 7;
	h.ts.tv_sec = g->ts_us / 1000000;
	h.ts.tv_usec = g->ts_us % 1000000;
	h.caplen = h.len = 14 + iplen;
	pcap_dump((u_char *)g->d, &h, buf);
	if (from_client)
		g->cseq += plen + ((flags & (RG_TCP_SYN | RG_TCP_FIN)) ? 1 : 0);
	else
		g->sseq += plen + ((flags & (RG_TCP_SYN | RG_TCP_FIN)) ? 1 : 0);
}

static void session(struct gen *g, unsigned long i)
{
	char rcpt[128];
	bool relay = i % 4 == 3, pipelined = i % 2;

	g->cli[0] = 10;
	g->cli[1] = 1 + (i >> 16) % 200;
	g->cli[2] = (i >> 8) & 0xff;
	g->cli[3] = 1 + i % 250;
	g->cport = 1024 + i % 60000;
	g->cseq = 0x10000000u + i * 7919;
	g->sseq = 0x70000000u + i * 104729;
	snprintf(rcpt, sizeof(rcpt), "RCPT TO:<%s%lu@%s>\r\n",
		 relay ? "victim" : "user", i,
		 relay ? "gmail.com" : "example.test");
	frame(g, 1, RG_TCP_SYN, NULL);
	frame(g, 0, RG_TCP_SYN | RG_TCP_ACK, NULL);
	frame(g, 1, RG_TCP_ACK, NULL);
	frame(g, 0, RG_TCP_PSH | RG_TCP_ACK,
	      "220 gw.example.test ESMTP Postfix\r\n");
	frame(g, 1, RG_TCP_PSH | RG_TCP_ACK, "EHLO client.example.net\r\n");
	frame(g, 0, RG_TCP_PSH | RG_TCP_ACK,
	      "250-gw.example.test\r\n250-PIPELINING\r\n"
	      "250-SIZE 10240000\r\n250 8BITMIME\r\n");
	if (pipelined) {
		char both[256];

		snprintf(both, sizeof(both),
			 "MAIL FROM:<sender@example.net>\r\n%s", rcpt);
		frame(g, 1, RG_TCP_PSH | RG_TCP_ACK, both);
		frame(g, 0, RG_TCP_PSH | RG_TCP_ACK,
		      relay ? "250 2.1.0 Ok\r\n554 5.7.1 Relay access "
			      "denied\r\n"
			    : "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	} else {
		frame(g, 1, RG_TCP_PSH | RG_TCP_ACK,
		      "MAIL FROM:<sender@example.net>\r\n");
		frame(g, 0, RG_TCP_PSH | RG_TCP_ACK, "250 2.1.0 Ok\r\n");
		frame(g, 1, RG_TCP_PSH | RG_TCP_ACK, rcpt);
		frame(g, 0, RG_TCP_PSH | RG_TCP_ACK,
		      relay ? "554 5.7.1 Relay access denied\r\n"
			    : "250 2.1.5 Ok\r\n");
	}
	frame(g, 1, RG_TCP_PSH | RG_TCP_ACK, "QUIT\r\n");
	frame(g, 0, RG_TCP_PSH | RG_TCP_ACK, "221 2.0.0 Bye\r\n");
	frame(g, 0, RG_TCP_FIN | RG_TCP_ACK, NULL);
	frame(g, 1, RG_TCP_FIN | RG_TCP_ACK, NULL);
	frame(g, 0, RG_TCP_ACK, NULL);
}

static int do_gen(const char *path, unsigned long n)
{
	struct gen g = { .srv = { 10, 0, 0, 1 }, .ts_us = 1700000000000000ULL };
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 65535);
	unsigned long i;

	g.d = pcap_dump_open(pc, path);
	if (!g.d) {
		fprintf(stderr, "cannot write %s: %s\n", path, pcap_geterr(pc));
		return 1;
	}
	for (i = 0; i < n; i++)
		session(&g, i);
	pcap_dump_close(g.d);
	pcap_close(pc);
	return 0;
}

static int load_conf(const char *path, struct rg_conf *c)
{
	char err[512];

	if (!path && conf_parse("built-in", "local_domains = example.test\n"
			   "trusted_networks = 10.77.1.0/24\n", c, err,
			   sizeof(err)) == 0)
		return 0;
	if (!path || conf_load(path, c, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

static int do_run(const char *path, const char *conf_path)
{
	struct replay_result res;
	struct rg_conf *c = malloc(sizeof(*c));
	uint64_t t0, t1;
	double secs;

	if (!c || load_conf(conf_path, c))
		return 1;
	t0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (replay_pcap_result(path, c, NULL, &res))
		return 1;
	t1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	secs = (t1 - t0) / 1e9;
	printf("frames %llu records %llu sessions %llu decisions %llu "
	       "cpu_seconds %.3f sessions_per_sec %.0f\n",
	       (unsigned long long)res.frames, (unsigned long long)res.records,
	       (unsigned long long)res.stats.smtp_sessions,
	       (unsigned long long)res.decisions, secs,
	       res.stats.smtp_sessions / (secs > 0 ? secs : 1e-9));
	free(c);
	return 0;
}

static int do_print(const char *path, const char *conf_path)
{
	struct rg_conf *c = malloc(sizeof(*c));
	int ret;

	if (!c || load_conf(conf_path, c))
		return 1;
	ret = replay_pcap(path, c, stdout);
	free(c);
	return ret ? 1 : 0;
}

/* No arguments (tests/bench/run.sh): a self-contained run. The comparison
 * with tshark is tests/bench/bench-replay.sh. */
static int do_default(void)
{
	char path[] = "/tmp/bench_replay-XXXXXX";
	int fd = mkstemp(path), ret;

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	ret = do_gen(path, 50000);
	if (!ret)
		ret = do_run(path, NULL);
	unlink(path);
	return ret;
}

int main(int argc, char **argv)
{
	log_init("bench_replay", false, LOG_LVL_WARN);
	if (argc == 1)
		return do_default();
	if (argc == 4 && !strcmp(argv[1], "gen"))
		return do_gen(argv[2], strtoul(argv[3], NULL, 10));
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "run"))
		return do_run(argv[2], argc == 4 ? argv[3] : NULL);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "print"))
		return do_print(argv[2], argc == 4 ? argv[3] : NULL);
	fprintf(stderr, "usage: bench_replay gen FILE SESSIONS | run FILE [CONF] "
			"| print FILE [CONF]\n");
	return 2;
}
