// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cs_apply.c: LAPI answers applied in slices, on real (unpinned) ban maps,
 * one step a slice: a whole set replacing another is never half a set (a
 * ban in both is in the maps after every slice, and the old set's own go
 * only once the new one is all in, ranges resumed across slices
 * included); answers arriving while one is applied are applied after it,
 * in order; a bad answer applies nothing and the next goes on; the queue
 * is bounded; a parse under way can be called off. Needs root. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bans.h"
#include "clock.h"
#include "config.h"
#include "cs_apply.h"
#include "origin.h"
#include "testmaps.h"
#include "maptests.h"

#define UNITS 8 /* sources a step: many slices for a few hundred bans */

static struct rg_maps maps;
static struct rg_conf conf;
static struct bans *bans;
static struct csdec_stats st;

/* The results in the order csapply gave them, and a check run on each. */
#define MAX_RESULTS 16
static struct csapply_result results[MAX_RESULTS];
static int n_results;
static void (*on_result)(const struct csapply_result *r);

static void done(void *ctx, const struct csapply_result *r)
{
	(void)ctx;
	assert_true(n_results < MAX_RESULTS);
	results[n_results++] = *r;
	if (on_result)
		on_result(r);
}

static int setup(void **state)
{
	(void)state;
	if (testmaps_create(&maps, 8192, 1024, 1024))
		return -1;
	bans = bans_new(&maps);
	conf_defaults(&conf);
	return bans ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	bans_free(bans);
	return 0;
}

/* Before each test: empty maps, no results. */
static int fresh(void **state)
{
	size_t n;

	(void)state;
	n_results = 0;
	on_result = NULL;
	memset(&st, 0, sizeof(st));
	return banstore_flush(&maps, &n);
}

/* An answer's JSON (malloc'd): "new" with the given values (Ip, or Range
 * when there is a '/'), "deleted" likewise. */
struct body {
	char *s;
	size_t len, cap;
};

static void put(struct body *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (b->len + n < b->cap)
			break;
		b->cap = (b->cap + n) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	b->len += n;
}

static void put_decision(struct body *b, bool first, const char *value)
{
	put(b,
	    "%s{\"duration\":\"3h\",\"origin\":\"cscli\",\"scenario\":"
	    "\"test\",\"scope\":\"%s\",\"type\":\"ban\",\"value\":\"%s\"}",
	    first ? "" : ",", strchr(value, '/') ? "Range" : "Ip", value);
}

/* 10.1.X.Y for i in [from, to), and the listed extra values. */
static void put_list(struct body *b, int from, int to, const char *const *extra)
{
	bool first = true;
	char v[32];
	int i;

	put(b, "[");
	for (i = from; i < to; i++, first = false) {
		snprintf(v, sizeof(v), "10.1.%d.%d", i / 256, i % 256);
		put_decision(b, first, v);
	}
	for (; extra && *extra; extra++, first = false)
		put_decision(b, first, *extra);
	put(b, "]");
}

static struct csapply_answer answer(bool whole, int from, int to,
				    const char *const *extra, int del_from,
				    int del_to)
{
	struct csapply_answer a = { .whole = whole };
	struct body b = { 0 };

	put(&b, "{\"new\":");
	put_list(&b, from, to, extra);
	put(&b, ",\"deleted\":");
	put_list(&b, del_from, del_to, NULL);
	put(&b, "}");
	a.body = b.s;
	a.len = b.len;
	a.received_ns = boot_ns();
	return a;
}

static void submit(struct csapply *ap, struct csapply_answer a)
{
	assert_int_equal(csapply_submit(ap, &a), 0);
	assert_null(a.body);
}

/* One slice of one step; waits for the parse where there is one. */
static void one_step(struct csapply *a)
{
	struct pollfd p = { .fd = csapply_fd(a), .events = POLLIN };

	while (!csapply_slice(a, UNITS, 0) && csapply_pending(a))
		assert_int_equal(poll(&p, 1, 20000), 1);
}

