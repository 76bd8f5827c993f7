/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The data plane's sampling rules (bpf/sample.h, ABI 3) in C: frames in,
 * the sample records the XDP and TC programs would write out (direction
 * from the SMTP port, flow key oriented client -> server, SYN/FIN/RST and
 * handshake records, client payload within the transaction's window past
 * the server's ack, every server byte, nothing once stopped, no client
 * payload while the client is paused or once it is stopped). replay runs it
 * instead of the kernel; the differential test (tests/bpf/test_differential.c)
 * runs the same frames through both and requires identical records, so the two
 * cannot drift. Touches no maps. */
#ifndef RG_DPMODEL_H
#define RG_DPMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "relayguard.h"

struct dpmodel;

/* One record (struct rg_sample and its payload, len bytes in all). */
typedef void (*dpmodel_record_fn)(void *ctx, const struct rg_sample *s,
				  size_t len);

struct dpmodel *dpmodel_new(const struct rg_conf *conf, dpmodel_record_fn fn,
			    void *ctx);
void dpmodel_free(struct dpmodel *m);

/* One frame of pcap link type dlt (Ethernet, Linux cooked, raw IP) seen at
 * now_ns: its records go to fn. Returns 1 for TCP to or from an SMTP port,
 * else 0. */
int dpmodel_frame(struct dpmodel *m, int dlt, const uint8_t *frame,
		  uint32_t len, uint64_t now_ns);

/* The daemon's writes to `flows` (user/flowmap.c). */
void dpmodel_stop(struct dpmodel *m, const struct rg_flow_key *key);
void dpmodel_stop_client(struct dpmodel *m, const struct rg_flow_key *key);
void dpmodel_pause_client(struct dpmodel *m, const struct rg_flow_key *key);
void dpmodel_resume_client(struct dpmodel *m, const struct rg_flow_key *key,
			   uint32_t seq);

/* Forget flows idle for idle_ns (the kernel's slots are reused). */
void dpmodel_expire(struct dpmodel *m, uint64_t now_ns, uint64_t idle_ns);

#endif
