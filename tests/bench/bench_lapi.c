// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A CrowdSec startup stream of 100,000 decisions into the ban maps: the
 * answer (as crowdsec 1.4.6 writes it, ~14 MB) parsed by cs_lapi.c, applied
 * by cs_decisions.c and reconciled, in the daemon's slices (cs_apply.h), as
 * relayguardd does with a startup pull; against the baseline of the same
 * 100,000 bans written by banstore_put_batch, the map writes of
 * `relayguardctl ban import`. Each runs in a child of its own on fresh
 * maps of the daemon's sizes, so that its peak RSS is its own. The slices
 * run at the daemon's default priority (SCHED_FIFO 10, as the parse's
 * thread does not): their lengths are what a sample may wait in the ring
 * meanwhile. Needs root. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "bans.h"
#include "clock.h"
#include "config.h"
#include "cs_apply.h"
#include "cs_lapi.h"
#include "priority.h"
#include "testmaps.h"

#define DECISIONS 100000
#define TARGET_S  3.0

static struct rg_maps maps;

static double now_s(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1e9;
}

/* CPU seconds of this process: steadier than the wall clock on a machine
 * others share. */
static double cpu_s(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID) / 1e9;
}

/* What a child measured: wall and CPU seconds, the parse's and the
 * slices' CPU, and the slices (count, p50, p99, longest in ms). */
struct result {
	double wall, cpu, parse, apply;
	double slices, slice_p50, slice_p99, slice_max;
};

static int make_maps(void)
{
	return testmaps_create(&maps, RG_MAX_BANS4, RG_MAX_BANS6, RG_MAX_ACL4);
}

static unsigned int addr_of(unsigned int i)
{
	return (11U << 24) + i * 7 + 1; /* 11.0.0.1, 11.0.0.8, ... */
}

/* The startup answer crowdsec writes, with the fields it writes. */
static char *stream_body(size_t *len)
{
	static const char *const origins[] = {"CAPI", "lists", "crowdsec",
					      "cscli"};
	size_t cap = (size_t)DECISIONS * 220 + 64, n = 0;
	char *b = malloc(cap);
	unsigned int i, a;

	if (!b)
		return NULL;
	n += snprintf(b + n, cap - n, "{\"deleted\":null,\"new\":[");
	for (i = 0; i < DECISIONS; i++) {
		a = addr_of(i);
		n += snprintf(b + n, cap - n,
			      "%s{\"duration\":\"%uh%um58.820412s\",\"id\":%u,"
			      "\"origin\":\"%s\",\"scenario\":"
			      "\"crowdsecurity/ssh-bf\",\"scope\":\"Ip\","
			      "\"type\":\"ban\",\"value\":\"%u.%u.%u.%u\"}",
			      i ? "," : "", 1 + i % 160, i % 60, i + 1,
			      origins[i % 4], a >> 24, (a >> 16) & 255,
			      (a >> 8) & 255, a & 255);
	}
	n += snprintf(b + n, cap - n, "]}");
	*len = n;
	return b;
}

static void on_done(void *ctx, const struct csapply_result *r)
{
	*(struct csapply_result *)ctx = *r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Slices until the queue is empty (waiting for the parse in between);
 * their lengths (ns) into *len, *n. */
static int run_slices(struct csapply *a, uint64_t **len, size_t *n)
{
	struct pollfd p = {.fd = csapply_fd(a), .events = POLLIN};
	size_t cap = 0;
	uint64_t t0;
	bool more;

	*len = NULL;
	*n = 0;
	while (csapply_pending(a)) {
		if (array_room(*len, cap, *n, 4096))
			return -ENOMEM;
		t0 = boot_ns();
		more = csapply_slice(a, CSAPPLY_UNITS, CSAPPLY_SLICE_NS);
		(*len)[(*n)++] = boot_ns() - t0;
		if (!more && csapply_pending(a) && poll(&p, 1, -1) < 0)
			return -errno;
	}
	qsort(*len, *n, sizeof(**len), cmp_u64);
	return 0;
}

static int run_stream(struct result *r)
{
	struct csapply_answer ans = {.whole = true};
	struct csapply_result res = {.rc = -EINPROGRESS};
	struct priority fifo = PRIORITY_DEFAULT;
	struct csdec_stats st = {0};
	struct rg_conf conf;
	struct csapply *a;
	struct bans *bans;
	uint64_t *len;
	uint64_t tc0;
	size_t n;
	double t0, c0;

	conf_defaults(&conf);
	bans = bans_new(&maps);
	ans.body = stream_body(&ans.len);
	a = csapply_new(bans, &conf, NULL, &st, on_done, &res);
	if (!ans.body || !bans || !a)
		return -ENOMEM;
	if (priority_apply(&fifo))
		fprintf(stderr, "bench_lapi: slices at normal priority\n");
	t0 = now_s();
	c0 = cpu_s();
	tc0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	ans.received_ns = boot_ns();
	if (csapply_submit(a, &ans) || run_slices(a, &len, &n))
		return -ENOMEM;
	r->wall = now_s() - t0;
	r->cpu = cpu_s() - c0;
	r->apply = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - tc0) / 1e9;
	if (res.rc || st.applied != DECISIONS) {
		fprintf(stderr, "rc %d (%s), applied %llu of %d\n", res.rc,
			res.err, (unsigned long long)st.applied, DECISIONS);
		return -EIO;
	}
	r->parse = res.parse_ns / 1e9;
	r->slices = n;
	r->slice_p50 = len[(n - 1) / 2] / 1e6;
	r->slice_p99 = len[(n - 1) * 99 / 100] / 1e6;
	r->slice_max = len[n - 1] / 1e6;
	free(len);
	csapply_free(a);
	bans_free(bans);
	return 0;
}

