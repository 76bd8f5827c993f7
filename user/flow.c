// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Flow table and reassembly: see flow.h. A chained hash table with a
 * seeded hash (the 4-tuple is chosen by the remote side) and LRU lists
 * that give both the idle order and the eviction order: finished flows,
 * then flows whose handshake is unverified (all that spoofed sources can
 * make: a flood of them only churns among themselves), then verified. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "flow.h"

struct flow_table {
	struct flow_table_params p;
	struct flow **buckets;
	uint32_t mask;
	uint64_t seed;
	struct flow_lru
		lru; /* verified flows; sentinel: lru.next is the oldest */
	struct flow_lru fresh; /* handshake not verified yet, oldest first */
	struct flow_lru done;  /* finished flows, oldest first */
	struct flow_stats st;
};

/* lru is the first member of struct flow */
static inline struct flow *lru_flow(struct flow_lru *l)
{
	return (struct flow *)l;
}

static uint32_t key_hash(const struct flow_table *t,
			 const struct rg_flow_key *k)
{
	uint64_t w[sizeof(*k) / 8], h = t->seed;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / 8; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

/* Buckets for about `flows` entries: the table starts small (a sparse
 * array of max_flows buckets would cost a cache miss per lookup) and
 * doubles as flows arrive. */
static int alloc_buckets(struct flow_table *t, unsigned int flows)
{
	struct flow **nb, *f, *next;
	uint32_t n = 1024, i;

	while (n < flows && n < (1U << 26))
		n <<= 1;
	if (t->buckets && n <= t->mask + 1)
		return 0;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	if (t->buckets) {
		for (i = 0; i <= t->mask; i++) {
			for (f = t->buckets[i]; f; f = next) {
				next = f->hnext;
				f->hnext = nb[f->hash & (n - 1)];
				nb[f->hash & (n - 1)] = f;
			}
		}
		free(t->buckets);
	}
	t->buckets = nb;
	t->mask = n - 1;
	return 0;
}

struct flow_table *flow_table_new(const struct flow_table_params *params)
{
	struct flow_table *t;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->p = *params;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed))
		t->seed = (uintptr_t)t ^ 0x5bd1e9955bd1e995ULL;
	t->lru.next = t->lru.prev = &t->lru;
	t->fresh.next = t->fresh.prev = &t->fresh;
	t->done.next = t->done.prev = &t->done;
	if (alloc_buckets(t, 1024)) {
		free(t);
		return NULL;
	}
	return t;
}

static void free_ooo(struct flow_dir *d)
{
	struct ooo_seg *s, *next;

	for (s = d->ooo; s; s = next) {
		next = s->next;
		free(s);
	}
	d->ooo = NULL;
	d->n_ooo = 0;
	d->ooo_bytes = 0;
	free(d->unacked);
	d->unacked = NULL;
	d->unacked_len = d->unacked_cap = 0;
}

static void unlink_flow(struct flow_table *t, struct flow *f)
{
	struct flow **pp = &t->buckets[f->hash & t->mask];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	f->lru.prev->next = f->lru.next;
	f->lru.next->prev = f->lru.prev;
}

void flow_delete(struct flow_table *t, struct flow *f)
{
	if (t->p.release && !(f->state & FLOW_FINISHED))
		t->p.release(t->p.ctx, f);
	unlink_flow(t, f);
	free_ooo(&f->dir[0]);
	free_ooo(&f->dir[1]);
	free(f->samples);
	free(f);
	t->st.active--;
}

void flow_key_client(struct rg_flow_key *key, const struct prefix *client,
		     uint16_t client_port)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->client, client->addr, sizeof(key->client));
	key->client_port = client_port;
	key->family = client->family;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	while (t->lru.next != &t->lru)
		flow_delete(t, lru_flow(t->lru.next));
	while (t->fresh.next != &t->fresh)
		flow_delete(t, lru_flow(t->fresh.next));
	while (t->done.next != &t->done)
		flow_delete(t, lru_flow(t->done.next));
	free(t->buckets);
	free(t);
}

void flow_table_set_limits(struct flow_table *t, unsigned int max_flows,
			   unsigned int max_bytes, unsigned int sample_bytes,
			   bool keep_samples)
{
	t->p.max_flows = max_flows;
	t->p.max_bytes = max_bytes;
	t->p.sample_bytes = sample_bytes;
	t->p.keep_samples = keep_samples;
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->st;
}

