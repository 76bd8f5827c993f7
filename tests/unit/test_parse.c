// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What operators type: prefixes, durations, numbers, lists, reason names. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"
#include "relayguard.h"
#include "unit.h"

/* Accepted prefixes, printed back as canonical. */
static const struct {
	const char *text, *canonical;
	unsigned int len;
} prefixes[] = {
	{ "192.0.2.1", "192.0.2.1", 32 },
	{ "192.0.2.0/24", "192.0.2.0/24", 24 },
	{ "0.0.0.0/0", "0.0.0.0/0", 0 },
	{ "10.0.0.1/32", "10.0.0.1", 32 },
	{ "2001:db8::1", "2001:db8::1", 128 },
	{ "2001:db8:1:2::/64", "2001:db8:1:2::/64", 64 },
	{ "::/0", "::/0", 0 },
};

/* Refused with -EINVAL. */
static const char *const bad_prefixes[] = {
	"192.0.2.1/24", /* host bits set */
	"192.0.2.0/33",
	"192.0.2.0/-1",
	"192.0.2.0/",
	"192.0.2.0/24x",
	"2001:db8::/129",
	"256.0.0.1",
	"",
	"/24",
	"example.com",
	"1.2.3.4.5",
	"2001:db8::1::2",
	"192.0.2.1 ",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

static void test_prefixes(void **state)
{
	char buf[PREFIX_STRLEN];
	struct prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(prefixes); i++) {
		print_message("prefix '%s'\n", prefixes[i].text);
		assert_int_equal(parse_prefix(prefixes[i].text, &p), 0);
		assert_int_equal(p.len, prefixes[i].len);
		format_prefix(&p, buf, sizeof(buf));
		assert_string_equal(buf, prefixes[i].canonical);
	}
	for (i = 0; i < ARRAY_LEN(bad_prefixes); i++) {
		print_message("prefix '%s'\n", bad_prefixes[i]);
		assert_int_equal(parse_prefix(bad_prefixes[i], &p), -EINVAL);
	}
}

static void test_prefix_relations(void **state)
{
	struct prefix net, host, other, v6;

	(void)state;
	assert_int_equal(parse_prefix("10.1.0.0/16", &net), 0);
	assert_int_equal(parse_prefix("10.1.200.3", &host), 0);
	assert_int_equal(parse_prefix("10.2.0.0/16", &other), 0);
	assert_int_equal(parse_prefix("::a01:0/112", &v6), 0);
	assert_true(prefix_contains(&net, &host));
	assert_false(prefix_contains(&host, &net));
	assert_true(prefix_overlaps(&host, &net));
	assert_false(prefix_overlaps(&net, &other));
	assert_false(prefix_overlaps(&net, &v6)); /* families never mix */

	host.len = 16;
	prefix_mask(&host);
	assert_memory_equal(host.addr, net.addr, 16);
}

static const struct {
	const char *text;
	uint64_t seconds;
} durations[] = {
	{ "90", 90 },
	{ "90s", 90 },
	{ "15m", 900 },
	{ "1h", 3600 },
	{ "2d", 172800 },
	{ "1w", 604800 },
	{ "permanent", DURATION_PERMANENT },
};

static const struct {
	const char *text;
	int err;
} bad_durations[] = {
	{ "0", -EINVAL },
	{ "-5m", -EINVAL },
	{ "5x", -EINVAL },
	{ "m", -EINVAL },
	{ "", -EINVAL },
	{ "1h30m", -EINVAL },
	{ "99999999999999999999w", -EINVAL },
	{ "40000000000000w", -ERANGE },
};

static void test_durations(void **state)
{
	uint64_t s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(durations); i++) {
		print_message("duration '%s'\n", durations[i].text);
		assert_int_equal(parse_duration(durations[i].text, &s), 0);
		assert_true(s == durations[i].seconds);
	}
	for (i = 0; i < ARRAY_LEN(bad_durations); i++) {
		print_message("duration '%s'\n", bad_durations[i].text);
		assert_int_equal(parse_duration(bad_durations[i].text, &s),
				 bad_durations[i].err);
	}
}

static void test_format_duration(void **state)
{
	char buf[DURATION_STRLEN];

	(void)state;
	format_duration(5400, buf, sizeof(buf));
	assert_string_equal(buf, "1h30m");
	format_duration(7 * 86400 + 1, buf, sizeof(buf));
	assert_string_equal(buf, "1w1s");
	format_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	format_duration(DURATION_PERMANENT, buf, sizeof(buf));
	assert_string_equal(buf, "permanent");
}

static void test_ulong(void **state)
{
	unsigned long v;

	(void)state;
	assert_int_equal(parse_ulong("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_ulong("101", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_ulong("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_ulong(" 1", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_ulong("1 ", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_ulong("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_ulong("", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_ulong("99999999999999999999999", 0, ~0UL, &v),
			 -ERANGE);
}

struct collected {
	char items[8][32];
	int n;
};

static int collect(const char *item, void *ctx)
{
	struct collected *c = ctx;

	if (c->n == 8)
		return -E2BIG;
	snprintf(c->items[c->n++], sizeof(c->items[0]), "%s", item);
	return 0;
}

static void test_lists(void **state)
{
	struct collected c = { 0 };
	char overlong[300];

	(void)state;
	assert_int_equal(parse_list(" a, b,,c\td  ", collect, &c), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.items[0], "a");
	assert_string_equal(c.items[3], "d");

	c.n = 0;
	assert_int_equal(parse_list("", collect, &c), 0);
	assert_int_equal(c.n, 0);

	memset(overlong, 'x', sizeof(overlong) - 1);
	overlong[sizeof(overlong) - 1] = '\0';
	assert_int_equal(parse_list(overlong, collect, &c), -E2BIG);
}

static void test_reasons(void **state)
{
	int r;

	(void)state;
	for (r = 0; r < RG_REASON_MAX; r++)
		assert_int_equal(reason_from_name(reason_name(r)), r);
	assert_string_equal(reason_name(RG_REASON_RELAY_ATTEMPT), "relay_attempt");
	assert_string_equal(reason_name(RG_REASON_MAX), "unknown");
	assert_int_equal(reason_from_name("nonsense"), -EINVAL);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_prefixes),
	       cmocka_unit_test(test_prefix_relations),
	       cmocka_unit_test(test_durations),
	       cmocka_unit_test(test_format_duration),
	       cmocka_unit_test(test_ulong), cmocka_unit_test(test_lists),
	       cmocka_unit_test(test_reasons))
