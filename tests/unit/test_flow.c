// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Flow table and reassembly: segments in any order, overlapping and
 * repeated, give back the stream; gaps that never fill are skipped and
 * counted; caps on flows and bytes are counted; handshake verification;
 * unverified flows evicted first under a flood; kept samples come back
 * whole; 100,000 concurrent flows stay under the documented memory cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "craft.h"
#include "flow.h"
#include "procfs.h"
#include "unit.h"

/* The documented cap: 100,000 concurrent SMTP flows (handshake, greeting,
 * EHLO and its reply, evidence samples kept) in at most this much RSS. */
#define RSS_CAP_100K_MIB 160

struct sink {
	uint8_t out[2][65536];
	size_t len[2];
	unsigned int gaps[2];
	size_t lost[2];
	unsigned int released;
};

static void sink_deliver(void *ctx, struct flow *f, int dir,
			 const uint8_t *data, size_t len)
{
	struct sink *s = ctx;

	(void)f;
	if (!data) {
		s->gaps[dir]++;
		s->lost[dir] += len;
		return;
	}
	if (s->len[dir] + len <= sizeof(s->out[dir])) {
		memcpy(s->out[dir] + s->len[dir], data, len);
		s->len[dir] += len;
	}
}

static void sink_release(void *ctx, struct flow *f)
{
	struct sink *s = ctx;

	(void)f;
	s->released++;
}

static struct flow_table *table(struct sink *s, unsigned int max_flows,
				unsigned int max_bytes)
{
	struct flow_table_params p = {
		.max_flows = max_flows,
		.max_bytes = max_bytes,
		.sample_bytes = 4096,
		.keep_samples = true,
		.user_size = 16,
		.deliver = sink_deliver,
		.release = sink_release,
		.ctx = s,
	};

	memset(s, 0, sizeof(*s));
	return flow_table_new(&p);
}

static struct rg_flow_key key_n(unsigned int n)
{
	struct rg_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = 2;
	k.client[0] = 192;
	k.client[1] = n >> 16;
	k.client[2] = n >> 8;
	k.client[3] = n;
	k.server[0] = 10;
	k.client_port = n;
	k.server_port = 25;
	return k;
}

/* The flow of key_n(n), new at time 1. */
static struct flow *new_flow(struct flow_table *t, unsigned int n)
{
	struct rg_flow_key k = key_n(n);

	return flow_get(t, &k, 1, true, NULL);
}

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

struct seg {
	uint32_t off, len;
};

/* Cut [0, total) into segments, then overlap, duplicate and shuffle them
 * according to the strategy. */
static size_t make_segments(struct seg *segs, size_t max, uint32_t total,
			    int strategy, uint64_t *seed)
{
	size_t n = 0, i, j, k;
	uint32_t off = 0, len;
	struct seg t;

	while (off < total && n < max / 2) {
		len = 1 + rnd(seed) % 40;
		if (off + len > total)
			len = total - off;
		segs[n++] = (struct seg){ off, len };
		off += len;
	}
	if (strategy >= 1) /* overlaps: widen some segments backwards */
		for (i = 0; i < n; i++)
			if (segs[i].off >= 5 && rnd(seed) % 3 == 0) {
				segs[i].off -= 5;
				segs[i].len += 5;
			}
	if (strategy >= 2) /* retransmissions */
		for (i = 0, j = n; i < j / 3 && n < max; i++) {
			t = segs[rnd(seed) % j];
			segs[n++] = t;
		}
	if (strategy >= 1) /* reverse blocks of 1-6: bounded disorder */
		for (i = 0; i < n; i += j) {
			j = 1 + rnd(seed) % 6;
			if (i + j > n)
				j = n - i;
			for (k = 0; k < j / 2; k++) {
				t = segs[i + k];
				segs[i + k] = segs[i + j - 1 - k];
				segs[i + j - 1 - k] = t;
			}
		}
	return n;
}