static void list_append(struct flow_lru *head, struct flow *f)
{
	f->lru.prev = head->prev;
	f->lru.next = head;
	head->prev->next = &f->lru;
	head->prev = &f->lru;
}

/* A flow verified since its last record moves to the verified list
 * here, on its next record (the server's greeting follows the handshake
 * within a round trip). */
static void lru_touch(struct flow_table *t, struct flow *f)
{
	f->lru.prev->next = f->lru.next;
	f->lru.next->prev = f->lru.prev;
	list_append(flow_verified(f) ? &t->lru : &t->fresh, f);
}

void flow_finish(struct flow_table *t, struct flow *f, uint64_t now_ns)
{
	if (f->state & FLOW_FINISHED)
		return;
	if (t->p.release)
		t->p.release(t->p.ctx, f);
	f->state |= FLOW_FINISHED;
	f->last_ns = now_ns;
	free_ooo(&f->dir[0]);
	free_ooo(&f->dir[1]);
	free(f->samples);
	f->samples = NULL;
	f->samples_len = f->samples_cap = 0;
	f->lru.prev->next = f->lru.next;
	f->lru.next->prev = f->lru.prev;
	list_append(&t->done, f);
	t->st.finished++;
}

/* The flow to evict at the cap: a finished one first, then an unverified
 * one, the least recently seen of its kind. */
static struct flow *victim(struct flow_table *t)
{
	if (t->done.next != &t->done)
		return lru_flow(t->done.next);
	if (t->fresh.next != &t->fresh)
		return lru_flow(t->fresh.next);
	if (t->lru.next != &t->lru)
		return lru_flow(t->lru.next);
	return NULL;
}

struct flow *flow_get(struct flow_table *t, const struct rg_flow_key *key,
		      uint64_t now_ns, bool create, bool *created)
{
	uint32_t h = key_hash(t, key);
	struct flow *f;

	if (created)
		*created = false;
	for (f = t->buckets[h & t->mask]; f; f = f->hnext) {
		if (f->hash == h && !memcmp(&f->key, key, sizeof(*key))) {
			if (!(f->state & FLOW_FINISHED)) {
				f->last_ns = now_ns;
				lru_touch(t, f);
			}
			return f;
		}
	}
	if (!create)
		return NULL;
	while (t->st.active >= t->p.max_flows && (f = victim(t))) {
		if (!(f->state & FLOW_FINISHED))
			t->st.evicted_cap++;
		if (!(f->state & (FLOW_FINISHED | FLOW_VERIFIED)))
			t->st.evicted_unverified++;
		flow_delete(t, f);
	}
	f = calloc(1, sizeof(*f) + t->p.user_size);
	if (!f)
		return NULL;
	f->key = *key;
	f->hash = h;
	f->first_ns = f->last_ns = now_ns;
	f->hnext = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = f;
	list_append(&t->fresh, f);
	t->st.created++;
	t->st.active++;
	if (t->st.active > t->mask + 1)
		alloc_buckets(t, (t->mask + 1) *
					 2); /* on failure: longer chains */
	if (created)
		*created = true;
	return f;
}

static void expire_list(struct flow_table *t, struct flow_lru *head,
			uint64_t now_ns, uint64_t idle_ns)
{
	struct flow *f;

	while (head->next != head &&
	       (f = lru_flow(head->next))->last_ns + idle_ns <= now_ns) {
		t->st.idle++;
		if (!(f->state & FLOW_VERIFIED))
			t->st.unverified++;
		flow_delete(t, f);
	}
}

void flow_expire(struct flow_table *t, uint64_t now_ns, uint64_t idle_ns)
{
	struct flow *f;

	while (t->done.next != &t->done &&
	       (f = lru_flow(t->done.next))->last_ns + FLOW_FINISHED_GRACE_NS <=
		       now_ns)
		flow_delete(t, f);
	expire_list(t, &t->fresh, now_ns, idle_ns);
	expire_list(t, &t->lru, now_ns, idle_ns);
}

