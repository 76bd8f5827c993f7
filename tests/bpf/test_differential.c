// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One truth for the data plane's sampling: the same frames go through
 * rg_xdp/rg_tc_egress (BPF_PROG_TEST_RUN) and through replay's model of
 * them (user/dpmodel.c), with the same pauses, resumes and stops the
 * daemon would write, and the two must write identical sample records
 * (everything but the clock and the interface). Scripted sessions cover
 * each rule; seeded random sessions (segmentation, retransmissions,
 * reordering, bodies, forged RST/SYN, bans, port reuse) cover their mixes.
 * Needs root: exit 77 otherwise. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pcap/dlt.h>

#include "bpf/pkt.h"
#include "config.h"
#include "dpmodel.h"
#include "flowmap.h"
#include "relayguard.h"
#include "relayguard.skel.h"

#define MAX_RECS 4096
#define SEED 0x5eed1234U
#define CLIENT "192.0.2.10"
#define SERVER "198.51.100.1"

struct rec {
	struct rg_sample hdr;
	uint8_t payload[RG_SAMPLE_PAYLOAD_MAX];
};

struct recs {
	struct rec r[MAX_RECS];
	int n;
};

static struct {
	struct relayguard_bpf *skel;
	struct ring_buffer *rb;
	struct dpmodel *model;
	struct rg_conf conf;
	struct recs kernel, model_recs;
	uint16_t cport; /* the client's port of the session under way */
	int step; /* for messages */
} dx;

static uint32_t seed; /* of the random session under way (0: scripted) */

static void keep(struct recs *to, const void *data, size_t len)
{
	const struct rg_sample *s = data;

	assert_true(len >= sizeof(*s) + s->payload_len);
	assert_true(to->n < MAX_RECS);
	memcpy(&to->r[to->n++], data, sizeof(*s) + s->payload_len);
}

static int on_kernel_record(void *ctx, void *data, size_t len)
{
	(void)ctx;
	keep(&dx.kernel, data, len);
	return 0;
}

static void on_model_record(void *ctx, const struct rg_sample *s, size_t len)
{
	(void)ctx;
	keep(&dx.model_recs, s, len);
}

/* A fresh data plane and model with this sampling budget. */
static void start(uint32_t sample_bytes)
{
	struct bpf_map *m;
	uint32_t zero = 0;

	memset(&dx, 0, sizeof(dx));
	dx.skel = relayguard_bpf__open();
	assert_non_null(dx.skel);
	bpf_object__for_each_map(m, dx.skel->obj)
		bpf_map__set_pin_path(m, NULL);
	assert_int_equal(relayguard_bpf__load(dx.skel), 0);
	dx.rb = ring_buffer__new(bpf_map__fd(dx.skel->maps.samples),
				 on_kernel_record, NULL, NULL);
	assert_non_null(dx.rb);
	conf_defaults(&dx.conf);
	dx.conf.dp.sample_bytes = sample_bytes;
	dx.conf.dp.hash_seed = SEED;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(dx.skel->maps.config),
					     &zero, &dx.conf.dp, BPF_ANY), 0);
	dx.model = dpmodel_new(&dx.conf, on_model_record, NULL);
	assert_non_null(dx.model);
	dx.cport = 40000;
}

static void finish(void)
{
	dpmodel_free(dx.model);
	ring_buffer__free(dx.rb);
	relayguard_bpf__destroy(dx.skel);
}

static struct rg_flow_key session_key(void)
{
	struct rg_flow_key k = { .family = AF_INET };

	inet_pton(AF_INET, CLIENT, k.client);
	inet_pton(AF_INET, SERVER, k.server);
	k.client_port = htons(dx.cport);
	k.server_port = htons(25);
	return k;
}

/* The records written so far must be the same, but for clock and
 * interface. */
static void compare(void)
{
	const struct rec *a, *b;
	int i;

	ring_buffer__consume(dx.rb);
	if (dx.kernel.n != dx.model_recs.n)
		fail_msg("seed %u step %d: the data plane wrote %d records, the model %d",
			 seed, dx.step, dx.kernel.n, dx.model_recs.n);
	for (i = 0; i < dx.kernel.n; i++) {
		a = &dx.kernel.r[i];
		b = &dx.model_recs.r[i];
		if (memcmp(&a->hdr.flow, &b->hdr.flow, sizeof(a->hdr.flow)) ||
		    a->hdr.seq != b->hdr.seq || a->hdr.ack != b->hdr.ack ||
		    a->hdr.payload_len != b->hdr.payload_len ||
		    a->hdr.dir != b->hdr.dir ||
		    a->hdr.tcp_flags != b->hdr.tcp_flags ||
		    memcmp(a->payload, b->payload, a->hdr.payload_len))
			fail_msg("seed %u step %d: record %d differs: data plane seq %u "
				 "len %u dir %u flags 0x%x, model seq %u len %u "
				 "dir %u flags 0x%x", seed, dx.step, i,
				 ntohl(a->hdr.seq), a->hdr.payload_len,
				 a->hdr.dir, a->hdr.tcp_flags, ntohl(b->hdr.seq),
				 b->hdr.payload_len, b->hdr.dir,
				 b->hdr.tcp_flags);
	}
}