static void test_reassembly(void **state)
{
	uint8_t stream[2000];
	struct seg segs[400];
	struct sink sink;
	struct flow_table *t;
	struct rg_flow_key k = key_n(1);
	struct flow *f;
	uint64_t seed;
	uint32_t isn;
	size_t i, n;
	int strategy, round;

	(void)state;
	for (i = 0; i < sizeof(stream); i++)
		stream[i] = 'a' + i % 26;
	for (strategy = 0; strategy < 3; strategy++) {
		for (round = 0; round < 50; round++) {
			seed = round * 977 + strategy;
			/* near the wrap of the sequence space half the time */
			isn = round % 2 ? 0xfffffc00u + round : 1000u * round;
			t = table(&sink, 64, 65536);
			f = flow_get(t, &k, 1, true, NULL);
			flow_track(f, RG_DIR_IN, RG_TCP_SYN, isn - 1, 0);
			n = make_segments(segs, 400, sizeof(stream), strategy, &seed);
			for (i = 0; i < n; i++)
				flow_segment(t, f, RG_DIR_IN, isn + segs[i].off,
					     stream + segs[i].off, segs[i].len);
			flow_flush(t, f, RG_DIR_IN);
			if (sink.len[0] != sizeof(stream) ||
			    memcmp(sink.out[0], stream, sizeof(stream)))
				fail_msg("strategy %d round %d: %zu bytes, differs",
					 strategy, round, sink.len[0]);
			assert_int_equal(sink.gaps[0], 0);
			if (strategy >= 2)
				assert_true(flow_table_stats(t)->retransmits > 0);
			flow_table_free(t);
		}
	}
}

static void test_gap_skipped(void **state)
{
	struct sink sink;
	struct flow_table *t = table(&sink, 64, 65536);
	struct flow *f = new_flow(t, 2);
	char line[16];
	uint32_t seq = 5000;
	int i;

	(void)state;
	flow_track(f, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, seq - 1, 0);
	flow_segment(t, f, RG_DIR_OUT, seq, (const uint8_t *)"AAAA", 4);
	/* bytes 4..7 never arrive; later segments pile up until the cap on
	 * held segments gives up on the hole */
	for (i = 0; i < FLOW_OOO_MAX_SEGS + 3; i++) {
		snprintf(line, sizeof(line), "%04d", i);
		flow_segment(t, f, RG_DIR_OUT, seq + 8 + 4 * i,
			     (const uint8_t *)line, 4);
	}
	assert_int_equal(sink.gaps[1], 1);
	assert_int_equal(sink.lost[1], 4);
	assert_int_equal(sink.len[1], 4 + 4 * (FLOW_OOO_MAX_SEGS + 3));
	assert_memory_equal(sink.out[1], "AAAA0000", 8);
	assert_true(f->state & FLOW_GAP);
	assert_true(f->state & FLOW_CAPPED);
	assert_int_equal(flow_table_stats(t)->gaps, 1);
	assert_int_equal(flow_table_stats(t)->bytes_dropped_cap, 4);
	flow_table_free(t);
}

static void test_byte_cap(void **state)
{
	uint8_t big[600];
	struct sink sink;
	struct flow_table *t = table(&sink, 64, 1024);
	struct flow *f = new_flow(t, 3);

	(void)state;
	memset(big, 'x', sizeof(big));
	flow_track(f, RG_DIR_IN, RG_TCP_SYN, 99, 0);
	/* hole at 100..109; 600 + 600 bytes after it exceed the 1024 cap */
	flow_segment(t, f, RG_DIR_IN, 110, big, 600);
	assert_int_equal(sink.len[0], 0);
	assert_int_equal(f->dir[0].ooo_bytes, 600);
	flow_segment(t, f, RG_DIR_IN, 710, big, 600);
	assert_true(f->state & FLOW_CAPPED);
	assert_int_equal(sink.gaps[0], 1);
	assert_int_equal(sink.len[0], 1200);
	assert_true(f->dir[0].ooo_bytes <= 1024);
	assert_true(flow_table_stats(t)->bytes_dropped_cap > 0);
	flow_table_free(t);
}

/* n new flows, keys key_n(first) on, the i-th claimed at t0 + i * step. */
static void claim_flows(struct flow_table *t, unsigned int first,
			unsigned int n, uint64_t t0, uint64_t step)
{
	struct rg_flow_key k;
	unsigned int i;

	for (i = 0; i < n; i++) {
		k = key_n(first + i);
		assert_non_null(flow_get(t, &k, t0 + i * step, true, NULL));
	}
}