bool flow_track(struct flow *f, int dir, uint8_t tcp_flags, uint32_t seq,
		uint32_t ack)
{
	struct flow_dir *in = &f->dir[RG_DIR_IN], *out = &f->dir[RG_DIR_OUT];
	uint32_t acked, sent;

	if (dir == RG_DIR_IN &&
	    (tcp_flags & (RG_TCP_SYN | RG_TCP_ACK)) == RG_TCP_SYN) {
		/* a SYN after the server answered one is not acted on (Linux
		 * sends a challenge ACK): it changes nothing */
		if (f->state & (FLOW_SEEN_SYN | FLOW_SEEN_SYNACK))
			return false;
		f->client_isn = seq;
		f->state |= FLOW_SEEN_SYN;
		in->next = in->high = seq + 1;
		in->started = true;
		return false;
	}
	if (dir == RG_DIR_OUT && (tcp_flags & (RG_TCP_SYN | RG_TCP_ACK)) ==
					 (RG_TCP_SYN | RG_TCP_ACK)) {
		if (!(f->state & FLOW_SEEN_SYNACK)) {
			/* the SYN the server answers is the connection's, the
			 * first one sampled or not */
			f->client_isn = ack - 1;
			f->state |= FLOW_SEEN_SYN | FLOW_SEEN_SYNACK;
			if (!in->started || in->next == in->high) {
				in->next = in->high = ack;
				in->started = true;
			}
			f->server_isn = seq;
			out->next = out->high = seq + 1;
			out->started = true;
		}
		return false;
	}
	if (dir != RG_DIR_IN || !(tcp_flags & RG_TCP_ACK) ||
	    (f->state & (FLOW_VERIFIED | FLOW_BAD_HANDSHAKE)) ||
	    !(f->state & FLOW_SEEN_SYNACK))
		return false;
	/* The client acknowledges the server's ISN + 1, or server bytes we
	 * saw after it: only a host that received the SYN-ACK knows them. */
	acked = ack - (f->server_isn + 1);
	sent = out->high - (f->server_isn + 1);
	if (acked > sent)
		return false;
	f->state |= FLOW_VERIFIED;
	return true;
}

/* Keep a copy of client bytes until the server acknowledges them, within
 * max_bytes (the oldest go first). */
static void keep_unacked(struct flow_table *t, struct flow_dir *d, uint32_t seq,
			 const uint8_t *data, size_t len)
{
	uint32_t cap = t->p.max_bytes, drop, ncap;
	uint8_t *nb;

	if (!cap || !len)
		return;
	if (!d->unacked_len || d->unacked_seq + d->unacked_len != seq) {
		d->unacked_seq = seq;
		d->unacked_len = 0;
	}
	if (len > cap) {
		data += len - cap;
		seq += len - cap;
		len = cap;
		d->unacked_seq = seq;
		d->unacked_len = 0;
	}
	if (d->unacked_len + len > cap) {
		drop = d->unacked_len + len - cap;
		memmove(d->unacked, d->unacked + drop, d->unacked_len - drop);
		d->unacked_len -= drop;
		d->unacked_seq += drop;
	}
	if (d->unacked_len + len > d->unacked_cap) {
		ncap = d->unacked_cap ? d->unacked_cap : 128;
		while (ncap < d->unacked_len + len)
			ncap *= 2;
		nb = realloc(d->unacked, ncap);
		if (!nb) {
			d->unacked_len = 0;
			return;
		}
		d->unacked = nb;
		d->unacked_cap = ncap;
	}
	memcpy(d->unacked + d->unacked_len, data, len);
	d->unacked_len += len;
}

void flow_server_acked(struct flow *f, uint32_t ack)
{
	struct flow_dir *d = &f->dir[RG_DIR_IN];
	uint32_t n = ack - d->unacked_seq;

	if (!d->unacked_len || (int32_t)(ack - d->unacked_seq) <= 0)
		return;
	if (n >= d->unacked_len) {
		d->unacked_len = 0; /* the buffer stays for the next command */
		return;
	}
	memmove(d->unacked, d->unacked + n, d->unacked_len - n);
	d->unacked_len -= n;
	d->unacked_seq = ack;
}

/* Does data (len bytes at seq) agree with the bytes of [a_seq, a_seq +
 * a_len) where they overlap? */
static bool same_bytes(uint32_t seq, const uint8_t *data, size_t len,
		       uint32_t a_seq, const uint8_t *a, uint32_t a_len)
{
	uint32_t from, to, n;

	if (!len || !a_len)
		return true;
	from = (int32_t)(seq - a_seq) > 0 ? seq : a_seq;
	to = (int32_t)(seq + len - (a_seq + a_len)) < 0 ? seq + len
							: a_seq + a_len;
	n = to - from;
	/* seq arithmetic across a wrap can order them wrong: check bounds */
	if ((int32_t)n <= 0 || from - seq + n > len || from - a_seq + n > a_len)
		return true;
	return !memcmp(data + (from - seq), a + (from - a_seq), n);
}

