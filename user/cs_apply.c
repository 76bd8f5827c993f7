// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A ring of answers; the head one goes through two stages. Its JSON is
 * parsed by a thread of its own (lapi_parser, in steps so that it can be
 * called off; a small answer is parsed on the loop at once), which frees
 * the body and tells the loop through an eventfd: json-c's tree of a whole set
 * is ~150 MB of small blocks that glibc only gives back through malloc_trim,
 * ~0.1 s in one piece, which that thread takes on itself. The thread is
 * detached: the loop never waits for a batch-priority thread to be scheduled.
 * Then the decisions are applied in the caller's slices (csdec_job): map writes
 * stay on the loop's thread, in order with its own bans. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "cs_apply.h"

/* Parser steps between two looks at the cancel flag (~2 ms). */
#define PARSE_UNITS 512
/* Answers up to this size (~100 decisions, ~0.5 ms; deltas, mostly
 * empty) are parsed on the loop at once: no thread a second. */
#define INLINE_BYTES (16 * 1024)

/* The parsing thread's own: nothing here is touched by the loop's thread
 * between pthread_create and the eventfd saying it is through. */
struct parse {
	char *body; /* taken over, freed once parsed */
	size_t len;
	int efd;
	atomic_bool cancel;
	int rc;
	char err[256];
	struct lapi_stream s;
	uint64_t cpu_ns;
};

struct csapply {
	struct bans *bans;
	const struct rg_conf *conf;
	struct csdeny *deny;
	struct csdec_stats *st;
	csapply_done_fn done;
	void *ctx;
	int efd; /* the parsing thread is through */

	struct csapply_answer q[CSAPPLY_QUEUE];
	size_t head, n;

	/* the head answer, once begun */
	bool begun, parsing;
	struct parse parse;
	struct csdec_job *job;
	struct csapply_result res;
	uint64_t res_slice; /* the last slice res.slices counted */

	struct csapply_stats stats;
};

struct csapply *csapply_new(struct bans *b, const struct rg_conf *conf,
			    struct csdeny *deny, struct csdec_stats *st,
			    csapply_done_fn done, void *ctx)
{
	struct csapply *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		free(a);
		return NULL;
	}
	a->bans = b;
	a->conf = conf;
	a->deny = deny;
	a->st = st;
	a->done = done;
	a->ctx = ctx;
	return a;
}

int csapply_fd(const struct csapply *a)
{
	return a->efd;
}

static void *parse_main(void *arg)
{
	struct sched_param sp = { 0 };
	struct parse *p = arg;
	struct lapi_parser *lp =
		lapi_parser_new(p->body ? p->body : "", p->len);
	uint64_t one = 1;
	int rc = lp ? 0 : -ENOMEM;

	/* CPU-bound: a hint to the scheduler (this thread only); glibc's
	 * thread attributes know no SCHED_BATCH */
	sched_setscheduler(0, SCHED_BATCH, &sp);
	if (!lp)
		snprintf(p->err, sizeof(p->err), "out of memory");
	while (!rc && !atomic_load(&p->cancel))
		rc = lapi_parser_step(lp, PARSE_UNITS, &p->s, p->err,
				      sizeof(p->err));
	lapi_parser_free(lp);
	free(p->body);
	p->body = NULL;
	if (!rc)
		rc = -ECANCELED;
	p->rc = rc < 0 ? rc : 0;
	if (!atomic_load(&p->cancel))
		malloc_trim(0); /* the tree's memory, from this thread */
	p->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	/* the results are the loop's from here: p is not touched again */
	atomic_thread_fence(memory_order_release);
	if (write(p->efd, &one, sizeof(one)) < 0)
		abort(); /* an eventfd's counter cannot overflow here */
	return NULL;
}

/* The parse as a batch job beside the loop, never at its real-time
 * priority (RLIMIT_RTTIME would cut it short, and it must not starve). */
static int parse_start(struct parse *p)
{
	struct sched_param sp = { 0 };
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	err = pthread_attr_init(&attr);
	if (err)
		return -err;
	err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) ?:
	      pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED) ?:
	      pthread_attr_setschedpolicy(&attr, SCHED_OTHER) ?:
	      pthread_attr_setschedparam(&attr, &sp) ?:
	      pthread_create(&tid, &attr, parse_main, p);
	pthread_attr_destroy(&attr);
	return -err;
}

/* Whether the parsing thread is through (its results then ours). */
static bool parse_through(struct csapply *a)
{
	uint64_t v;

	if (read(a->efd, &v, sizeof(v)) != sizeof(v))
		return false;
	atomic_thread_fence(memory_order_acquire);
	a->parsing = false;
	return true;
}

/* Call the parse off and wait until the thread lets go of it. */
static void parse_stop(struct csapply *a)
{
	struct pollfd pfd = { .fd = a->efd, .events = POLLIN };

	if (!a->parsing)
		return;
	atomic_store(&a->parse.cancel, true);
	while (!parse_through(a))
		poll(&pfd, 1, -1);
}