static void test_flow_cap_and_idle(void **state)
{
	struct sink sink;
	struct flow_table *t = table(&sink, 16, 4096);
	struct rg_flow_key k;

	(void)state;
	claim_flows(t, 100, 20, 0, NSEC_PER_SEC);
	assert_int_equal(flow_table_stats(t)->active, 16);
	assert_int_equal(flow_table_stats(t)->evicted_cap, 4);
	/* the oldest went first */
	k = key_n(100);
	assert_null(flow_get(t, &k, 20 * NSEC_PER_SEC, false, NULL));
	k = key_n(119);
	assert_non_null(flow_get(t, &k, 20 * NSEC_PER_SEC, false, NULL));
	/* idle for 10s at 21s: last seen at 11s or before (104..111) */
	flow_expire(t, 21 * NSEC_PER_SEC, 10 * NSEC_PER_SEC);
	assert_int_equal(flow_table_stats(t)->active, 8); /* 112..119 */
	assert_int_equal(flow_table_stats(t)->idle, 8);
	assert_int_equal(sink.released, 12);
	flow_table_free(t);
	assert_int_equal(sink.released, 20);
}

static void test_handshake(void **state)
{
	static const struct {
		bool syn, synack;
		uint32_t synack_ack_delta; /* 1: answers the SYN */
		uint32_t client_ack_delta; /* from server ISN */
		bool verified;
	} cases[] = {
		{ true, true, 1, 1, true }, /* textbook */
		{ true, true, 1, 31, true }, /* acks the 30-byte greeting */
		{ true, true, 1, 32, false }, /* acks bytes never sent */
		{ true, true, 1, 0, false }, /* acks the ISN itself */
		/* the SYN-ACK answers a SYN not sampled: the server decides
		 * which SYN is the connection's, the client's ACK proves it
		 * got the SYN-ACK */
		{ true, true, 5, 1, true },
		{ false, true, 1, 1, true }, /* client SYN not sampled */
		{ true, false, 1, 1, false }, /* no SYN-ACK: cannot verify */
	};
	struct sink sink;
	struct flow_table *t;
	struct rg_flow_key k = key_n(4);
	const uint32_t cisn = 0xfffffff0u, sisn = 777;
	struct flow *f;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		t = table(&sink, 8, 4096);
		f = flow_get(t, &k, 1, true, NULL);
		if (cases[i].syn)
			flow_track(f, RG_DIR_IN, RG_TCP_SYN, cisn, 0);
		if (cases[i].synack)
			flow_track(f, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, sisn,
				   cisn + cases[i].synack_ack_delta);
		flow_segment(t, f, RG_DIR_OUT, sisn + 1,
			     (const uint8_t *)"220 gw.example.test ESMTP ok\r\n",
			     30);
		flow_track(f, RG_DIR_IN, RG_TCP_ACK, cisn + 1,
			   sisn + cases[i].client_ack_delta);
		if (flow_verified(f) != cases[i].verified)
			fail_msg("case %zu: verified %d", i, flow_verified(f));
		flow_table_free(t);
	}
}

/* Every server byte is sampled: a verified client acking server bytes
 * beyond them is forged and changes nothing, but one acking past a hole
 * in what was seen (a record lost to a full ring) makes it one gap, once.
 * A server acking client bytes never sampled: one gap of exactly those
 * bytes, once; acks of what was seen, and acks on an unverified flow, are
 * no loss. */