/* One segment of the session, client -> server (in) or back. */
static void segment(int in, uint8_t flags, uint32_t seq, uint32_t ack,
		    int len, char fill)
{
	char payload[PKT_MAX / 2];
	struct pkt_spec s = {
		.src = in ? CLIENT : SERVER,
		.dst = in ? SERVER : CLIENT,
		.sport = in ? dx.cport : 25,
		.dport = in ? 25 : dx.cport,
		.flags = flags,
		.seq = seq,
		.ack = ack,
	};
	uint8_t buf[PKT_MAX];
	int n, fd;

	assert_true(len < (int)sizeof(payload));
	memset(payload, fill, len);
	payload[len] = '\0';
	if (len)
		s.payload = payload;
	n = pkt_build(&s, buf);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = n,
		    .repeat = 1);
	fd = bpf_program__fd(in ? dx.skel->progs.rg_xdp :
				  dx.skel->progs.rg_tc_egress);
	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	dpmodel_frame(dx.model, DLT_EN10MB, buf, n, 1000000000ULL + dx.step);
	dx.step++;
	compare();
}

/* What the daemon writes to `flows` (pause, resume at seq, stop, stop
 * the banned client's side), done to both. */
enum write { PAUSE, RESUME, STOP, STOP_CLIENT };

static void daemon_write(enum write w, uint32_t seq)
{
	struct rg_flow_key k = session_key();
	int fd = bpf_map__fd(dx.skel->maps.flows);

	switch (w) {
	case PAUSE:
		flowmap_pause_client(fd, SEED, &k);
		dpmodel_pause_client(dx.model, &k);
		break;
	case RESUME:
		flowmap_resume_client(fd, SEED, &k, seq);
		dpmodel_resume_client(dx.model, &k, seq);
		break;
	case STOP:
		flowmap_stop(fd, SEED, &k);
		dpmodel_stop(dx.model, &k);
		break;
	case STOP_CLIENT:
		flowmap_stop_client(fd, SEED, &k);
		dpmodel_stop_client(dx.model, &k);
		break;
	}
}

/* ---- scripted sessions: one rule each ---- */

#define C 1000U /* the client's ISN */
#define S 5000U /* the server's ISN */

/* A step of a scripted session: a segment, client -> server (IN) or back
 * (OUT), of len bytes of fill; or a write of the daemon's (seq: where
 * RESUME resumes). */
struct step {
	enum { STEP_END, STEP_IN, STEP_OUT, STEP_WRITE } kind;
	enum write write;
	uint8_t flags;
	uint32_t seq, ack;
	int len;
	char fill;
};

#define IN(f, s, a, l, c)                                                  \
	{ .kind = STEP_IN, .flags = (f), .seq = (s), .ack = (a), .len = (l), \
	  .fill = (c) }
#define OUT(f, s, a, l, c)                                                  \
	{ .kind = STEP_OUT, .flags = (f), .seq = (s), .ack = (a), .len = (l), \
	  .fill = (c) }
#define WRITE(w, s) { .kind = STEP_WRITE, .write = (w), .seq = (s) }
#define HANDSHAKE                                                         \
	IN(TH_SYN, C, 0, 0, 0), OUT(TH_SYN | TH_ACK, S, C + 1, 0, 0),     \
		IN(TH_ACK, C + 1, S + 1, 0, 0)
#define MAX_SCRIPT_STEPS 20

