/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* For the cmocka tests that create BPF maps, which needs root. */
#ifndef RG_TEST_MAPTESTS_H
#define RG_TEST_MAPTESTS_H

#include <stdio.h>
#include <unistd.h>

/* cmocka_run_group_tests(), or without root a SKIP line and exit code 77
 * (what tests/run.sh counts as skipped). */
#define run_map_tests(tests, setup, teardown)                                  \
	(geteuid() ? (puts("SKIP: needs root for BPF maps"), 77)               \
		   : cmocka_run_group_tests(tests, setup, teardown))

#endif