static void test_bytes_acked_unseen(void **state)
{
	struct sink sink;
	struct flow_table *t = table(&sink, 8, 4096);
	struct flow *f = new_flow(t, 6);
	const uint32_t cisn = 1000, sisn = 5000;

	(void)state;
	flow_track(f, RG_DIR_IN, RG_TCP_SYN, cisn, 0);
	flow_track(f, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, sisn, cisn + 1);
	flow_segment(t, f, RG_DIR_OUT, sisn + 1, (const uint8_t *)"220 gw\r\n", 8);
	flow_acked(t, f, RG_DIR_IN, sisn + 9); /* unverified yet: ignored */
	assert_int_equal(sink.gaps[RG_DIR_OUT], 0);
	flow_track(f, RG_DIR_IN, RG_TCP_ACK, cisn + 1, sisn + 9);
	flow_acked(t, f, RG_DIR_IN, sisn + 9); /* all seen */
	assert_int_equal(sink.gaps[RG_DIR_OUT], 0);
	flow_acked(t, f, RG_DIR_IN, sisn + 9 + 50000); /* never sent */
	assert_int_equal(sink.gaps[RG_DIR_OUT], 0);
	flow_segment(t, f, RG_DIR_OUT, sisn + 9 + 300,
		     (const uint8_t *)"250 ok\r\n", 8); /* 300 bytes lost */
	flow_acked(t, f, RG_DIR_IN, sisn + 9 + 100); /* past the hole */
	assert_int_equal(sink.gaps[RG_DIR_OUT], 1);
	assert_int_equal(sink.lost[RG_DIR_OUT], 300);
	flow_acked(t, f, RG_DIR_IN, sisn + 9 + 308); /* the same loss: once */
	assert_int_equal(sink.gaps[RG_DIR_OUT], 1);
	assert_int_equal(sink.gaps[RG_DIR_IN], 0);
	/* the same from the server's side: it acks client bytes unseen */
	flow_segment(t, f, RG_DIR_IN, cisn + 1, (const uint8_t *)"EHLO x\r\n", 8);
	flow_acked(t, f, RG_DIR_OUT, cisn + 9);
	assert_int_equal(sink.gaps[RG_DIR_IN], 0);
	flow_acked(t, f, RG_DIR_OUT, cisn + 9 + 100);
	assert_int_equal(sink.gaps[RG_DIR_IN], 1);
	assert_int_equal(sink.lost[RG_DIR_IN], 100);
	flow_table_free(t);
}

static unsigned int count_cb_n;
static size_t count_cb_bytes;

static void count_cb(const struct rg_sample *s, void *ctx)
{
	(void)ctx;
	count_cb_n++;
	count_cb_bytes += s->payload_len;
}

static void test_samples_kept_bounded(void **state)
{
	uint8_t buf[sizeof(struct rg_sample) + 1000];
	struct rg_sample *s = (struct rg_sample *)buf;
	struct sink sink;
	struct flow_table *t = table(&sink, 8, 4096);
	struct flow *f = new_flow(t, 5);
	int i;

	(void)state;
	memset(buf, 'z', sizeof(buf));
	memset(s, 0, sizeof(*s));
	s->flow = key_n(5);
	s->payload_len = 1000;
	for (i = 0; i < 10; i++) /* 10 KB offered, 4096 per direction kept */
		flow_keep_sample(t, f, s);
	s->payload_len = 0;
	for (i = 0; i < 100; i++) /* bare records: bounded by count */
		flow_keep_sample(t, f, s);
	count_cb_n = 0;
	count_cb_bytes = 0;
	flow_for_each_sample(f, count_cb, NULL);
	assert_int_equal(count_cb_bytes, 4000);
	assert_int_equal(count_cb_n, FLOW_SAMPLES_MAX);
	flow_table_free(t);
}

/* A sample record with room for a short payload. */
union short_rec {
	struct rg_sample s;
	uint8_t bytes[sizeof(struct rg_sample) + 8];
};

static union short_rec given[2];
static unsigned int n_given;

static void give_cb(const struct rg_sample *s, void *ctx)
{
	(void)ctx;
	assert_true(n_given < 2 && s->payload_len <= 8);
	memcpy(&given[n_given++], s, sizeof(*s) + s->payload_len);
}

static void set_sample(union short_rec *r, uint64_t ts, uint32_t seq,
		       uint8_t dir, uint8_t flags, const char *payload)
{
	memset(r, 0, sizeof(*r));
	r->s.ts_ns = ts;
	r->s.flow = key_n(6);
	r->s.seq = seq;
	r->s.ack = ~seq;
	r->s.ifindex = seq >> 4;
	r->s.payload_len = strlen(payload);
	r->s.dir = dir;
	r->s.tcp_flags = flags;
	memcpy(r->s.payload, payload, r->s.payload_len);
}

