/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-flow sampling into the `samples` ring buffer, shared by the XDP
 * (RG_DIR_IN) and TC (RG_DIR_OUT) programs. A record of up to
 * RG_SAMPLE_SMALL payload bytes (a command, a reply) is written in place
 * at a fixed size; a longer one is built in a per-CPU scratch buffer and
 * copied with bpf_ringbuf_output at its exact size, so a body segment
 * costs its length of ring, not a fixed maximum. */
#ifndef RG_BPF_SAMPLE_H
#define RG_BPF_SAMPLE_H

#include "flowtable.h"
#include "maps.h"
#include "parsing.h"

/* Records one packet may produce (longer payload: the rest unsampled). */
#define RG_SAMPLE_MAX_CHUNKS 8

struct rg_sample_ctx {
	void *ctx; /* struct xdp_md or struct __sk_buff */
	struct rg_stats *st;
	__u64 now;
	__u32 ifindex;
	__u8 dir;
};

/* Copy len bytes at off from an XDP packet into the record being built in
 * pc, 8 bytes at a time, straight from the packet: bpf_xdp_load_bytes
 * costs ~28 ns a call, more than the rest of a sampled packet. A global
 * function, so the verifier checks its loops once, not once per caller
 * state. Returns 0 or -1. */
__attribute__((noinline)) int
rg_xdp_copy(struct xdp_md *ctx, struct rg_percpu *pc, __u32 off, __u32 len)
{
	void *end, *src;
	__u32 i, j;
	__u8 *dst;
	__u64 o;

	if (!ctx || !pc)
		return -1;
	end = (void *)(long)ctx->data_end;
	src = (void *)(long)ctx->data;
	dst = pc->rec + sizeof(struct rg_sample);
	/* XDP data is one page: a tight bound lets the verifier track src */
	if (off > 0x3fff || len > RG_SAMPLE_PAYLOAD_MAX)
		return -1;
	o = off;
	asm volatile("%0 &= 0x3fff" : "+r"(o)); /* no-op the compiler keeps */
	src += o;
#pragma clang loop unroll(disable)
	for (i = 0; i < RG_SAMPLE_PAYLOAD_MAX / 8; i++) {
		if (i * 8 + 8 > len)
			break;
		if (src + 8 > end)
			return -1;
		*(__u64 *)(dst + i * 8) = *(__u64 *)src;
		src += 8;
	}
#pragma clang loop unroll(disable)
	for (j = 0; j < 7; j++) {
		if (i * 8 + j >= len)
			break;
		if (src + 1 > end)
			return -1;
		dst[i * 8 + j] = *(__u8 *)src;
		src++;
	}
	return 0;
}

/* Fewer than 8 bytes (QUIT, a bare line end) at the end of a packet: the
 * 8 bytes that end where they end (headers precede them), shifted down. */
static __always_inline int rg_xdp_copy_tiny(struct xdp_md *ctx, __u8 *dst,
					    __u32 off, __u32 len)
{
	void *end = (void *)(long)ctx->data_end;
	void *src = (void *)(long)ctx->data;
	__u64 o = off + len - 8;

	if (off + len < 8 || o > 0x3fff || len > 7)
		return -1;
	asm volatile("%0 &= 0x3fff" : "+r"(o)); /* see rg_xdp_copy */
	src += o;
	if (src + 8 > end)
		return -1;
	*(__u64 *)dst = *(__u64 *)src >> (8 * (8 - len));
	return 0;
}

/* Payloads of up to RG_SAMPLE_SMALL bytes (an SMTP command line, a
 * reply) are copied inline into a record reserved in the ring: from 8
 * bytes on, 8 at a time and the last word overlapping the one before, so
 * no call into rg_xdp_copy and no byte loop. Returns 0 or -1. */
static __always_inline int rg_xdp_copy_small(struct xdp_md *ctx, __u8 *dst,
					     __u32 off, __u32 len)
{
	void *end = (void *)(long)ctx->data_end;
	void *src = (void *)(long)ctx->data;
	__u64 o = off, t;
	__u32 i;

	if (len < 8)
		return rg_xdp_copy_tiny(ctx, dst, off, len);
	if (off > 0x3fff || len > RG_SAMPLE_SMALL)
		return -1;
	asm volatile("%0 &= 0x3fff" : "+r"(o)); /* see rg_xdp_copy */
	src += o;
#pragma unroll
	for (i = 0; i < RG_SAMPLE_SMALL / 8; i++) {
		if (i * 8 + 8 > len)
			break;
		if (src + i * 8 + 8 > end)
			return -1;
		*(__u64 *)(dst + i * 8) = *(__u64 *)(src + i * 8);
	}
	t = len - 8;
	asm volatile("%0 &= %1" : "+r"(t) : "i"(RG_SAMPLE_SMALL - 1));
	if (t > RG_SAMPLE_SMALL - 8)
		return -1;
	src += t;
	if (src + 8 > end)
		return -1;
	*(__u64 *)(dst + t) = *(__u64 *)src;
	return 0;
}