static const struct script {
	const char *name;
	uint32_t budget; /* sample_bytes */
	struct step steps[MAX_SCRIPT_STEPS];
} scripts[] = {
	/* Commands within and past the window; a reply; retransmissions of
	 * bytes the server acknowledged; a segment filling a hole; reverse
	 * order. */
	{ "window and retransmissions", 64,
	  { HANDSHAKE,
	    OUT(TH_ACK, S + 1, C + 1, 30, 'g'), /* greeting */
	    IN(TH_ACK, C + 1, S + 31, 20, 'e'),
	    OUT(TH_ACK, S + 31, C + 21, 0, 0),
	    /* acknowledged: free, not sampled */
	    IN(TH_ACK, C + 1, S + 31, 20, 'e'),
	    IN(TH_ACK, C + 1, S + 31, 20, 'e'),
	    IN(TH_ACK, C + 1, S + 31, 20, 'e'),
	    IN(TH_ACK, C + 1, S + 31, 20, 'e'),
	    IN(TH_ACK, C + 1, S + 31, 20, 'e'),
	    IN(TH_ACK, C + 41, S + 31, 20, 'b'), /* a hole before it */
	    IN(TH_ACK, C + 21, S + 31, 20, 'a'), /* fills it */
	    IN(TH_ACK, C + 61, S + 31, 40, 'c'), /* crosses the end */
	    IN(TH_ACK, C + 101, S + 31, 10, 'd'), /* past the window */
	    OUT(TH_ACK, S + 31, C + 111, 10, 'r') } },
	/* A body: paused, the reply sampled, resumed at its ack with a fresh
	 * window; the handshake-style ACK after the resume. */
	{ "pause and resume", 64,
	  { HANDSHAKE,
	    IN(TH_ACK, C + 1, S + 1, 60, 'm'),
	    OUT(TH_ACK, S + 1, C + 61, 14, '3'),
	    WRITE(PAUSE, 0),
	    IN(TH_ACK, C + 61, S + 15, 500, 'x'),
	    IN(TH_ACK, C + 561, S + 15, 5, '.'),
	    OUT(TH_ACK, S + 15, C + 566, 20, '2'),
	    WRITE(RESUME, C + 566),
	    IN(TH_ACK, C + 566, S + 35, 0, 0),
	    IN(TH_ACK, C + 566, S + 35, 30, 'n'),
	    IN(TH_ACK, C + 596, S + 35, 50, 'o') } },
	/* Forged client RST and SYN on a live session change nothing; a stop
	 * ends both directions; the server's SYN-ACK of a new connection on
	 * the same ports starts afresh. */
	{ "forged stop and reuse", 4096,
	  { HANDSHAKE,
	    IN(TH_ACK, C + 1, S + 1, 10, 'a'),
	    IN(TH_RST, C + 99999, 0, 0, 0),
	    IN(TH_SYN, C + 7, 0, 0, 0),
	    IN(TH_ACK, C + 11, S + 1, 10, 'b'),
	    OUT(TH_ACK, S + 1, C + 21, 10, 'r'),
	    WRITE(STOP, 0),
	    IN(TH_ACK, C + 21, S + 11, 10, 'c'),
	    OUT(TH_ACK, S + 11, C + 31, 10, 's'),
	    IN(TH_FIN | TH_ACK, C + 31, S + 21, 0, 0),
	    OUT(TH_FIN | TH_ACK, S + 21, C + 32, 0, 0),
	    IN(TH_SYN, C + 9000, 0, 0, 0),
	    OUT(TH_SYN | TH_ACK, S + 9000, C + 9001, 0, 0),
	    IN(TH_ACK, C + 9001, S + 9001, 0, 0),
	    IN(TH_ACK, C + 9001, S + 9001, 10, 'd') } },
	/* A banned client: its payload no longer sampled, the server's
	 * replies and both FINs still; neither a reply nor a resume lets the
	 * client back in; a later stop ends the server's side too. */
	{ "client stopped", 4096,
	  { HANDSHAKE,
	    IN(TH_ACK, C + 1, S + 1, 40, 'm'),
	    WRITE(STOP_CLIENT, 0),
	    IN(TH_ACK, C + 41, S + 1, 30, 'b'),
	    OUT(TH_ACK, S + 1, C + 71, 50, 'r'),
	    WRITE(RESUME, C + 71),
	    IN(TH_ACK, C + 71, S + 51, 20, 'c'),
	    OUT(TH_ACK, S + 51, C + 91, 14, 's'),
	    IN(TH_FIN | TH_ACK, C + 91, S + 65, 0, 0),
	    WRITE(STOP, 0),
	    OUT(TH_FIN | TH_ACK, S + 65, C + 92, 10, 'q') } },
};

#define N_SCRIPTS (sizeof(scripts) / sizeof(scripts[0]))