/* A kept sample comes back as it was kept, every field of it. */
static void test_samples_kept_whole(void **state)
{
	union short_rec want[2];
	struct sink sink;
	struct flow_table *t = table(&sink, 8, 4096);
	struct flow *f = new_flow(t, 6);
	unsigned int i;

	(void)state;
	set_sample(&want[0], 0x1122334455667788ULL, 0x01020304, RG_DIR_IN,
		   RG_TCP_PSH | RG_TCP_ACK, "abc");
	set_sample(&want[1], 99, 0xa0b0c0d0, RG_DIR_OUT, RG_TCP_FIN, "250 x");
	for (i = 0; i < 2; i++)
		flow_keep_sample(t, f, &want[i].s);
	n_given = 0;
	flow_for_each_sample(f, give_cb, NULL);
	assert_int_equal(n_given, 2);
	for (i = 0; i < 2; i++)
		assert_memory_equal(&given[i], &want[i],
				    sizeof(want[i].s) + want[i].s.payload_len);
	flow_table_free(t);
}

/* After QUIT/221 the flow keeps only a tombstone: records still in flight
 * are ignored (no mid-stream flow is born from them), and the tombstone
 * goes after its grace. */
static void test_finished_tombstone(void **state)
{
	struct collector col = { 0 };
	struct pipeline *p = pipeline_new(lab_conf(), &collect_ops, &col);
	struct craft c;

	(void)state;
	craft_init(&c, p, "192.0.2.77", 45000);
	craft_handshake(&c);
	craft_server(&c, "220 gw\r\n");
	craft_client(&c, "QUIT\r\n");
	craft_server(&c, "221 2.0.0 Bye\r\n");
	assert_int_equal(col.stops, 1);
	assert_int_equal(pipeline_stats(p)->flows_active, 1);
	/* late bytes that would look like garbage to a fresh parser */
	craft_client(&c, "\x16\x03\x01 junk\r\n");
	craft_server(&c, "not a reply\r\n");
	assert_int_equal(col.n, 0);
	assert_int_equal(pipeline_stats(p)->flows_created, 1);
	pipeline_tick(p, c.ts + FLOW_FINISHED_GRACE_NS / 2);
	assert_int_equal(pipeline_stats(p)->flows_active, 1);
	pipeline_tick(p, c.ts + FLOW_FINISHED_GRACE_NS + 1);
	assert_int_equal(pipeline_stats(p)->flows_active, 0);
	pipeline_free(p);
}

static long rss_kib(void)
{
	return proc_number("/proc/self/status", "VmRSS: %ld kB");
}

/* 100,000 concurrent flows through pipeline_feed, each mid-dialogue. */
static void test_memory_100k_flows(void **state)
{
	struct collector col = { 0 };
	struct rg_conf conf = *lab_conf();
	struct pipeline *p;
	struct craft c;
	long before, after;
	unsigned int i;
	char ip[32];

	(void)state;
	conf.max_flows = 200000;
	before = rss_kib();
	p = pipeline_new(&conf, &collect_ops, &col);
	for (i = 0; i < 100000; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", 100 + i / 65536,
			 (i / 256) % 256, i % 256);
		craft_init(&c, p, ip, 1024 + i % 60000);
		craft_handshake(&c);
		craft_server(&c, "220 gw.example.test ESMTP Postfix\r\n");
		craft_client(&c, "EHLO client.example.net\r\n");
		craft_server(&c, "250-gw.example.test\r\n250-PIPELINING\r\n"
				 "250 8BITMIME\r\n");
		craft_client(&c, "MAIL FROM:<sender@example.net>\r\nRCPT TO:<u");
	}
	after = rss_kib();
	assert_int_equal(pipeline_stats(p)->flows_active, 100000);
	assert_int_equal(pipeline_stats(p)->flows_evicted_cap, 0);
	printf("# 100000 flows: RSS %ld KiB -> %ld KiB (+%ld KiB, %ld bytes/flow), "
	       "cap %d MiB\n", before, after, after - before,
	       (after - before) * 1024 / 100000, RSS_CAP_100K_MIB);
	assert_true(after - before < RSS_CAP_100K_MIB * 1024);
	pipeline_free(p);
}