static __always_inline long load_payload(struct rg_sample_ctx *sc,
					 struct rg_percpu *pc, __u32 off,
					 __u32 len)
{
	struct rg_sample *s = (struct rg_sample *)pc->rec;

	if (sc->dir == RG_DIR_IN)
		return rg_xdp_copy(sc->ctx, pc, off, len);
	return bpf_skb_load_bytes(sc->ctx, off, s->payload, len);
}

static __always_inline long load_small(struct rg_sample_ctx *sc, __u8 *dst,
				       __u32 off, __u32 len)
{
	__u64 n = len;

	if (sc->dir == RG_DIR_IN)
		return rg_xdp_copy_small(sc->ctx, dst, off, len);
	/* bounds n for the verifier, as in emit_record */
	asm volatile("%0 &= %1" : "+r"(n) : "i"(2 * RG_SAMPLE_SMALL - 1));
	if (!n || n > RG_SAMPLE_SMALL)
		return -1;
	return bpf_skb_load_bytes(sc->ctx, off, dst, n);
}

static __always_inline void count_record(struct rg_sample_ctx *sc, long err,
					 __u32 len)
{
	if (sc->dir == RG_DIR_IN) {
		if (err) {
			sc->st->sample_ringbuf_full++;
			return;
		}
		sc->st->sample_records++;
		sc->st->sample_bytes += len;
	} else {
		if (err) {
			sc->st->egress_ringbuf_full++;
			return;
		}
		sc->st->egress_sample_records++;
		sc->st->egress_sample_bytes += len;
	}
}

static __always_inline void fill_header(struct rg_sample *s,
					struct rg_sample_ctx *sc,
					const struct rg_flow_key *key,
					const struct rg_pkt *p, __u32 off)
{
	s->ts_ns = sc->now;
	s->flow = *key;
	s->seq = bpf_htonl(bpf_ntohl(p->seq) + off);
	s->ack = p->ack;
	s->dir = sc->dir;
	s->tcp_flags = p->tcp_flags;
	s->ifindex = sc->ifindex;
}

/* A record without payload (SYN, SYN-ACK, FIN, RST, handshake ACK):
 * fixed size, so written in place in the ring, no copy. */
static __always_inline void emit_control(struct rg_sample_ctx *sc,
					 const struct rg_flow_key *key,
					 const struct rg_pkt *p)
{
	struct rg_sample *s;

	s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		count_record(sc, -1, 0);
		return;
	}
	fill_header(s, sc, key, p, 0);
	s->payload_len = 0;
	bpf_ringbuf_submit(s, 0);
	count_record(sc, 0, 0);
}

/* One record: header plus payload[off, off + len) of the TCP payload,
 * built in the per-CPU scratch and copied out at its exact length. */
static __always_inline int emit_record(struct rg_sample_ctx *sc,
				       const struct rg_flow_key *key,
				       const struct rg_pkt *p, __u32 off,
				       __u32 len)
{
	struct rg_percpu *buf;
	struct rg_sample *s;
	__u32 zero = 0;
	__u64 n;
	long err;

	buf = bpf_map_lookup_elem(&rg_scratch, &zero);
	if (!buf)
		return -1;
	s = (struct rg_sample *)buf->rec;
	fill_header(s, sc, key, p, off);
	if (len > RG_SAMPLE_PAYLOAD_MAX)
		len = RG_SAMPLE_PAYLOAD_MAX;
	/* A no-op the compiler cannot drop: bounds n for the verifier. */
	n = len;
	asm volatile("%0 &= %1" : "+r"(n) : "i"(RG_SCRATCH_PAYLOAD - 1));
	s->payload_len = n;
	if (!n || load_payload(sc, buf, p->payload_off + off, n) < 0)
		return -1;
	err = bpf_ringbuf_output(&samples, s, sizeof(*s) + n, 0);
	count_record(sc, err, n);
	return err ? -1 : 0;
}

/* A record of 1 to RG_SAMPLE_SMALL payload bytes, written in place in
 * the ring: reserve and submit cost ~20 ns less here than building the
 * record aside and copying it out with bpf_ringbuf_output. */
