// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The samples ring buffer is read with a budget per wakeup: records left
 * beyond the budget wait for the next call, none is lost or read twice,
 * and the caller learns that more are waiting. Records come from rg_xdp
 * itself (BPF_PROG_TEST_RUN), one per new flow with payload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pkt.h"
#include "relayguard.h"
#include "relayguard.skel.h"
#include "ringdrain.h"

#define BUDGET 16
#define RECORDS (3 * BUDGET + 5)

static struct relayguard_bpf *skel;
static unsigned int seen[RECORDS];
static unsigned int n_seen;

static int on_record(void *ctx, void *data, size_t size)
{
	const struct rg_sample *s = data;
	unsigned int port;

	(void)ctx;
	assert_true(size >= sizeof(*s));
	port = ntohs(s->flow.client_port) - 40000;
	assert_true(port < RECORDS);
	seen[port]++;
	n_seen++;
	return 0;
}

/* RECORDS flows, each opening with a MAIL command: one record each. */
static void produce(void)
{
	struct pkt_spec spec = { .flags = TH_ACK | TH_PSH,
				 .payload = "MAIL FROM:<a@b.c>\r\n" };
	struct rg_config cfg = { .hash_seed = 0x5eed };
	uint8_t buf[PKT_MAX];
	uint32_t zero = 0;
	unsigned int i;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .repeat = 1);

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.config),
					     &zero, &cfg, BPF_ANY), 0);
	for (i = 0; i < RECORDS; i++) {
		spec.sport = 40000 + i;
		opts.data_size_in = pkt_build(&spec, buf);
		assert_int_equal(bpf_prog_test_run_opts(
					 bpf_program__fd(skel->progs.rg_xdp),
					 &opts), 0);
		assert_int_equal(opts.retval, XDP_PASS);
	}
}

static void test_budget(void **state)
{
	struct ring_drain *d;
	unsigned int i, calls = 0;
	bool more = true;
	int n;

	(void)state;
	produce();
	d = ring_drain_new(bpf_map__fd(skel->maps.samples), on_record, NULL,
			   BUDGET);
	assert_non_null(d);
	n = ring_drain_run(d, &more);
	assert_int_equal(n, BUDGET);
	assert_true(more);
	assert_int_equal(n_seen, BUDGET);
	for (calls = 1; more && calls < 100; calls++) {
		n = ring_drain_run(d, &more);
		assert_true(n >= 0 && n <= BUDGET);
	}
	assert_int_equal(calls, RECORDS / BUDGET + 1);
	assert_int_equal(n_seen, RECORDS);
	for (i = 0; i < RECORDS; i++)
		assert_int_equal(seen[i], 1);
	/* Empty now: nothing read, nothing more. */
	assert_int_equal(ring_drain_run(d, &more), 0);
	assert_false(more);
	ring_drain_free(d);
}

static int setup(void **state)
{
	struct bpf_map *m;

	(void)state;
	skel = relayguard_bpf__open();
	if (!skel)
		return -1;
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	if (relayguard_bpf__load(skel)) {
		relayguard_bpf__destroy(skel);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	relayguard_bpf__destroy(skel);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
