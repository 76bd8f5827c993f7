// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* names.h: a value's name, a name's value, in tables with holes (values
 * without a name match no name and print as the fallback) and in arrays of
 * structs whose name is not the first member. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "names.h"
#include "unit.h"

enum colour { RED, GREEN, BLUE, NO_NAME, CYAN, COLOUR_MAX };

static const char *const colours[COLOUR_MAX] = {
	[RED] = "red",
	[GREEN] = "green",
	[BLUE] = "blue",
	[CYAN] = "cyan",
};

static void test_value_to_name(void **state)
{
	static const struct {
		unsigned int value;
		const char *name;
	} cases[] = {
		{ RED, "red" },	     { BLUE, "blue" },	     { CYAN, "cyan" },
		{ NO_NAME, "none" }, { COLOUR_MAX, "none" }, { ~0U, "none" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++)
		assert_string_equal(name_of(colours, cases[i].value, "none"),
				    cases[i].name);
	assert_null(name_of(colours, NO_NAME, NULL));
}

static void test_name_to_value(void **state)
{
	static const struct {
		const char *name;
		int value;
	} cases[] = {
		{ "red", RED },	     { "green", GREEN },  { "cyan", CYAN },
		{ "RED", -EINVAL },  { "re", -EINVAL },	  { "", -EINVAL },
		{ "none", -EINVAL }, { "reds", -EINVAL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(name_index(colours, cases[i].name),
				 cases[i].value);
}

static void test_struct_member(void **state)
{
	static const struct {
		int weight;
		const char *label;
	} items[] = { { 7, "a" }, { 8, NULL }, { 9, "b" }, { 10, "b" } };

	(void)state;
	assert_int_equal(name_index_by(items, ARRAY_LEN(items), label, "a"), 0);
	/* the first of two */
	assert_int_equal(name_index_by(items, ARRAY_LEN(items), label, "b"), 2);
	/* only the first n count */
	assert_int_equal(name_index_by(items, 2, label, "b"), -EINVAL);
	assert_int_equal(name_index_by(items, ARRAY_LEN(items), label, "c"),
			 -EINVAL);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_value_to_name),
	       cmocka_unit_test(test_name_to_value),
	       cmocka_unit_test(test_struct_member))