static void conflict(struct flow_table *t, struct flow *f, int dir)
{
	if (t->p.conflict)
		t->p.conflict(t->p.ctx, f, dir);
}

/* A copy of bytes already delivered: it must carry the same bytes. */
static void check_redelivery(struct flow_table *t, struct flow *f, int dir,
			     uint32_t seq, const uint8_t *data, size_t len)
{
	struct flow_dir *d = &f->dir[dir];

	if (dir == RG_DIR_IN && !same_bytes(seq, data, len, d->unacked_seq,
					    d->unacked, d->unacked_len))
		conflict(t, f, dir);
}

static void deliver(struct flow_table *t, struct flow *f, int dir,
		    const uint8_t *data, size_t len)
{
	if (dir == RG_DIR_IN && data)
		keep_unacked(t, &f->dir[dir], f->dir[dir].next - len, data,
			     len);
	if (t->p.deliver)
		t->p.deliver(t->p.ctx, f, dir, data, len);
}

/* Deliver held segments that are now in order. */
static void drain(struct flow_table *t, struct flow *f, int dir)
{
	struct flow_dir *d = &f->dir[dir];
	struct ooo_seg *s;
	uint32_t skip;

	while ((s = d->ooo) && (int32_t)(s->seq - d->next) <= 0) {
		d->ooo = s->next;
		d->n_ooo--;
		d->ooo_bytes -= s->len;
		skip = d->next - s->seq;
		check_redelivery(t, f, dir, s->seq, s->data,
				 skip < s->len ? skip : s->len);
		if (skip < s->len) {
			d->next += s->len - skip;
			deliver(t, f, dir, s->data + skip, s->len - skip);
		}
		free(s);
	}
}

void flow_drain(struct flow_table *t, struct flow *f, int dir)
{
	drain(t, f, dir);
}

bool flow_skip(struct flow *f, int dir, uint32_t seq)
{
	struct flow_dir *d = &f->dir[dir];
	struct ooo_seg *s;

	if (!d->started || (int32_t)(seq - d->next) <= 0)
		return false;
	while ((s = d->ooo) && (int32_t)(s->seq + s->len - seq) <= 0) {
		d->ooo = s->next;
		d->n_ooo--;
		d->ooo_bytes -= s->len;
		free(s);
	}
	d->next = seq;
	if ((int32_t)(seq - d->high) > 0)
		d->high = seq;
	return true;
}

void flow_flush(struct flow_table *t, struct flow *f, int dir)
{
	struct flow_dir *d = &f->dir[dir];
	uint32_t lost;

	if (!d->ooo)
		return;
	lost = d->ooo->seq - d->next;
	t->st.gaps++;
	f->state |= FLOW_GAP;
	deliver(t, f, dir, NULL, lost);
	d->next = d->ooo->seq;
	drain(t, f, dir);
}

void flow_acked(struct flow_table *t, struct flow *f, int dir, uint32_t ack)
{
	int peer = dir == RG_DIR_IN ? RG_DIR_OUT : RG_DIR_IN;
	struct flow_dir *d = &f->dir[peer];

	if (!(f->state & FLOW_VERIFIED) || !d->started)
		return;
	if (dir == RG_DIR_IN) {
		if (d->ooo && (int32_t)(ack - d->next) > 0)
			flow_flush(t, f, peer);
		return;
	}
	if ((int32_t)(ack - d->high) <= 0)
		return;
	flow_flush(t, f, peer);
	t->st.gaps++;
	f->state |= FLOW_GAP;
	deliver(t, f, peer, NULL, ack - d->high);
	d->next = d->high = ack;
}

static int hold(struct flow_table *t, struct flow *f, int dir, uint32_t seq,
		const uint8_t *data, size_t len)
{
	struct flow_dir *d = &f->dir[dir];
	struct ooo_seg *s, **pp;

	for (s = d->ooo; s && dir == RG_DIR_IN; s = s->next)
		if (!same_bytes(seq, data, len, s->seq, s->data, s->len))
			conflict(t, f, dir);

	s = malloc(sizeof(*s) + len);
	if (!s)
		return -ENOMEM;
	s->seq = seq;
	s->len = len;
	memcpy(s->data, data, len);
	for (pp = &d->ooo; *pp && (int32_t)((*pp)->seq - seq) <= 0;
	     pp = &(*pp)->next)
		;
	s->next = *pp;
	*pp = s;
	d->n_ooo++;
	d->ooo_bytes += len;
	t->st.out_of_order++;
	return 0;
}

