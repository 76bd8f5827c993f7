/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The main() of a file of cmocka tests. Include after <cmocka.h>. */
#ifndef RG_TEST_UNIT_H
#define RG_TEST_UNIT_H

/* main(): run the tests given (cmocka_unit_test(name), ...) in order. */
#define UNIT_TEST_MAIN(...)                                   \
	int main(void)                                        \
	{                                                     \
		const struct CMUnitTest tests[] = { __VA_ARGS__ }; \
                                                              \
		return cmocka_run_group_tests(tests, NULL, NULL); \
	}

#endif