/* The head answer is through: its work freed, off the queue. */
static void drop_head(struct csapply *a)
{
	parse_stop(a);
	csdec_job_free(a->job);
	a->job = NULL;
	lapi_stream_free(&a->parse.s);
	free(a->q[a->head].body); /* when no thread took it */
	a->q[a->head].body = NULL;
	a->head = (a->head + 1) % CSAPPLY_QUEUE;
	a->n--;
	a->begun = false;
}

void csapply_free(struct csapply *a)
{
	if (!a)
		return;
	while (a->n)
		drop_head(a);
	close(a->efd);
	free(a);
}

int csapply_submit(struct csapply *a, struct csapply_answer *ans)
{
	if (a->n == CSAPPLY_QUEUE)
		return -ENOSPC;
	a->q[(a->head + a->n) % CSAPPLY_QUEUE] = *ans;
	a->n++;
	ans->body = NULL;
	return 0;
}

size_t csapply_pending(const struct csapply *a)
{
	return a->n;
}

bool csapply_has_whole(const struct csapply *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->q[(a->head + i) % CSAPPLY_QUEUE].whole)
			return true;
	return false;
}

const struct csapply_stats *csapply_stats(const struct csapply *a)
{
	return &a->stats;
}

/* Parsed: the decisions go to a job of their own. */
static void parsed(struct csapply *a)
{
	const struct csapply_answer *ans = &a->q[a->head];
	struct lapi_stream *s = &a->parse.s;

	a->res.parse_ns = a->parse.cpu_ns;
	a->res.work_ns += a->parse.cpu_ns;
	a->res.rc = a->parse.rc;
	if (a->res.rc) {
		snprintf(a->res.err, sizeof(a->res.err), "%s", a->parse.err);
		return;
	}
	a->res.n_added = s->n_added;
	a->res.n_deleted = s->n_deleted;
	if (s->n_added)
		a->res.first_added = s->added[0].target;
	a->job = csdec_job_new(a->bans, a->conf, a->deny, s, ans->received_ns,
			       ans->whole);
	if (a->job)
		return;
	a->res.rc = -ENOMEM;
	snprintf(a->res.err, sizeof(a->res.err), "out of memory");
}

/* A small answer parsed here and now. */
static void parse_inline(struct csapply *a)
{
	struct parse *p = &a->parse;
	uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

	p->rc = lapi_parse_stream(p->body ? p->body : "", p->len, &p->s, p->err,
				  sizeof(p->err));
	p->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	parsed(a);
}

/* The head answer to its parsing thread (or parsed at once if small). */
static void begin(struct csapply *a)
{
	const struct csapply_answer *ans = &a->q[a->head];
	struct parse *p = &a->parse;
	int err;

	memset(&a->res, 0, sizeof(a->res));
	a->res.whole = ans->whole;
	a->res.len = ans->len;
	a->res.received_ns = ans->received_ns;
	a->res.fetch_ns = ans->fetch_ns;
	memset(p, 0, sizeof(*p));
	p->body = ans->body;
	p->len = ans->len;
	p->efd = a->efd;
	a->begun = true;
	if (ans->len <= INLINE_BYTES) {
		parse_inline(a);
		return;
	}
	err = parse_start(p);
	if (!err)
		a->q[a->head].body = NULL; /* the thread's now */
	if (err) {
		a->res.rc = err;
		snprintf(a->res.err, sizeof(a->res.err),
			 "cannot start a thread to parse the answer: %s",
			 strerror(-err));
		return;
	}
	a->parsing = true;
}

static void finish(struct csapply *a)
{
	if (!a->res.rc)
		a->res.stale = csdec_job_stale(a->job);
	a->res.done_ns = boot_ns();
	a->stats.answers++;
	if (!a->res.rc && a->res.whole)
		a->stats.whole_sets++;
	drop_head(a);
	if (a->done)
		a->done(a->ctx, &a->res);
}

/* The head answer ready for a step: false while it is being parsed. */
static bool ready(struct csapply *a)
{
	if (!a->begun)
		begin(a);
	if (a->parsing) {
		if (!parse_through(a))
			return false;
		parsed(a);
	}
	return true;
}

/* One step of the head answer; true when it is through. */
static bool step(struct csapply *a, size_t units)
{
	if (a->res_slice != a->stats.slices) {
		a->res_slice = a->stats.slices;
		a->res.slices++;
	}
	return a->res.rc || csdec_job_step(a->job, units, a->st);
}

bool csapply_slice(struct csapply *a, size_t units, uint64_t budget_ns)
{
	uint64_t t0 = boot_ns(), t = t0, prev;
	bool counted = false, through;

	while (a->n && ready(a)) {
		if (!counted)
			a->stats.slices++;
		counted = true;
		through = step(a, units);
		prev = t;
		t = boot_ns();
		a->res.work_ns += t - prev;
		if (through) {
			finish(a);
			t = boot_ns();
		}
		if (t - t0 >= budget_ns)
			break;
	}
	if (t - t0 > a->stats.slice_max_ns)
		a->stats.slice_max_ns = t - t0;
	return a->n && !a->parsing;
}
