// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A CrowdSec startup stream of 100,000 decisions into the ban maps: the
 * answer (as crowdsec 1.4.6 writes it, ~18 MB) parsed by lapi.c, applied
 * by csdecisions.c and reconciled, as relayguardd does with a startup pull;
 * against the baseline of the same 100,000 bans written by
 * banstore_put_batch, the map writes of `relayguardctl ban import`. Each
 * runs in a child of its own on fresh maps of the daemon's sizes, so that
 * its peak RSS is its own. Needs root. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"
#include "clock.h"
#include "config.h"
#include "csdecisions.h"
#include "lapi.h"
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

/* What a child measured: wall and CPU seconds, and per phase (wall). */
struct result {
	double wall, cpu, phase[3];
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

static int run_stream(struct result *r)
{
	struct csdec_stats st = {0};
	struct lapi_stream s;
	struct rg_conf conf;
	struct bans *bans;
	char err[256];
	size_t len;
	char *body = stream_body(&len);
	double t0, c0, t1, t2;
	uint64_t now;
	int rc;

	conf_defaults(&conf);
	bans = bans_new(&maps);
	if (!body || !bans)
		return -ENOMEM;
	t0 = now_s();
	c0 = cpu_s();
	rc = lapi_parse_stream(body, len, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "parse: %s\n", err);
		return rc;
	}
	t1 = now_s();
	now = boot_ns();
	csdec_apply(bans, &conf, NULL, &s, now, &st);
	t2 = now_s();
	csdec_reconcile(&maps, now, NULL);
	r->wall = now_s() - t0;
	r->cpu = cpu_s() - c0;
	r->phase[0] = t1 - t0;
	r->phase[1] = t2 - t1;
	r->phase[2] = r->wall - (t2 - t0);
	lapi_stream_free(&s);
	if (st.applied != DECISIONS) {
		fprintf(stderr, "applied %llu of %d\n",
			(unsigned long long)st.applied, DECISIONS);
		return -EIO;
	}
	free(body);
	bans_free(bans);
	return 0;
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
	struct result b, st;
	double rss_b, rss_st;

	if (getuid()) {
		printf("SKIP: needs root for BPF maps\n");
		return 0;
	}
	if (in_child(run_batch, &b, &rss_b) ||
	    in_child(run_stream, &st, &rss_st)) {
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
	printf("  phases (wall s): parse %.3f, apply %.3f, reconcile %.3f\n",
	       st.phase[0], st.phase[1], st.phase[2]);
	printf("target <= %.0f s: %s\n", TARGET_S,
	       st.wall <= TARGET_S ? "met" : "MISSED");
	return 0;
}