void flow_segment(struct flow_table *t, struct flow *f, int dir, uint32_t seq,
		  const uint8_t *data, size_t len)
{
	struct flow_dir *d = &f->dir[dir];
	uint32_t end = seq + len, skip;

	if (!len)
		return;
	if (!d->started) {
		/* picked up mid-stream: start where the first bytes are */
		d->next = d->high = seq;
		d->started = true;
	}
	if ((int32_t)(end - d->high) > 0)
		d->high = end;
	if ((int32_t)(seq - d->next) <= 0) {
		skip = d->next - seq;
		check_redelivery(t, f, dir, seq, data, skip < len ? skip : len);
		if ((int32_t)(end - d->next) <= 0) {
			t->st.retransmits++;
			return;
		}
		d->next = end;
		deliver(t, f, dir, data + skip, len - skip);
		drain(t, f, dir);
		return;
	}
	if (d->n_ooo >= FLOW_OOO_MAX_SEGS ||
	    d->ooo_bytes + len > t->p.max_bytes) {
		/* the hole is not filling within the caps: give up on it */
		f->state |= FLOW_CAPPED;
		t->st.bytes_dropped_cap +=
			d->ooo ? d->ooo->seq - d->next : seq - d->next;
		flow_flush(t, f, dir);
		if ((int32_t)(seq - d->next) > 0 &&
		    (d->ooo_bytes + len > t->p.max_bytes || d->ooo)) {
			t->st.gaps++;
			deliver(t, f, dir, NULL, seq - d->next);
			d->next = seq;
		}
		flow_segment(t, f, dir, seq, data, len);
		return;
	}
	if (hold(t, f, dir, seq, data, len))
		t->st.bytes_dropped_cap += len;
}

/* Kept samples are stored without their flow key (the flow has it): the
 * other fields of struct rg_sample, copied to and from it by name. */
#define KEPT_FIELDS(X)                                                         \
	X(ts_ns) X(seq) X(ack) X(ifindex) X(payload_len) X(dir) X(tcp_flags)
#define KEPT_DECLARE(field) __typeof__(((struct rg_sample *)0)->field) field;

struct kept {
	KEPT_FIELDS(KEPT_DECLARE)
	uint8_t payload[];
};

#define KEPT_SIZE(len) ((sizeof(struct kept) + (len) + 7) & ~(size_t)7)

void flow_keep_sample(struct flow_table *t, struct flow *f,
		      const struct rg_sample *s)
{
	size_t need = KEPT_SIZE(s->payload_len);
	int dir = s->dir & 1;
	struct kept *k;
	uint32_t cap;
	uint8_t *nb;

	if (!t->p.keep_samples || f->n_samples >= FLOW_SAMPLES_MAX)
		return;
	if (s->payload_len &&
	    f->kept_payload[dir] + s->payload_len > t->p.sample_bytes)
		return;
	if (f->samples_len + need > f->samples_cap) {
		/* grow in 256-byte steps: most flows keep well under 1 KiB */
		cap = (f->samples_len + need + 255) & ~255U;
		nb = realloc(f->samples, cap);
		if (!nb)
			return;
		f->samples = nb;
		f->samples_cap = cap;
	}
	k = (struct kept *)(f->samples + f->samples_len);
#define KEPT_SAVE(field) k->field = s->field;
	KEPT_FIELDS(KEPT_SAVE)
	memcpy(k->payload, s->payload, s->payload_len);
	f->samples_len += need;
	f->kept_payload[dir] += s->payload_len;
	f->n_samples++;
}

void flow_for_each_sample(const struct flow *f, flow_sample_cb cb, void *ctx)
{
	union {
		struct rg_sample s;
		uint8_t bytes[sizeof(struct rg_sample) + 65536];
	} * rec;
	const struct kept *k;
	uint32_t off = 0;

	if (!f->samples_len)
		return;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return;
	while (off < f->samples_len) {
		k = (const struct kept *)(f->samples + off);
		memset(&rec->s, 0, sizeof(rec->s));
		rec->s.flow = f->key;
#define KEPT_RESTORE(field) rec->s.field = k->field;
		KEPT_FIELDS(KEPT_RESTORE)
		memcpy(rec->s.payload, k->payload, k->payload_len);
		cb(&rec->s, ctx);
		off += KEPT_SIZE(k->payload_len);
	}
	free(rec);
}
