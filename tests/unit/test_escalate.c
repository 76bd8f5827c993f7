// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* escalate.c: ipv6_escalate distinct groups of one /48 banned within the
 * window ban the /48; 0 is off; old bans fall out of the window; the same
 * group twice counts once; another /48 counts apart; a /48 overlapping a
 * trusted network or an allow entry is exempt (allow6: a real trie, so
 * root). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "escalate.h"
#include "maptests.h"
#include "testmaps.h"
#include "unit.h"

#define SEC    1000000000ULL
#define WINDOW (600 * SEC)

static struct escalate *esc;

static int setup_one(void **state)
{
	(void)state;
	esc = escalate_new();
	return esc ? 0 : -1;
}

static int teardown_one(void **state)
{
	(void)state;
	escalate_free(esc);
	return 0;
}

static struct prefix pfx(const char *s)
{
	struct prefix p;

	assert_int_equal(parse_prefix(s, &p), 0);
	return p;
}

/* Note group s banned at t seconds, needing need. */
static bool note(const char *s, unsigned int need, uint64_t t,
		 struct prefix *wide)
{
	struct prefix p = pfx(s);

	return escalate_note(esc, &p, need, WINDOW, t * SEC, wide);
}

static void test_three_groups_ban_the_48(void **state)
{
	struct prefix wide;
	char buf[PREFIX_STRLEN];

	(void)state;
	assert_false(note("2001:db8:1:1::/64", 3, 10, &wide));
	assert_false(note("2001:db8:1:2::/64", 3, 20, &wide));
	assert_true(note("2001:db8:1:3::/64", 3, 30, &wide));
	format_prefix(&wide, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1::/48");
	/* the count starts anew */
	assert_false(note("2001:db8:1:4::/64", 3, 40, &wide));
}

static void test_off(void **state)
{
	struct prefix wide;
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_false(
			note(i % 2 ? "2001:db8:1:1::/64" : "2001:db8:1:2::/64",
			     0, i, &wide));
	assert_false(note("2001:db8:1:3::/64", 0, 11, &wide));
}

/* One group banned at t seconds, needing need, and whether that bans its
 * /48. */
struct note_step {
	const char *group;
	unsigned int need;
	uint64_t t;
	bool widens;
};

/* The steps in order; the first whose answer is not widens is named. */
static void expect_notes(const struct note_step *s, size_t n)
{
	struct prefix wide;
	size_t i;

	for (i = 0; i < n; i++)
		if (note(s[i].group, s[i].need, s[i].t, &wide) != s[i].widens)
			fail_msg("%s at %llu s: want widens=%d", s[i].group,
				 (unsigned long long)s[i].t, s[i].widens);
}

static void test_window_expiry(void **state)
{
	struct prefix wide;

	(void)state;
	assert_false(note("2001:db8:1:1::/64", 3, 0, &wide));
	assert_false(note("2001:db8:1:2::/64", 3, 300, &wide));
	/* the first is 600 s old: out of the window */
	assert_false(note("2001:db8:1:3::/64", 3, 600, &wide));
	/* the second and third are within it */
	assert_true(note("2001:db8:1:4::/64", 3, 700, &wide));
}

static void test_distinct_and_apart(void **state)
{
	static const struct note_step s[] = {
		{ "2001:db8:1:1::/64", 3, 1, false },
		{ "2001:db8:1:1::/64", 3, 2, false },
		{ "2001:db8:1:1::/64", 3, 3, false },
		{ "2001:db8:2:1::/64", 3, 4, false },
		{ "2001:db8:2:2::/64", 3, 5, false },
		{ "192.0.2.1", 1, 6, false },
		{ "2001:db8:1::/48", 1, 7, false },
		{ "2001:db8:1:2::/64", 2, 8, true },
	};

	(void)state;
	expect_notes(s, ARRAY_LEN(s));
}

static void test_exempt(void **state)
{
	struct rg_lpm6_key k = { .prefixlen = 64 };
	struct prefix wide = pfx("2001:db8:1::/48");
	struct rg_conf conf;
	struct rg_maps maps;
	__u8 one = 1;

	(void)state;
	conf_defaults(&conf);
	assert_int_equal(escalate_exempt(&conf, NULL, &wide), BAN_ADDED);
	conf.trusted[conf.n_trusted++] = pfx("192.0.2.0/24");
	conf.trusted[conf.n_trusted++] = pfx("2001:db8:2::/48");
	assert_int_equal(escalate_exempt(&conf, NULL, &wide), BAN_ADDED);
	conf.trusted[conf.n_trusted++] = pfx("2001:db8:1:5::/64");
	assert_int_equal(escalate_exempt(&conf, NULL, &wide), BAN_TRUSTED);
	conf.n_trusted = 2;
	conf.trusted[conf.n_trusted++] = pfx("2001:db8::/32");
	assert_int_equal(escalate_exempt(&conf, NULL, &wide), BAN_TRUSTED);
	conf.n_trusted = 0;
	memset(&maps, -1, sizeof(maps));
	maps.allow6 = testmaps_lpm(sizeof(struct rg_lpm6_key), 16);
	assert_true(maps.allow6 >= 0);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:3::", k.addr), 1);
	assert_int_equal(bpf_map_update_elem(maps.allow6, &k, &one, 0), 0);
	assert_int_equal(escalate_exempt(&conf, &maps, &wide), BAN_ADDED);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:9::", k.addr), 1);
	assert_int_equal(bpf_map_update_elem(maps.allow6, &k, &one, 0), 0);
	assert_int_equal(escalate_exempt(&conf, &maps, &wide), BAN_ALLOWED);
	close(maps.allow6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_three_groups_ban_the_48,
						setup_one, teardown_one),
		cmocka_unit_test_setup_teardown(test_off, setup_one,
						teardown_one),
		cmocka_unit_test_setup_teardown(test_window_expiry, setup_one,
						teardown_one),
		cmocka_unit_test_setup_teardown(test_distinct_and_apart,
						setup_one, teardown_one),
		cmocka_unit_test(test_exempt),
	};

	return run_map_tests(tests, NULL, NULL);
}