/* The baseline of the slices: the same set in one piece on the loop's
 * thread (parse, apply, reconcile, the tree given back), as relayguardd
 * did before: how long a sample waited then. */
static int run_one_piece(struct result *r)
{
	struct priority fifo = PRIORITY_DEFAULT;
	struct csdec_stats st = {0};
	struct csdec_job *job;
	struct lapi_stream s;
	struct rg_conf conf;
	struct bans *bans;
	char err[256];
	size_t len;
	char *body = stream_body(&len);
	double t0;

	conf_defaults(&conf);
	bans = bans_new(&maps);
	if (!body || !bans)
		return -ENOMEM;
	priority_apply(&fifo);
	t0 = now_s();
	if (lapi_parse_stream(body, len, &s, err, sizeof(err)))
		return -EBADMSG;
	job = csdec_job_new(bans, &conf, NULL, &s, boot_ns(), true);
	while (job && !csdec_job_step(job, SIZE_MAX, &st))
		;
	csdec_job_free(job);
	lapi_stream_free(&s);
	malloc_trim(0);
	r->wall = now_s() - t0;
	free(body);
	bans_free(bans);
	return st.applied == DECISIONS ? 0 : -EIO;
}

static int run_batch(struct result *r)
{
	struct ban_entry *v = calloc(DECISIONS, sizeof(*v));
	uint64_t now = boot_ns();
	unsigned int i, a;
	double t0, c0;
	int rc;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < DECISIONS; i++) {
		a = htonl(addr_of(i));
		v[i].source.family = AF_INET;
		v[i].source.len = 32;
		memcpy(v[i].source.addr, &a, 4);
		v[i].ban.created_ns = now;
		v[i].ban.expires_ns = now + 3600 * NSEC_PER_SEC;
		v[i].ban.reason = RG_REASON_IMPORTED;
	}
	t0 = now_s();
	c0 = cpu_s();
	rc = banstore_put_batch(&maps, v, DECISIONS);
	r->wall = now_s() - t0;
	r->cpu = cpu_s() - c0;
	free(v);
	return rc;
}

/* Run fn in a child on fresh maps; what it measured and its peak RSS. */
static int in_child(int (*fn)(struct result *), struct result *res,
		    double *rss_mb)
{
	struct rusage ru;
	int p[2], status;
	pid_t pid;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		struct result r = {0};

		if (make_maps() || fn(&r))
			_exit(1);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], res, sizeof(*res)) != sizeof(*res))
		res->wall = -1;
	close(p[0]);
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || res->wall < 0)
		return -EIO;
	*rss_mb = ru.ru_maxrss / 1024.0;
	return 0;
}

int main(void)
{
	struct result b, st, one;
	double rss_b, rss_st, rss_one;

	if (getuid()) {
		printf("SKIP: needs root for BPF maps\n");
		return 0;
	}
	if (in_child(run_batch, &b, &rss_b) ||
	    in_child(run_stream, &st, &rss_st) ||
	    in_child(run_one_piece, &one, &rss_one)) {
		fprintf(stderr, "bench_lapi: a run failed\n");
		return 1;
	}
	printf("%-46s %8s %8s %9s %7s\n", "100,000 bans into bans4", "wall s",
	       "CPU s", "peak RSS", "ratio");
	printf("%-46s %8.3f %8.3f %6.0f MB %7s\n",
	       "baseline: banstore_put_batch (ctl ban import)", b.wall, b.cpu,
	       rss_b, "1.00");
	printf("%-46s %8.3f %8.3f %6.0f MB %7.2f\n",
	       "LAPI startup stream: parse + apply + reconcile", st.wall,
	       st.cpu, rss_st, st.wall / b.wall);
	printf("  CPU: parse %.3f s (a thread of its own), apply + reconcile "
	       "%.3f s\n  in %.0f slices of %.0f sources up to %.1f ms:",
	       st.parse, st.apply, st.slices, (double)CSAPPLY_UNITS,
	       CSAPPLY_SLICE_NS / 1e6);
	printf(" p50 %.2f ms, p99 %.2f ms, longest %.2f ms (what a sample "
	       "may wait in the ring)\n",
	       st.slice_p50, st.slice_p99, st.slice_max);
	printf("  baseline, the set in one piece on the loop (as before): "
	       "%.1f ms; longest slice / that: %.4f\n",
	       one.wall * 1e3, st.slice_max / (one.wall * 1e3));
	printf("target <= %.0f s: %s\n", TARGET_S,
	       st.wall <= TARGET_S ? "met" : "MISSED");
	return 0;
}