static void run_all(struct csapply *a)
{
	while (csapply_pending(a))
		one_step(a);
}

static bool banned(const char *addr)
{
	struct prefix p;
	struct rg_ban b;

	assert_int_equal(parse_prefix(addr, &p), 0);
	return !banstore_get(&maps, &p, &b);
}

static bool banned_i(int i)
{
	char v[32];

	snprintf(v, sizeof(v), "10.1.%d.%d", i / 256, i % 256);
	return banned(v);
}

/* How many of 10.1.x.y, i in [from, to), are banned. */
static int count_banned(int from, int to)
{
	int i, n = 0;

	for (i = from; i < to; i++)
		n += banned_i(i);
	return n;
}

/* How many hosts of 10.P.0.0/24 are banned. */
static int count_range(int p)
{
	char v[32];
	int i, n = 0;

	for (i = 0; i < 256; i++) {
		snprintf(v, sizeof(v), "10.%d.0.%d", p, i);
		n += banned(v);
	}
	return n;
}

static const char *const range3[] = { "10.3.0.0/24", NULL };
static const char *const range34[] = { "10.3.0.0/24", "10.4.0.0/24", NULL };

/* Old set: 10.1.x.y 0..299 and 10.3.0.0/24; new set: 100..399 (200 in
 * common), the same /24 and 10.4.0.0/24. After every slice the common
 * bans are all in; the old set's own are all in until the new set's own
 * are all in; then they go. */
static void test_whole_set_replaced(void **state)
{
	struct csapply *a = csapply_new(bans, &conf, NULL, &st, done, NULL);
	int steps = 0, old_only, new_only;

	(void)state;
	assert_non_null(a);
	submit(a, answer(true, 0, 300, range3, 0, 0));
	run_all(a);
	assert_int_equal(count_banned(0, 300), 300);
	assert_int_equal(count_range(3), 256);

	submit(a, answer(true, 100, 400, range34, 0, 0));
	while (csapply_pending(a)) {
		one_step(a);
		steps++;
		assert_int_equal(count_banned(100, 300), 200);
		assert_int_equal(count_range(3), 256);
		old_only = count_banned(0, 100);
		new_only = count_banned(300, 400) + count_range(4);
		if (old_only < 100)
			assert_int_equal(new_only, 100 + 256);
	}
	assert_true(steps > 50); /* (200 + 100 + 512) / UNITS, and more */
	assert_int_equal(count_banned(0, 100), 0);
	assert_int_equal(count_banned(100, 400), 300);
	assert_int_equal(count_range(4), 256);
	assert_int_equal(n_results, 2);
	assert_int_equal(results[1].rc, 0);
	assert_true(results[1].whole);
	assert_int_equal(results[1].n_added, 302);
	assert_int_equal(results[1].stale, 100);
	assert_true(results[1].slices > 50);
	assert_int_equal(csapply_stats(a)->whole_sets, 2);
	csapply_free(a);
}

/* While a whole set {0..199} is being applied, deltas (200 deleted, 500
 * added) and a newer whole set {0..149, 500, 600} arrive: they are
 * applied after it, in order. Had the deltas gone first, the whole set's
 * later slices would have put 200 back. */
static void check_in_order(const struct csapply_result *r)
{
	assert_int_equal(r->rc, 0);
	switch (n_results) {
	case 1: /* the first whole set: all in */
		assert_int_equal(count_banned(0, 200), 200);
		break;
	case 2: /* the deltas, after it */
		assert_false(banned("10.1.0.199"));
		assert_true(banned("10.1.1.244")); /* 500 */
		assert_int_equal(count_banned(0, 199), 199);
		break;
	case 3: /* the newer whole set */
		assert_int_equal(count_banned(150, 200), 0);
		break;
	}
}

