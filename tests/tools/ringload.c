// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ringload OBJ PIN_DIR DAEMON_PID [PAYLOAD [REPEAT]]: offer sampled records to a
 * running relayguardd at rising rates until its ring buffer overflows.
 * Loads rg_xdp from OBJ (relayguard.bpf.o) on the daemon's pinned maps and
 * runs it through BPF_PROG_TEST_RUN, one call a packet, each packet of its
 * own flow (many sources, fresh sequence space, no handshake: a spoofed
 * flood's records) carrying a MAIL command, or PAYLOAD bytes (up to 1400)
 * if given, paced in 1 ms ticks. REPEAT (default 1) runs each packet that
 * many times in one call (each run a record: the daemon reads them as
 * retransmissions), for rates one call a packet cannot offer. Per step of
 * STEP_S seconds: the offered and written records/s, the records lost to
 * a full ring (sample_ringbuf_full), and the daemon's CPU (utime + stime
 * of DAEMON_PID). Stops after the first step that loses records, or at
 * the producer's own limit (two steps in a row under three quarters of
 * the rate offered).
 * Exit 0, or 1 on errors. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/pkt.h"
#include "relayguard.h"

#define STEP_S 3
#define TICK_NS 1000000L
#define N_SRC 65536 /* sources 10.200.0.0 + i, 16 ports each in turn: 1M
		     * flows, more than `flows` holds, so that evicted
		     * flows come back with a fresh budget */

struct load {
	uint8_t pkt[PKT_MAX]; /* the template: source, port, seq patched */
	int len, payload, repeat;
	int prog, stats;
	uint32_t n; /* packets sent so far: picks the flow and seq */
	long hz;
	int pid;
	int ncpu;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of pid, in clock ticks, or -1. */
static long cpu_ticks(int pid)
{
	unsigned long ut, st;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				"%lu %lu", &ut, &st) != 2)
		return -1;
	return ut + st;
}

static int stat_sum(const struct load *l, __u64 *records, __u64 *full)
{
	struct rg_stats *per = calloc(l->ncpu, sizeof(*per));
	uint32_t zero = 0;
	int i, err;

	if (!per)
		return -ENOMEM;
	err = bpf_map_lookup_elem(l->stats, &zero, per);
	*records = *full = 0;
	for (i = 0; !err && i < l->ncpu; i++) {
		*records += per[i].sample_records;
		*full += per[i].sample_ringbuf_full;
	}
	free(per);
	return err;
}

static const char cmd[] = "MAIL FROM:<load@example.test>\r\n";

/* The template packet (Ethernet, IPv4 without options, TCP). */
static void template(struct load *l, int payload)
{
	struct pkt_spec s = { .flags = TH_ACK | TH_PSH };

	if (payload)
		s.payload_len = payload;
	else
		s.payload = cmd;
	l->payload = payload ? payload : (int)sizeof(cmd) - 1;
	l->len = pkt_build(&s, l->pkt);
}

/* One packet of flow n % (N_SRC * 16), its (n / flows)-th segment: the
 * template with its source, source port and seq set. */
static int send_one(struct load *l)
{
	uint32_t flows = N_SRC * 16, flow = l->n % flows;
	uint32_t src = htonl(0x0ac80000 + flow % N_SRC); /* 10.200.0.0 + */
	uint32_t seq = htonl(1000 + l->n / flows * l->payload);
	/* runs of other sizes use other ports: flows a run before had
	 * the daemon stop are not taken again */
	uint16_t sport = htons(20000 + l->payload % 1000 * 16 + flow / N_SRC);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = l->pkt,
		    .data_size_in = l->len, .repeat = l->repeat);

	memcpy(l->pkt + 14 + 12, &src, 4);
	memcpy(l->pkt + 14 + 20, &sport, 2);
	memcpy(l->pkt + 14 + 20 + 4, &seq, 4);
	l->n++;
	return bpf_prog_test_run_opts(l->prog, &opts);
}

/* Calls due by elapsed seconds at rate records/s, a producer that fell
 * behind catching up at most CATCH_UP ticks' worth at once. */
#define CATCH_UP 10

static long calls_due(const struct load *l, long rate, double elapsed,
		      long done)
{
	long due = (long)(rate * elapsed) / l->repeat;
	long cap = done + CATCH_UP * (rate / 1000 / l->repeat + 1);

	return due < cap ? due : cap;
}

