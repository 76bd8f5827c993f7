// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The policy service under load: a server process pinned to one CPU,
 * 100 concurrent clients (one connection each, as 100 smtpd processes
 * hold) driven by a load process pinned to another, over TCP on loopback
 * as in the documented `inet:127.0.0.1:10040`. Requests are what Postfix
 * 3.7 sends at RCPT: one session per client port, 1 in 10 a relay
 * attempt, from 4096 client addresses; every one goes through the parser
 * and the policy (scores, sessions, decisions).
 *
 * Two runs of each server: closed loop (each client sends its next request
 * when the answer arrives: the most requests/s one core serves) and open
 * loop at 50,000 requests/s offered (latency counted from when each
 * request was due, so a slow answer delays the ones behind it). The
 * baseline, in the same run, is a server with the same loop that answers
 * DUNNO to every empty line without parsing: the cost of the sockets
 * alone. Targets: >= 50,000 requests/s and p99 <= 1 ms. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "cpupin.h"
#include "policy.h"
#include "policysvc.h"

#define CLIENTS 100
#define N_REQ 4096
#define CLOSED_SECONDS 3.0
#define OPEN_SECONDS 3.0
#define WARMUP_SECONDS 0.5
#define OPEN_RATE 50000.0
#define TARGET_RPS 50000.0
#define TARGET_P99_US 1000.0
#define MAX_SAMPLES (1 << 22)

static char *reqs[N_REQ];
static size_t req_len[N_REQ];
static volatile sig_atomic_t stop;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	(void)cpu_pin(cpu % (n > 0 ? n : 1));
}

static void make_requests(void)
{
	char buf[2048];
	int i, n;

	for (i = 0; i < N_REQ; i++) {
		n = snprintf(buf, sizeof(buf),
			     "request=smtpd_access_policy\nprotocol_state=RCPT\n"
			     "protocol_name=ESMTP\nclient_address=10.%d.%d.%d\n"
			     "client_name=unknown\nclient_port=%d\n"
			     "reverse_client_name=unknown\n"
			     "server_address=10.77.0.1\nserver_port=25\n"
			     "helo_name=mta%d.example.net\nsender=list%d@example.net\n"
			     "recipient=%s%d@%s\nrecipient_count=0\nqueue_id=\n"
			     "instance=%x.67a5e1b2.8c3d1.0\nsize=0\netrn_domain=\n"
			     "stress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
			     "ccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
			     "ccert_pubkey_fingerprint=\n"
			     "encryption_protocol=TLSv1.3\n"
			     "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
			     "encryption_keysize=256\npolicy_context=\n\n",
			     1 + i % 200, (i / 200) % 20, 1 + i % 250,
			     1024 + i, i, i, i % 10 ? "user" : "victim", i,
			     i % 10 ? "example.test" : "gmail.com", i);
		reqs[i] = strdup(buf);
		req_len[i] = n;
	}
}

/* ---- servers ---- */

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void count_decide(void *ctx, const struct decision *d)
{
	(*(unsigned long *)ctx) += d->action == DECISION_BAN;
}

static void serve_policysvc(const char *spec)
{
	static struct rg_conf conf;
	struct policysvc_ops ops = { .decide = count_decide };
	unsigned long bans = 0;
	uint64_t next_tick = 0;
	struct epoll_event ev;
	struct policysvc *s;
	struct policy *p;
	char err[256];
	int ep;

	snprintf(err, sizeof(err),
		 "local_domains = example.test\ntrusted_networks = 10.77.1.0/24\n"
		 "policy_service = %s\npolicy_max_connections = 1000\n", spec);
	if (conf_parse("bench", err, &conf, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		_exit(1);
	}
	p = policy_new(&conf);
	s = policysvc_new(&conf, p, &ops, &bans);
	if (!p || !s || policysvc_listen(s, err, sizeof(err))) {
		fprintf(stderr, "bench_policy: %s\n", err);
		_exit(1);
	}
	/* as in relayguardd: the service's epoll fd inside the loop's */
	ep = epoll_create1(0);
	ev = (struct epoll_event){ .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, policysvc_fd(s), &ev);
	while (!stop) {
		if (epoll_wait(ep, &ev, 1, 100) > 0)
			policysvc_run(s);
		if (boot_ns() >= next_tick) { /* the daemon's 500 ms timer */
			policysvc_tick(s, boot_ns());
			next_tick = boot_ns() + 500 * 1000000ULL;
		}
	}
	_exit(0);
}

/* The same loop shape, no protocol: DUNNO to every empty line. */
static void serve_baseline(const char *spec)
{
	struct epoll_event evs[64], ev;
	char buf[PSVC_REQUEST_MAX];
	struct sockspec a;
	int lfd, ep, n, i, fd, one = 1;
	ssize_t r;

	sockspec_parse(spec, &a);
	lfd = socket(a.u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, &a.u.sa, a.len) || listen(lfd, 512))
		_exit(1);
	ep = epoll_create1(0);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		n = epoll_wait(ep, evs, 64, 100);
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
						     SOCK_NONBLOCK)) >= 0) {
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			r = recv(fd, buf, sizeof(buf), 0);
			if (r <= 0) {
				close(fd);
				continue;
			}
			for (char *p = buf; (p = memmem(p, buf + r - p, "\n\n", 2));
			     p += 2)
				send(fd, "action=DUNNO\n\n", 14, MSG_NOSIGNAL);
		}
	}
	_exit(0);
}

