/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The samples ring buffer read with a budget per wakeup. libbpf 1.1.2's
 * ring_buffer__consume() reads until the ring is empty, which under a
 * flood faster than the daemon is never: signals, timers, link events and
 * the other sockets would wait for the flood to end. Its sample callback
 * stopping the walk with a negative value (the record is consumed first)
 * is all 1.1.2 offers (ring_buffer__consume_n came in 1.5), so the budget
 * lives in a wrapper callback. */
#ifndef RG_RINGDRAIN_H
#define RG_RINGDRAIN_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

/* Records per wakeup: ~0.5 ms of parsing at ~2 us a record. */
#define RING_DRAIN_BUDGET 256

struct ring_drain;

/* The ring buffer of map_fd, each record handed to fn(ctx, data, size). */
struct ring_drain *ring_drain_new(int map_fd, ring_buffer_sample_fn fn,
				  void *ctx, unsigned int budget);
void ring_drain_free(struct ring_drain *d);
/* For epoll: readable (level-triggered) while records are waiting. */
int ring_drain_epoll_fd(const struct ring_drain *d);
/* Read up to the budget. Returns the records read (0..budget) or a
 * negative errno; *more: the budget ran out, records may be left. */
int ring_drain_run(struct ring_drain *d, bool *more);

#endif