/* Offer rate records/s for STEP_S seconds; prints the step's line.
 * Returns 1 if records were lost, 2 if the producer could not offer
 * three quarters of the rate, 0 if neither, negative on errors. */
static int step(struct load *l, long rate)
{
	__u64 r0, r1, f0, f1;
	long c0, c1, calls = 0, due;
	struct timespec next;
	double t0, secs;
	int err;

	err = stat_sum(l, &r0, &f0);
	c0 = cpu_ticks(l->pid);
	if (err || c0 < 0)
		return err ? err : -ESRCH;
	t0 = mono_s();
	clock_gettime(CLOCK_MONOTONIC, &next);
	while ((secs = mono_s() - t0) < STEP_S) {
		for (due = calls_due(l, rate, secs, calls); calls < due; calls++) {
			err = send_one(l);
			if (err)
				return err;
		}
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	secs = mono_s() - t0;
	err = stat_sum(l, &r1, &f1);
	c1 = cpu_ticks(l->pid);
	if (err || c1 < 0)
		return err ? err : -ESRCH;
	printf("%10ld %12.0f %12.0f %10llu %9.0f%%\n", rate,
	       calls * l->repeat / secs, (r1 - r0) / secs,
	       (unsigned long long)(f1 - f0),
	       100.0 * (c1 - c0) / l->hz / secs);
	fflush(stdout);
	if (f1 > f0)
		return 1;
	return calls * l->repeat / secs < 0.75 * rate ? 2 : 0;
}

/* A number of 1 to max, whole string; 0 if it is not one. */
static unsigned long number(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	return errno || end == s || *end || v > max ? 0 : v;
}

static int open_prog(const char *path, const char *pin, struct load *l,
		     struct bpf_object **objp)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = pin);
	struct bpf_object *obj = bpf_object__open_file(path, &o);
	struct bpf_program *p;
	int err;

	*objp = obj;
	if (!obj)
		return -errno;
	err = bpf_object__load(obj);
	if (err)
		return err;
	p = bpf_object__find_program_by_name(obj, "rg_xdp");
	l->prog = p ? bpf_program__fd(p) : -ENOENT;
	l->stats = bpf_map__fd(bpf_object__find_map_by_name(obj, "stats"));
	return l->prog < 0 ? l->prog : 0;
}

int main(int argc, char **argv)
{
	static const long rates[] = { 10000,  20000,  40000,   60000,
				      80000,  100000, 120000,  160000,
				      200000, 250000, 300000,  400000,
				      600000, 800000, 1000000, 1500000 };
	static struct load l;
	struct bpf_object *obj = NULL;
	unsigned long payload;
	int short_steps;
	size_t i;
	int err = 0;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: ringload OBJ PIN_DIR DAEMON_PID "
				"[PAYLOAD [REPEAT]]\n");
		return 1;
	}
	l.pid = number(argv[3], 4194304);
	payload = argc >= 5 ? number(argv[4], 1400) : 0;
	l.repeat = argc == 6 ? number(argv[5], 1000) : 1;
	if (!l.pid || (argc >= 5 && !payload) || !l.repeat) {
		fprintf(stderr, "ringload: bad DAEMON_PID, PAYLOAD (1-1400) or "
				"REPEAT (1-1000)\n");
		return 1;
	}
	template(&l, payload);
	l.hz = sysconf(_SC_CLK_TCK);
	l.ncpu = libbpf_num_possible_cpus();
	err = open_prog(argv[1], argv[2], &l, &obj);
	if (err) {
		fprintf(stderr, "ringload: cannot load %s on %s: %s\n", argv[1],
			argv[2], strerror(-err));
		goto out;
	}
	printf("records of %d payload bytes, %d a packet\n", l.payload,
	       l.repeat);
	printf("%10s %12s %12s %10s %10s\n", "offered/s", "sent/s",
	       "written/s", "lost", "daemon CPU");
	for (i = 0, short_steps = 0; i < sizeof(rates) / sizeof(rates[0]);
	     i++) {
		err = step(&l, rates[i]);
		if (err == 2 && ++short_steps < 2)
			continue;
		if (err == 2)
			printf("(the producer's limit: two steps short)\n");
		if (err)
			break;
		short_steps = 0;
	}
	if (err < 0)
		fprintf(stderr, "ringload: %s\n", strerror(-err));
out:
	bpf_object__close(obj);
	return err < 0 ? 1 : 0;
}