/* ---- the load ---- */

struct client {
	int fd;
	bool busy;
	double due; /* when the outstanding request was due (or sent) */
	unsigned int next;
	char last[2]; /* the last two bytes received */
};

struct result {
	double rps, p50_us, p99_us, max_us;
	unsigned long n, all; /* answers measured, answers in all */
};

/* The machine may be shared: besides wall-clock rates, what the server
 * spent in CPU per answer, which is what one core can serve. */
struct server_cpu {
	double seconds;
	unsigned long answers;
};

static double *samples;
static unsigned long n_samples;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int connect_all(struct client *c, const char *spec, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockspec a;
	int i, tries;

	sockspec_parse(spec, &a);
	for (i = 0; i < CLIENTS; i++) {
		c[i] = (struct client){ .next = i * 41 };
		c[i].fd = socket(a.u.sa.sa_family, SOCK_STREAM, 0);
		for (tries = 0; connect(c[i].fd, &a.u.sa, a.len); tries++) {
			if (tries > 200)
				return -errno;
			usleep(10000);
		}
		ev.data.u32 = i;
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
	}
	return 0;
}

static void send_req(struct client *c, double due)
{
	unsigned int k = c->next++ % N_REQ;

	c->busy = true;
	c->due = due;
	c->last[0] = c->last[1] = 0;
	if (send(c->fd, reqs[k], req_len[k], MSG_NOSIGNAL) != (ssize_t)req_len[k])
		fprintf(stderr, "bench_policy: short send\n");
}

/* Read what c's server sent; true when its answer is complete. */
static bool answer_done(struct client *c)
{
	char buf[512];
	ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (r <= 0)
		return false;
	c->last[0] = r >= 2 ? buf[r - 2] : c->last[1];
	c->last[1] = buf[r - 1];
	return c->last[0] == '\n' && c->last[1] == '\n';
}

/* rate 0: closed loop; else open loop at rate requests/s. */
static void drive(struct client *c, int ep, double rate, double seconds,
		  struct result *res)
{
	double start = now_s(), t, measure_from = start + WARMUP_SECONDS,
	       end = measure_from + seconds, next_due = start, due;
	struct epoll_event evs[CLIENTS];
	unsigned long done = 0;
	int i, n, idle = 0;

	n_samples = 0;
	res->all = 0;
	if (!rate)
		for (i = 0; i < CLIENTS; i++)
			send_req(&c[i], now_s());
	for (;;) {
		t = now_s();
		if (t >= end)
			break;
		if (rate) {
			for (i = 0; i < CLIENTS && next_due <= t; i++) {
				idle = (idle + 1) % CLIENTS;
				if (c[idle].busy)
					continue;
				send_req(&c[idle], next_due);
				next_due += 1.0 / rate;
			}
		}
		n = epoll_wait(ep, evs, CLIENTS, rate ? 0 : 10);
		for (i = 0; i < n; i++) {
			struct client *cl = &c[evs[i].data.u32];

			if (!answer_done(cl))
				continue;
			t = now_s();
			due = cl->due;
			cl->busy = false;
			res->all++;
			if (due >= measure_from) {
				done++;
				if (n_samples < MAX_SAMPLES)
					samples[n_samples++] = (t - due) * 1e6;
			}
			if (!rate)
				send_req(cl, t);
		}
	}
	qsort(samples, n_samples, sizeof(double), cmp_double);
	res->n = done;
	res->rps = done / seconds;
	res->p50_us = n_samples ? samples[n_samples / 2] : 0;
	res->p99_us = n_samples ? samples[n_samples * 99 / 100] : 0;
	res->max_us = n_samples ? samples[n_samples - 1] : 0;
	/* let what is outstanding arrive before the sockets close */
	for (t = now_s() + 0.2; now_s() < t;)
		if (epoll_wait(ep, evs, CLIENTS, 10) > 0)
			for (i = 0; i < CLIENTS; i++)
				answer_done(&c[i]);
	for (i = 0; i < CLIENTS; i++)
		c[i].busy = false;
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* unix: a socket path of this run; else TCP on loopback */
static int run_server(bool baseline, bool unix_socket, struct result *closed,
		      struct result *open, struct server_cpu *cpu)
{
	struct rusage ru;
	struct client c[CLIENTS];
	int ep, i, status;
	char spec[64];
	pid_t pid;