static __always_inline int emit_small(struct rg_sample_ctx *sc,
				      const struct rg_flow_key *key,
				      const struct rg_pkt *p, __u32 off,
				      __u32 len)
{
	struct rg_sample *s;

	s = bpf_ringbuf_reserve(&samples, RG_SAMPLE_SMALL_RECORD, 0);
	if (!s) {
		count_record(sc, -1, 0);
		return -1;
	}
	fill_header(s, sc, key, p, off);
	s->payload_len = len;
	if (load_small(sc, s->payload, p->payload_off + off, len) < 0) {
		bpf_ringbuf_discard(s, 0);
		return -1;
	}
	bpf_ringbuf_submit(s, 0);
	count_record(sc, 0, len);
	return 0;
}

/* Payload bytes [from, from + take) of this packet as records of at most
 * RG_SAMPLE_PAYLOAD_MAX bytes, seq advanced. Returns the bytes sampled. */
static __always_inline __u32 emit_payload(struct rg_sample_ctx *sc,
					  const struct rg_flow_key *key,
					  const struct rg_pkt *p, __u32 from,
					  __u32 take)
{
	__u32 done = 0, len;
	int i;

	if (take && take <= RG_SAMPLE_SMALL)
		return emit_small(sc, key, p, from, take) ? 0 : take;

	for (i = 0; i < RG_SAMPLE_MAX_CHUNKS; i++) {
		if (done >= take)
			break;
		len = take - done;
		if (len > RG_SAMPLE_PAYLOAD_MAX)
			len = RG_SAMPLE_PAYLOAD_MAX;
		if (emit_record(sc, key, p, from + done, len))
			break;
		done += len;
	}
	return done;
}

/* A packet without payload is worth a record when it opens or closes the
 * flow (SYN, SYN-ACK, FIN, RST) or, from the client, when it is an ACK
 * before any client payload (the handshake's last step, which proves the
 * client saw the server's ISN). */
static __always_inline int control_worth(const struct rg_pkt *p,
					 const struct rg_flow *f, __u8 dir)
{
	if (p->tcp_flags & (RG_TCP_SYN | RG_TCP_FIN | RG_TCP_RST))
		return 1;
	return dir == RG_DIR_IN && !(f->flags & RG_FLOW_SEEN_IN) &&
	       (p->tcp_flags & RG_TCP_ACK);
}

/* The client's connection attempt: SYN without ACK, RST or payload. It is
 * not sampled and makes no entry: the server's SYN-ACK (rg_tc_egress) or
 * the client's first payload makes the entry, and the SYN-ACK's record
 * carries all the daemon needs of the SYN (its ack is the client's ISN +
 * 1, and only a SYN the server answers can start a verified session). A
 * record costs more than the rest of a SYN's verdict (~35 ns of ~90 on
 * the benchmark machine, by ablation); a SYN flood
 * so costs no record and no flow lookup, and cannot take the slots of
 * live flows in `flows`. */
static __always_inline int client_syn(const struct rg_sample_ctx *sc,
				      const struct rg_pkt *p)
{
	return sc->dir == RG_DIR_IN && !p->payload_len &&
	       (p->tcp_flags & (RG_TCP_SYN | RG_TCP_ACK | RG_TCP_RST)) ==
		       RG_TCP_SYN;
}

/* The server's SYN-ACK opens a new connection on this 4-tuple: an entry
 * still there from an earlier one (stopped, budget spent) must not leave
 * the new session unsampled, or a client could reuse its source port to
 * slip a relay attempt past the daemon. Only the server sends it, and only
 * for a connection that is not established, so no client can reset a
 * session in progress this way. Its ack (the client's ISN + 1) opens the
 * client's window and is the server's first ack. */
static __always_inline void flow_restart_on_synack(struct rg_flow *f,
						   const struct rg_pkt *p)
{
	f->sampled_in = 0;
	f->sampled_out = 0;
	f->win_in = bpf_ntohl(p->ack);
	f->srv_ack = f->win_in;
	f->flags = RG_FLOW_WIN_IN | RG_FLOW_SRV_ACK;
}

/* The server's ack moves forward only (sequence arithmetic). Only egress
 * writes it: it is what the server holds, never what a client claims. */
static __always_inline void srv_ack_update(struct rg_flow *f,
					   const struct rg_pkt *p)
{
	__u32 ack = bpf_ntohl(p->ack);

	if ((p->tcp_flags & (RG_TCP_SYN | RG_TCP_ACK)) ==
	    (RG_TCP_SYN | RG_TCP_ACK)) {
		flow_restart_on_synack(f, p);
		return;
	}
	if (!(p->tcp_flags & RG_TCP_ACK))
		return;
	if (!(f->flags & RG_FLOW_SRV_ACK) || (__s32)(ack - f->srv_ack) > 0) {
		f->srv_ack = ack;
		f->flags |= RG_FLOW_SRV_ACK;
	}
}

