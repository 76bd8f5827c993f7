// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The samples ring buffer, read with a budget (see ringdrain.h). */
#include <errno.h>
#include <stdlib.h>

#include "ringdrain.h"

struct ring_drain {
	struct ring_buffer *rb;
	ring_buffer_sample_fn fn;
	void *ctx;
	unsigned int budget, n;
};

/* Stops the walk once the budget is spent: libbpf consumes this record
 * first, then returns the negative value. */
#define BUDGET_SPENT (-EOVERFLOW)

static int on_record(void *ctx, void *data, size_t size)
{
	struct ring_drain *d = ctx;

	d->fn(d->ctx, data, size);
	return ++d->n >= d->budget ? BUDGET_SPENT : 0;
}

struct ring_drain *ring_drain_new(int map_fd, ring_buffer_sample_fn fn,
				  void *ctx, unsigned int budget)
{
	struct ring_drain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fn = fn;
	d->ctx = ctx;
	d->budget = budget ? budget : 1;
	d->rb = ring_buffer__new(map_fd, on_record, d, NULL);
	if (!d->rb) {
		free(d);
		return NULL;
	}
	return d;
}

void ring_drain_free(struct ring_drain *d)
{
	if (!d)
		return;
	ring_buffer__free(d->rb);
	free(d);
}

int ring_drain_epoll_fd(const struct ring_drain *d)
{
	return ring_buffer__epoll_fd(d->rb);
}

int ring_drain_run(struct ring_drain *d, bool *more)
{
	int err;

	d->n = 0;
	err = ring_buffer__consume(d->rb);
	*more = err == BUDGET_SPENT;
	if (err < 0 && err != BUDGET_SPENT)
		return err;
	return (int)d->n;
}
