// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Eviction at the flow cap under a flood of spoofed sessions: flows whose
 * handshake was never verified (all a spoofer can make) go first, so a
 * flood never pushes a verified session out of the table; each eviction
 * is counted, unverified ones apart; idle expiry still sees every flow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "flow.h"

#define TCP_SYN 0x02
#define TCP_ACK 0x10

static unsigned int released;

static void on_release(void *ctx, struct flow *f)
{
	(void)ctx;
	(void)f;
	released++;
}

static struct flow_table *table(unsigned int max_flows)
{
	struct flow_table_params p = {
		.max_flows = max_flows,
		.max_bytes = 4096,
		.sample_bytes = 4096,
		.release = on_release,
	};

	released = 0;
	return flow_table_new(&p);
}

static struct rg_flow_key key_n(unsigned int n)
{
	struct rg_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = 2;
	k.client[0] = 10;
	k.client[1] = n >> 16;
	k.client[2] = n >> 8;
	k.client[3] = n;
	k.server[0] = 192;
	k.client_port = n;
	k.server_port = 25;
	return k;
}

/* A session whose handshake is verified, then one more record (the
 * server's greeting) at now. */
static void verified_flow(struct flow_table *t, unsigned int n, uint64_t now)
{
	struct rg_flow_key k = key_n(n);
	struct flow *f = flow_get(t, &k, now, true, NULL);

	assert_non_null(f);
	flow_track(f, RG_DIR_IN, TCP_SYN, 1000, 0);
	flow_track(f, RG_DIR_OUT, TCP_SYN | TCP_ACK, 5000, 1001);
	assert_true(flow_track(f, RG_DIR_IN, TCP_ACK, 1001, 5001));
	assert_non_null(flow_get(t, &k, now, false, NULL));
}

static bool present(struct flow_table *t, unsigned int n, uint64_t now)
{
	struct rg_flow_key k = key_n(n);

	return flow_get(t, &k, now, false, NULL) != NULL;
}

static void test_flood_keeps_verified(void **state)
{
	struct flow_table *t = table(16);
	unsigned int i;
	struct rg_flow_key k;

	(void)state;
	for (i = 0; i < 4; i++)
		verified_flow(t, i, NSEC_PER_SEC);
	/* The flood: 100 spoofed sessions, each newer than the verified. */
	for (i = 0; i < 100; i++) {
		k = key_n(1000 + i);
		assert_non_null(flow_get(t, &k, 2 * NSEC_PER_SEC + i, true, NULL));
	}
	for (i = 0; i < 4; i++)
		assert_true(present(t, i, 3 * NSEC_PER_SEC));
	assert_int_equal(flow_table_stats(t)->active, 16);
	assert_int_equal(flow_table_stats(t)->evicted_cap, 88);
	assert_int_equal(flow_table_stats(t)->evicted_unverified, 88);
	/* The newest spoofed sessions are the ones kept. */
	assert_true(present(t, 1099, 3 * NSEC_PER_SEC));
	assert_false(present(t, 1087, 3 * NSEC_PER_SEC));
	assert_true(present(t, 1088, 3 * NSEC_PER_SEC));
	/* Idle expiry sees both kinds: all gone 10 s after their last record. */
	flow_expire(t, 20 * NSEC_PER_SEC, 10 * NSEC_PER_SEC);
	assert_int_equal(flow_table_stats(t)->active, 0);
	assert_int_equal(flow_table_stats(t)->idle, 16);
	assert_int_equal(flow_table_stats(t)->unverified, 12);
	flow_table_free(t);
	assert_int_equal(released, 104);
}

/* With no unverified flow left, the oldest verified one goes. */
static void test_all_verified_lru(void **state)
{
	struct flow_table *t = table(16);
	struct rg_flow_key k = key_n(500);
	unsigned int i;

	(void)state;
	for (i = 0; i < 16; i++)
		verified_flow(t, i, (1 + i) * NSEC_PER_SEC);
	assert_non_null(flow_get(t, &k, 20 * NSEC_PER_SEC, true, NULL));
	assert_false(present(t, 0, 21 * NSEC_PER_SEC));
	assert_true(present(t, 1, 21 * NSEC_PER_SEC));
	assert_int_equal(flow_table_stats(t)->evicted_cap, 1);
	assert_int_equal(flow_table_stats(t)->evicted_unverified, 0);
	flow_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_keeps_verified),
		cmocka_unit_test(test_all_verified_lru),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
