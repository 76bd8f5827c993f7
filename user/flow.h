/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow table and TCP reassembly for sampled SMTP sessions: flows keyed by
 * the 4-tuple (oriented client -> server by the data plane), in-order
 * delivery per direction by sequence number, handshake verification, idle
 * timeout, caps on flows and on buffered bytes, and a bounded copy of each
 * flow's samples for evidence. Each flow carries user_size bytes of caller
 * state (flow_user()). */
#ifndef RG_FLOW_H
#define RG_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "relayguard.h"

#define FLOW_OOO_MAX_SEGS 32 /* out-of-order segments held per direction */
#define FLOW_SAMPLES_MAX  64 /* sample records kept per flow (evidence) */

enum flow_state {
	FLOW_SEEN_SYN = 1U << 0,      /* client SYN: client ISN known */
	FLOW_SEEN_SYNACK = 1U << 1,   /* server SYN-ACK: server ISN known */
	FLOW_VERIFIED = 1U << 2,      /* client acknowledged the server's ISN */
	FLOW_BAD_HANDSHAKE = 1U << 3, /* SYN-ACK did not answer the SYN */
	FLOW_GAP = 1U << 4,	      /* bytes were lost in some direction */
	FLOW_FIN_IN = 1U << 5,
	FLOW_FIN_OUT = 1U << 6,
	FLOW_RST = 1U << 7,
	FLOW_CAPPED = 1U << 8,	 /* the per-flow byte cap was hit */
	FLOW_FINISHED = 1U << 9, /* nothing more to learn: a tombstone */
};

/* A finished flow is kept this long (boot clock) so that records already
 * in flight when sampling stopped find it and are ignored, rather than
 * starting a new flow in mid-stream. */
#define FLOW_FINISHED_GRACE_NS (2ULL * 1000000000ULL)

struct ooo_seg {
	struct ooo_seg *next;
	uint32_t seq; /* host order */
	uint32_t len;
	uint8_t data[];
};

struct flow_dir {
	uint32_t next; /* next expected seq, host order */
	uint32_t high; /* highest seq + len seen, host order */
	bool started;  /* next is meaningful */
	uint8_t n_ooo;
	uint32_t ooo_bytes;
	struct ooo_seg *ooo; /* sorted by seq */
	/* Client bytes delivered that the server has not acknowledged yet
	 * (as far as the daemon saw): a copy of them arriving again must
	 * carry the same bytes. */
	uint8_t *unacked;
	uint32_t unacked_seq, unacked_len, unacked_cap;
};

struct flow_lru {
	struct flow_lru *prev, *next;
};

struct flow {
	struct flow_lru lru; /* first: LRU order, head least recently used */
	struct flow *hnext;  /* hash chain */
	struct rg_flow_key key;
	uint32_t hash;
	uint32_t state;			 /* enum flow_state */
	uint32_t client_isn, server_isn; /* host order */
	uint64_t first_ns, last_ns;
	struct flow_dir dir[2]; /* RG_DIR_IN, RG_DIR_OUT */
	uint8_t *samples;	/* kept sample records, 8-byte aligned */
	uint32_t samples_len, samples_cap;
	uint16_t n_samples;
	uint32_t kept_payload[2];
	uint64_t user[]; /* caller state, user_size bytes */
};

struct flow_stats {
	uint64_t created, active, evicted_cap, idle, out_of_order, retransmits,
		gaps, bytes_dropped_cap, unverified, finished;
	uint64_t evicted_unverified; /* of evicted_cap: handshake unverified */
};

/* In-order data of one direction, or a gap (data NULL, len lost bytes or
 * 0 when unknown). */
typedef void (*flow_deliver_fn)(void *ctx, struct flow *f, int dir,
				const uint8_t *data, size_t len);
/* A flow leaves the table (idle, evicted, deleted): free user state. */
typedef void (*flow_release_fn)(void *ctx, struct flow *f);
/* Two copies of the same client bytes differ: what the MTA reads is not
 * what was delivered (a decoy with a bad checksum, an overlapping
 * retransmission). */
typedef void (*flow_conflict_fn)(void *ctx, struct flow *f, int dir);

