// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: random segments (offsets, lengths, orders, overlaps,
 * retransmits, wrap-around ISNs) -> reassembly. Oracle: whatever is
 * delivered is the stream's bytes at the right offset (after a gap, at the
 * offset the gap says). Then the same segments as sample records through
 * the whole pipeline (flows + SMTP + policy), with SYN/FIN/RST flags.
 * Input: 4 bytes ISN, then records of 5 bytes: dir|flags, off(2), len(2). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "flow.h"
#include "pipeline.h"

#define STREAM 4096

static uint8_t stream[2][STREAM];
static size_t expect_off[2]; /* stream offset of the next delivered byte */

static void deliver(void *ctx, struct flow *f, int dir, const uint8_t *data,
		    size_t len)
{
	(void)ctx;
	(void)f;
	if (!data) {
		expect_off[dir] += len;
		return;
	}
	if (expect_off[dir] + len > STREAM ||
	    memcmp(data, stream[dir] + expect_off[dir], len))
		abort(); /* reassembly delivered the wrong bytes */
	expect_off[dir] += len;
}

static void decide(void *ctx, const struct decision *d)
{
	(void)ctx;
	if (d->unverified && d->action != DECISION_FINDING)
		abort(); /* never a ban from an unverified flow */
	if (d->action != DECISION_FINDING && !flow_verified(d->flow))
		abort();
}

static const struct pipeline_ops ops = { .decide = decide };

static void init_streams(void)
{
	static const char *const talk[2] = {
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<v@gmail.com>\r\n"
		"RCPT TO:<u%x@example.test>\r\nDATA\r\n",
		"220 gw\r\n250-gw\r\n250 PIPELINING\r\n250 Ok\r\n554 5.7.1 no\r\n"
		"250 Ok\r\n354 go\r\n",
	};
	size_t i, n;
	int d;

	for (d = 0; d < 2; d++) {
		n = strlen(talk[d]);
		for (i = 0; i < STREAM; i++)
			stream[d][i] = talk[d][i % n];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rg_conf conf;
	struct flow_table_params fp = {
		.max_flows = 8, .max_bytes = 1024, .sample_bytes = 4096,
		.keep_samples = true, .user_size = 8, .deliver = deliver,
	};
	uint8_t rec[sizeof(struct rg_sample) + RG_SAMPLE_PAYLOAD_MAX];
	struct rg_sample *s = (struct rg_sample *)rec;
	struct flow_table *t;
	struct pipeline *p;
	struct rg_flow_key key;
	struct flow *f;
	uint32_t isn, off, len;
	uint8_t dirflags;
	size_t i;

	if (size < 4)
		return 0;
	if (!conf.max_flows) {
		char err[128];

		init_streams();
		conf_parse("fuzz", "local_domains = example.test\n", &conf, err,
			   sizeof(err));
		conf.max_flows = 4;
		conf.flow_max_bytes = 600;
	}
	memcpy(&isn, data, 4);
	data += 4;
	size -= 4;
	memset(&key, 0, sizeof(key));
	key.family = AF_INET;
	key.client[0] = 192;
	key.server[0] = 10;
	key.server_port = htons(25);

	/* 1: reassembly alone, with the oracle */
	t = flow_table_new(&fp);
	f = flow_get(t, &key, 1, true, NULL);
	expect_off[0] = expect_off[1] = 0;
	flow_track(f, RG_DIR_IN, RG_TCP_SYN, isn - 1, 0);
	flow_track(f, RG_DIR_OUT, RG_TCP_SYN | RG_TCP_ACK, isn * 3 - 1, isn);
	for (i = 0; i + 5 <= size; i += 5) {
		dirflags = data[i];
		off = (data[i + 1] | data[i + 2] << 8) % STREAM;
		len = (data[i + 3] | data[i + 4] << 8) % 600;
		if (off + len > STREAM)
			len = STREAM - off;
		if (dirflags & 0x80)
			flow_flush(t, f, 1);
		flow_segment(t, f, dirflags & 1,
			     (dirflags & 1 ? isn * 3 : isn) + off,
			     stream[dirflags & 1] + off, len);
	}
	flow_table_free(t);

	/* 2: the same segments as records through the pipeline */
	p = pipeline_new(&conf, &ops, NULL);
	for (i = 0; i + 5 <= size; i += 5) {
		dirflags = data[i];
		off = (data[i + 1] | data[i + 2] << 8) % STREAM;
		len = (data[i + 3] | data[i + 4] << 8) % RG_SAMPLE_PAYLOAD_MAX;
		if (off + len > STREAM)
			len = STREAM - off;
		memset(s, 0, sizeof(*s));
		s->ts_ns = i * 1000000ULL;
		s->flow = key;
		s->flow.client_port = dirflags & 0x40 ? 1 : 2;
		s->dir = dirflags & 1;
		s->tcp_flags = (dirflags >> 1) & 0x1f;
		s->seq = htonl((s->dir ? isn * 3 : isn) + off);
		s->ack = htonl((s->dir ? isn : isn * 3) + (data[i + 2] & 3));
		s->payload_len = len;
		memcpy(s->payload, stream[s->dir] + off, len);
		pipeline_feed(p, s, sizeof(*s) + len);
		if (dirflags == 0xff)
			pipeline_tick(p, UINT64_MAX / 2);
	}
	/* a truncated record is refused, not read past */
	pipeline_feed(p, s, sizeof(*s) - 1);
	pipeline_free(p);
	return 0;
}