/* A server reply while the client is paused answers the end of its
 * message body (or a BDAT chunk, or cuts it short): the next transaction
 * starts at the reply's ack. Resumed here, before the reply leaves the
 * gateway, so that no command the client sends on reading it can arrive
 * while sampling is still paused (the daemon's resume, at the same
 * position, would race it); the server sends nothing while it reads a
 * body, so no reply resumes early. */
static __always_inline void resume_on_reply(struct rg_flow *f,
					    const struct rg_pkt *p)
{
	if (!(f->flags & RG_FLOW_PAUSE_IN) || !p->payload_len ||
	    !(p->tcp_flags & RG_TCP_ACK))
		return;
	f->win_in = bpf_ntohl(p->ack);
	f->sampled_in = 0;
	f->flags = (f->flags & ~RG_FLOW_PAUSE_IN) | RG_FLOW_WIN_IN;
}

/* Budgets above this would break sequence arithmetic (2^31). */
#define RG_BUDGET_MAX (1U << 30)

/* Client payload: the part of [seq, seq + len) inside the transaction's
 * window [win_in, win_in + budget) and not below the server's ack.
 * Offsets are relative to win_in, so the window is [0, budget). The
 * budget is charged for new sequence space only (sampled_in is the
 * highest end sampled): retransmissions and reordered segments are free,
 * and a hole filler beyond srv_ack is still sampled. */
static __always_inline void sample_client(struct rg_sample_ctx *sc,
					  const struct rg_config *cfg,
					  const struct rg_flow_key *key,
					  struct rg_flow *f,
					  const struct rg_pkt *p)
{
	__u32 seq = bpf_ntohl(p->seq), budget, done;
	__s64 start, end, lo, hi, acked = 0;

	f->flags |= RG_FLOW_SEEN_IN;
	if (f->flags & RG_FLOW_STOP_IN) {
		sc->st->sample_stopped++;
		return;
	}
	if (f->flags & RG_FLOW_PAUSE_IN) {
		sc->st->sample_paused++;
		return;
	}
	if (!(f->flags & RG_FLOW_WIN_IN)) {
		f->win_in = seq;
		f->flags |= RG_FLOW_WIN_IN;
	}
	budget =
		cfg->sample_bytes ? cfg->sample_bytes : RG_DEFAULT_SAMPLE_BYTES;
	if (budget > RG_BUDGET_MAX)
		budget = RG_BUDGET_MAX;
	start = (__s32)(seq - f->win_in);
	end = start + p->payload_len;
	lo = start > 0 ? start : 0;
	if (f->flags & RG_FLOW_SRV_ACK) {
		acked = (__s32)(f->srv_ack - f->win_in);
		if (acked > lo)
			lo = acked;
	}
	hi = end < budget ? end : budget;
	if (lo >= hi) {
		if ((f->flags & RG_FLOW_SRV_ACK) && end <= acked)
			sc->st->sample_retrans++;
		else
			sc->st->sample_budget_done++;
		return;
	}
	done = emit_payload(sc, key, p, lo - start, hi - lo);
	/* A plain store, not an atomic (~5 ns): a flow's packets of one
	 * direction come in on one CPU (RSS, one queue per flow), and a
	 * store lost to a race only samples a few bytes more. */
	if (done && lo + done > f->sampled_in)
		f->sampled_in = lo + done;
}

/* Sample packet p of flow key, whose entry the caller may have found (f;
 * NULL: not looked up, or none). */
static __always_inline void sample_packet(struct rg_sample_ctx *sc,
					  const struct rg_config *cfg,
					  const struct rg_pkt *p,
					  const struct rg_flow_key *key,
					  struct rg_flow *f)
{
	if (cfg->flags & RG_CFG_SAMPLE_OFF || client_syn(sc, p))
		return;
	if (!f)
		f = flow_find_or_claim(key, p, cfg->hash_seed, sc->now,
				       sc->dir == RG_DIR_IN
					       ? &sc->st->flow_full
					       : &sc->st->egress_flow_full);
	if (!f)
		return;
	f->last_ns = sc->now;
	if (sc->dir == RG_DIR_OUT) {
		srv_ack_update(f, p);
		resume_on_reply(f, p);
	}
	if (f->flags & RG_FLOW_STOP) {
		if (!p->payload_len)
			return;
		if (sc->dir == RG_DIR_IN)
			sc->st->sample_stopped++;
		else
			sc->st->egress_stopped++;
		return;
	}
	if (!p->payload_len) {
		if (control_worth(p, f, sc->dir))
			emit_control(sc, key, p);
		return;
	}
	if (sc->dir == RG_DIR_IN) {
		sample_client(sc, cfg, key, f, p);
		return;
	}
	/* Server replies: all of them, no budget (sampled_out only counts). */
	f->sampled_out += emit_payload(sc, key, p, 0, p->payload_len);
}

#endif