/* The script that is the state, step by step, through both. */
static void run_script(void **state)
{
	const struct script *sc = *state;
	const struct step *st;

	start(sc->budget);
	for (st = sc->steps; st < sc->steps + MAX_SCRIPT_STEPS; st++) {
		if (st->kind == STEP_END)
			break;
		if (st->kind == STEP_WRITE)
			daemon_write(st->write, st->seq);
		else
			segment(st->kind == STEP_IN, st->flags, st->seq,
				st->ack, st->len, st->fill);
	}
	finish();
}

/* ---- random sessions ---- */

static uint32_t rnd_state;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245U + 12345U;
	return (rnd_state >> 8) % n;
}

struct sess {
	uint32_t c, s; /* next client and server seq */
};

/* A client write of len bytes in 1-3 segments, in order or not, perhaps
 * with a retransmission; the server acknowledges it with a reply or a
 * pure ACK. */
static void exchange(struct sess *x, int len, char fill)
{
	int parts = 1 + rnd(3), cut[4] = { 0 }, i, j, o;

	for (i = 1; i < parts; i++)
		cut[i] = rnd(len);
	cut[parts] = len;
	for (i = 1; i < parts; i++) /* sort the cuts */
		for (j = i; j > 0 && cut[j] < cut[j - 1]; j--) {
			o = cut[j];
			cut[j] = cut[j - 1];
			cut[j - 1] = o;
		}
	for (i = 0; i < parts; i++) {
		j = rnd(4) ? i : parts - 1 - i; /* sometimes reversed */
		if (cut[j + 1] > cut[j])
			segment(1, TH_ACK, x->c + cut[j], x->s,
				cut[j + 1] - cut[j], fill);
	}
	if (!rnd(4))
		segment(1, TH_ACK, x->c, x->s, len, fill);
	x->c += len;
	if (rnd(3)) {
		o = 5 + rnd(200);
		segment(0, TH_ACK, x->s, x->c, o, 'R');
		x->s += o;
	} else {
		segment(0, TH_ACK, x->s, x->c, 0, 0);
	}
	if (!rnd(5)) /* a retransmission the server already holds */
		segment(1, TH_ACK, x->c - len, x->s, len, fill);
}

static void random_session(void)
{
	struct sess x = { .c = rnd(1U << 31), .s = rnd(1U << 31) };
	int i, n = 3 + rnd(12), body;

	segment(1, TH_SYN, x.c, 0, 0, 0);
	segment(0, TH_SYN | TH_ACK, x.s, x.c + 1, 0, 0);
	x.c++;
	x.s++;
	segment(1, TH_ACK, x.c, x.s, 0, 0);
	for (i = 0; i < n; i++) {
		exchange(&x, 1 + rnd(300), 'a' + i % 26);
		if (!rnd(6)) { /* a message body */
			daemon_write(PAUSE, 0);
			for (body = 1 + rnd(4); body > 0; body--)
				exchange(&x, 1 + rnd(1400), 'B');
			daemon_write(RESUME, x.c);
		}
		if (!rnd(10))
			segment(1, TH_RST, x.c + rnd(100000), 0, 0, 0);
		if (!rnd(10))
			segment(1, TH_SYN, x.c - 1, 0, 0, 0);
		if (!rnd(12)) /* a ban: the client's side stops */
			daemon_write(STOP_CLIENT, 0);
	}
	if (rnd(2))
		daemon_write(STOP, 0);
	exchange(&x, 1 + rnd(50), 'q');
	segment(1, TH_FIN | TH_ACK, x.c, x.s, 0, 0);
	segment(0, TH_FIN | TH_ACK, x.s, x.c + 1, 0, 0);
}

static void test_random_sessions(void **state)
{
	static const uint32_t budgets[] = { 64, 300, 4096 };
	int i;

	(void)state;
	for (seed = 1; seed <= 60; seed++) {
		rnd_state = seed;
		start(budgets[seed % 3]);
		for (i = 0; i < 4; i++) {
			random_session();
			dx.cport++;
		}
		finish();
	}
	seed = 0;
}

int main(void)
{
	static struct CMUnitTest tests[N_SCRIPTS + 1];
	size_t i;

	if (geteuid()) {
		fprintf(stderr, "test_differential needs root (BPF)\n");
		return 77;
	}
	for (i = 0; i < N_SCRIPTS; i++) {
		tests[i].name = scripts[i].name;
		tests[i].test_func = run_script;
		tests[i].initial_state = (void *)&scripts[i];
	}
	tests[i] = (struct CMUnitTest)cmocka_unit_test(test_random_sessions);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
