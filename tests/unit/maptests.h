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

/* A map of the kernel's, not pinned; fails the test when it cannot be
 * made. Include after <cmocka.h> and <bpf/bpf.h>. */
static inline int mkmap(enum bpf_map_type type, unsigned int key,
			unsigned int val, unsigned int max, unsigned int flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	int fd = bpf_map_create(type, NULL, key, val, max, &o);

	assert_true(fd >= 0);
	return fd;
}

#endif