static void test_newer_answers_mid_apply(void **state)
{
	static const char *const extra[] = { "10.1.1.244", "10.1.2.88", NULL };
	struct csapply *a = csapply_new(bans, &conf, NULL, &st, done, NULL);
	bool in[150] = { false };
	int i;

	(void)state;
	assert_non_null(a);
	on_result = check_in_order;
	submit(a, answer(true, 0, 200, NULL, 0, 0));
	while (count_banned(0, 200) < 100) /* half of it in */
		one_step(a);
	assert_int_equal(n_results, 0);
	/* deltas: 199 deleted, 500 (10.1.1.244) added */
	submit(a, answer(false, 500, 501, NULL, 199, 200));
	submit(a, answer(true, 0, 150, extra, 0, 0));
	while (csapply_pending(a)) {
		one_step(a);
		for (i = 0; i < 150; i++) { /* in all three: once in, in */
			if (in[i])
				assert_true(banned_i(i));
			in[i] = banned_i(i);
		}
	}
	assert_int_equal(n_results, 3);
	assert_true(results[0].whole);
	assert_false(results[1].whole);
	assert_true(results[2].whole);
	assert_int_equal(count_banned(0, 150), 150);
	assert_int_equal(count_banned(150, 200), 0);
	assert_true(banned("10.1.1.244") && banned("10.1.2.88"));
	assert_int_equal(results[2].stale, 49); /* 150..198; 199 went before */
	csapply_free(a);
}

/* A bad answer (bad JSON deep in it, found late in the parse) applies
 * nothing; the answer after it is applied. */
static void test_bad_answer(void **state)
{
	struct csapply *a = csapply_new(bans, &conf, NULL, &st, done, NULL);
	struct csapply_answer bad = answer(true, 0, 300, NULL, 0, 0);

	(void)state;
	assert_non_null(a);
	memcpy(strstr(bad.body, "{\"duration\":\"3h\",\"origin\":\"cscli\","
				"\"scenario\":\"test\",\"scope\":\"Ip\","
				"\"type\":\"ban\",\"value\":\"10.1.1.0\"}"),
	       "17", 2);
	submit(a, bad);
	submit(a, answer(false, 400, 401, NULL, 0, 0));
	run_all(a);
	assert_int_equal(n_results, 2);
	assert_int_equal(results[0].rc, -EBADMSG);
	assert_non_null(strstr(results[0].err, "bad JSON"));
	assert_int_equal(count_banned(0, 300), 0);
	assert_int_equal(results[1].rc, 0);
	assert_true(banned_i(400));
	assert_int_equal(csapply_stats(a)->whole_sets, 0);
	csapply_free(a);
}

/* CSAPPLY_QUEUE answers wait at most; one more is refused and left to
 * the caller. Freed with a whole set being parsed: called off. */
static void test_bounded_and_freed(void **state)
{
	struct csapply *a = csapply_new(bans, &conf, NULL, &st, done, NULL);
	struct csapply_answer more = answer(false, 1, 2, NULL, 0, 0);
	int i;

	(void)state;
	assert_non_null(a);
	submit(a, answer(true, 0, 20000, NULL, 0, 0));
	for (i = 1; i < CSAPPLY_QUEUE; i++)
		submit(a, answer(false, i, i + 1, NULL, 0, 0));
	assert_int_equal(csapply_submit(a, &more), -ENOSPC);
	assert_non_null(more.body); /* still the caller's */
	free(more.body);
	assert_false(csapply_slice(a, UNITS, 0)); /* the parse starts */
	assert_int_equal(csapply_pending(a), CSAPPLY_QUEUE);
	assert_true(csapply_has_whole(a));
	csapply_free(a);
	assert_int_equal(n_results, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_whole_set_replaced, fresh),
		cmocka_unit_test_setup(test_newer_answers_mid_apply, fresh),
		cmocka_unit_test_setup(test_bad_answer, fresh),
		cmocka_unit_test_setup(test_bounded_and_freed, fresh),
	};

	return run_map_tests(tests, setup, teardown);
}
