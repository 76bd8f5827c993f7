/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Helpers of the cmocka test files. Include after <cmocka.h> and
 * <string.h>. */
#ifndef RG_TEST_UNIT_H
#define RG_TEST_UNIT_H

#include <string.h>

#include "names.h" /* ARRAY_LEN */

/* Each of the NULL-terminated needles is somewhere in text; the first
 * missing one is named. */
static inline void assert_contains_all(const char *text,
				       const char *const *needles)
{
	for (; *needles; needles++)
		if (!strstr(text, *needles))
			fail_msg("missing: %s\nin: %s", *needles, text);
}

/* main(): run the tests given (cmocka_unit_test(name), ...) in order. */
#define UNIT_TEST_MAIN(...)                                   \
	int main(void)                                        \
	{                                                     \
		const struct CMUnitTest tests[] = { __VA_ARGS__ }; \
                                                              \
		return cmocka_run_group_tests(tests, NULL, NULL); \
	}

#endif