/* Eviction at the flow cap under a flood of spoofed sessions: flows whose
 * handshake was never verified (all a spoofer can make) go first, so a
 * flood never pushes a verified session out of the table; each eviction
 * is counted, unverified ones apart; idle expiry still sees every flow. */
/* A session whose handshake is verified, then one more record (the
 * server's greeting) at now. */
static void verified_flow(struct flow_table *t, unsigned int n, uint64_t now)
{
	struct rg_flow_key k = key_n(n);
	struct flow *f = flow_get(t, &k, now, true, NULL);

	assert_non_null(f);
	flow_track(f, RG_DIR_IN, RG_TCP_SYN, 1000, 0);
	flow_track(f, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, 5000, 1001);
	assert_true(flow_track(f, RG_DIR_IN, RG_TCP_ACK, 1001, 5001));
	assert_non_null(flow_get(t, &k, now, false, NULL));
}

static bool present(struct flow_table *t, unsigned int n, uint64_t now)
{
	struct rg_flow_key k = key_n(n);

	return flow_get(t, &k, now, false, NULL) != NULL;
}

static void test_flood_keeps_verified(void **state)
{
	struct sink sink;
	struct flow_table *t = table(&sink, 16, 4096);
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++)
		verified_flow(t, i, NSEC_PER_SEC);
	/* The flood: 100 spoofed sessions, each newer than the verified. */
	claim_flows(t, 1000, 100, 2 * NSEC_PER_SEC, 1);
	for (i = 0; i < 4; i++)
		assert_true(present(t, i, 3 * NSEC_PER_SEC));
	assert_int_equal(flow_table_stats(t)->active, 16);
	assert_int_equal(flow_table_stats(t)->evicted_cap, 88);
	assert_int_equal(flow_table_stats(t)->evicted_unverified, 88);
	/* The newest spoofed sessions are the ones kept. */
	assert_true(present(t, 1099, 3 * NSEC_PER_SEC));
	assert_false(present(t, 1087, 3 * NSEC_PER_SEC));
	assert_true(present(t, 1088, 3 * NSEC_PER_SEC));
	/* Idle expiry sees both kinds: all gone 10 s after their last record. */
	flow_expire(t, 20 * NSEC_PER_SEC, 10 * NSEC_PER_SEC);
	assert_int_equal(flow_table_stats(t)->active, 0);
	assert_int_equal(flow_table_stats(t)->idle, 16);
	assert_int_equal(flow_table_stats(t)->unverified, 12);
	flow_table_free(t);
	assert_int_equal(sink.released, 104);
}

/* With no unverified flow left, the oldest verified one goes. */
static void test_all_verified_lru(void **state)
{
	struct sink sink;
	struct flow_table *t = table(&sink, 16, 4096);
	struct rg_flow_key k = key_n(500);
	unsigned int i;

	(void)state;
	for (i = 0; i < 16; i++)
		verified_flow(t, i, (1 + i) * NSEC_PER_SEC);
	assert_non_null(flow_get(t, &k, 20 * NSEC_PER_SEC, true, NULL));
	assert_false(present(t, 0, 21 * NSEC_PER_SEC));
	assert_true(present(t, 1, 21 * NSEC_PER_SEC));
	assert_int_equal(flow_table_stats(t)->evicted_cap, 1);
	assert_int_equal(flow_table_stats(t)->evicted_unverified, 0);
	flow_table_free(t);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_reassembly),
	       cmocka_unit_test(test_gap_skipped),
	       cmocka_unit_test(test_byte_cap),
	       cmocka_unit_test(test_flow_cap_and_idle),
	       cmocka_unit_test(test_handshake),
	       cmocka_unit_test(test_bytes_acked_unseen),
	       cmocka_unit_test(test_samples_kept_bounded),
	       cmocka_unit_test(test_samples_kept_whole),
	       cmocka_unit_test(test_finished_tombstone),
	       cmocka_unit_test(test_memory_100k_flows),
	       cmocka_unit_test(test_flood_keeps_verified),
	       cmocka_unit_test(test_all_verified_lru))