	if (unix_socket)
		snprintf(spec, sizeof(spec), "unix:/tmp/rg-bench-policy-%d",
			 (int)getpid());
	else
		snprintf(spec, sizeof(spec), "inet:127.0.0.1:%d", free_port());
	unlink(spec + 5);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		signal(SIGTERM, on_term);
		pin(0);
		if (baseline)
			serve_baseline(spec);
		serve_policysvc(spec);
	}
	pin(1);
	ep = epoll_create1(0);
	if (connect_all(c, spec, ep)) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		return -ECONNREFUSED;
	}
	drive(c, ep, 0, CLOSED_SECONDS, closed);
	drive(c, ep, OPEN_RATE, OPEN_SECONDS, open);
	for (i = 0; i < CLIENTS; i++)
		close(c[i].fd);
	close(ep);
	kill(pid, SIGTERM);
	if (wait4(pid, &status, 0, &ru) != pid)
		return -ECHILD;
	cpu->seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	cpu->answers = closed->all + open->all;
	unlink(spec + 5);
	return 0;
}

/* Parser and policy alone, no socket: CPU per request. */
static double ns_per_request(void)
{
	static struct rg_conf conf;
	static char buf[PSVC_REQUEST_MAX];
	unsigned long bans = 0, i, n = 400000;
	struct policysvc_ops ops = { .decide = count_decide };
	struct psvc_request r;
	struct policysvc *s;
	struct policy *p;
	const char *why;
	char out[PSVC_ANSWER_MAX], err[256];
	struct timespec a, b;

	conf_parse("bench", "local_domains = example.test\n", &conf, err,
		   sizeof(err));
	p = policy_new(&conf);
	s = policysvc_new(&conf, p, &ops, &bans);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < n; i++) {
		memcpy(buf, reqs[i % N_REQ], req_len[i % N_REQ]);
		if (psvc_parse(buf, req_len[i % N_REQ], &r, &why) > 0)
			policysvc_answer(s, &r, boot_ns(), out, sizeof(out));
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	policysvc_free(s);
	policy_free(p);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

static void row(const char *name, const struct result *r)
{
	printf("%-34s %10.0f %9.0f %9.0f %9.0f\n", name, r->rps, r->p50_us,
	       r->p99_us, r->max_us);
}

static void report(const char *transport, const struct result *bc,
		   const struct result *bo, const struct server_cpu *bcpu,
		   const struct result *pc, const struct result *po,
		   const struct server_cpu *pcpu)
{
	double b_core = bcpu->seconds > 0 ? bcpu->answers / bcpu->seconds : 0;
	double p_core = pcpu->seconds > 0 ? pcpu->answers / pcpu->seconds : 0;

	printf("\n%d clients over %s, server pinned to CPU 0, load to CPU 1\n",
	       CLIENTS, transport);
	printf("%-34s %10s %9s %9s %9s\n", "", "req/s", "p50 us", "p99 us",
	       "max us");
	row("baseline, closed loop", bc);
	row("policysvc, closed loop", pc);
	row("baseline, 50000 req/s offered", bo);
	row("policysvc, 50000 req/s offered", po);
	printf("policysvc / baseline requests/s (closed loop): %.2f\n",
	       bc->rps > 0 ? pc->rps / bc->rps : 0);
	printf("server CPU per answer: baseline %.1f us, policysvc %.1f us: "
	       "%.0f and %.0f answers per CPU-second (ratio %.2f)\n",
	       bcpu->answers ? bcpu->seconds * 1e6 / bcpu->answers : 0,
	       pcpu->answers ? pcpu->seconds * 1e6 / pcpu->answers : 0, b_core,
	       p_core, b_core > 0 ? p_core / b_core : 0);
	printf("targets: >= %.0f req/s: %s (%.0f wall-clock, %.0f per "
	       "CPU-second); p99 <= %.0f us at %.0f req/s: %s (%.0f us)\n",
	       TARGET_RPS, pc->rps >= TARGET_RPS ? "met" : "MISSED", pc->rps,
	       p_core, TARGET_P99_US, OPEN_RATE,
	       po->p99_us <= TARGET_P99_US && po->rps >= 0.95 * OPEN_RATE ?
		       "met" : "MISSED",
	       po->p99_us);
}

int main(void)
{
	struct result bc, bo, pc, po;
	struct server_cpu bcpu, pcpu;
	int u;

	samples = malloc(MAX_SAMPLES * sizeof(double));
	if (!samples)
		return 1;
	make_requests();
	pin(0);
	printf("parser + policy, no socket: %.0f ns CPU per request\n",
	       ns_per_request());
	fflush(stdout);
	for (u = 0; u < 2; u++) {
		if (run_server(true, u, &bc, &bo, &bcpu) ||
		    run_server(false, u, &pc, &po, &pcpu)) {
			fprintf(stderr, "bench_policy: a server did not start\n");
			return 1;
		}
		report(u ? "a unix socket" : "TCP loopback", &bc, &bo, &bcpu,
		       &pc, &po, &pcpu);
		fflush(stdout);
	}
	free(samples);
	return 0;
}