struct flow_table_params {
	unsigned int max_flows;
	unsigned int max_bytes; /* buffered out-of-order bytes per direction */
	unsigned int sample_bytes; /* payload bytes kept per direction */
	bool keep_samples;
	size_t user_size;
	flow_deliver_fn deliver;
	flow_release_fn release;
	flow_conflict_fn conflict;
	void *ctx;
};

struct flow_table;

struct flow_table *flow_table_new(const struct flow_table_params *params);
void flow_table_free(struct flow_table *t);
/* Adjust caps (a smaller max_flows evicts on the next insertions). */
void flow_table_set_limits(struct flow_table *t, unsigned int max_flows,
			   unsigned int max_bytes, unsigned int sample_bytes,
			   bool keep_samples);
/* Find key; with create, insert a zeroed flow (evicting the least recently
 * used at the cap). Touches the flow's LRU position and last_ns. */
struct flow *flow_get(struct flow_table *t, const struct rg_flow_key *key,
		      uint64_t now_ns, bool create, bool *created);
void flow_delete(struct flow_table *t, struct flow *f);
/* A key that names a client endpoint only (port 0: the address alone),
 * for the tables kept per source or per session on a flow table. */
void flow_key_client(struct rg_flow_key *key, const struct prefix *client,
		     uint16_t client_port);
/* The flow has told all it will: free its buffers and samples (the
 * release callback runs now), keep a small tombstone for
 * FLOW_FINISHED_GRACE_NS. flow_get() still finds it (state has
 * FLOW_FINISHED); such flows are evicted first at the cap. */
void flow_finish(struct flow_table *t, struct flow *f, uint64_t now_ns);
/* Release flows idle for idle_ns or more, and finished flows past their
 * grace. */
void flow_expire(struct flow_table *t, uint64_t now_ns, uint64_t idle_ns);
const struct flow_stats *flow_table_stats(const struct flow_table *t);

/* Handshake bookkeeping of one record (flags, seq/ack host order).
 * Only the server confirms: its SYN-ACK names the client ISN it answers;
 * a client SYN after it changes nothing. Returns true when this record
 * verified the flow. */
bool flow_track(struct flow *f, int dir, uint8_t tcp_flags, uint32_t seq,
		uint32_t ack);
/* Payload of one record: delivers what is in order (and what it unblocks)
 * through params.deliver; holds out-of-order bytes within the caps. */
void flow_segment(struct flow_table *t, struct flow *f, int dir, uint32_t seq,
		  const uint8_t *data, size_t len);
/* Give up waiting for holes in dir: deliver a gap then what is held. */
void flow_flush(struct flow_table *t, struct flow *f, int dir);
/* A record of dir acks (host order) bytes of the other direction that
 * were never sampled (budget spent, ring full): they are gone for good, as
 * the peer has them. Delivers a gap for that direction, once per loss
 * (verified flows only). The server's every byte is sampled: a client ack
 * beyond them is forged and only flushes a hole below what was seen. */
void flow_acked(struct flow_table *t, struct flow *f, int dir, uint32_t ack);
/* The server acknowledges client bytes up to ack: their copy is let go. */
void flow_server_acked(struct flow *f, uint32_t ack);
/* Client bytes before seq were not sampled (a message body): the stream
 * goes on at seq, no gap delivered; bytes held past it wait for
 * flow_drain. True when bytes were skipped. */
bool flow_skip(struct flow *f, int dir, uint32_t seq);
/* Deliver what is held and now in order. */
void flow_drain(struct flow_table *t, struct flow *f, int dir);
/* Keep a copy of a record for evidence (bounded). */
void flow_keep_sample(struct flow_table *t, struct flow *f,
		      const struct rg_sample *s);

/* Each sample kept for a flow, in arrival order (evidence pcaps). */
typedef void (*flow_sample_cb)(const struct rg_sample *s, void *ctx);
void flow_for_each_sample(const struct flow *f, flow_sample_cb cb, void *ctx);

static inline void *flow_user(struct flow *f)
{
	return f->user;
}

static inline bool flow_verified(const struct flow *f)
{
	return f->state & FLOW_VERIFIED;
}

#endif
