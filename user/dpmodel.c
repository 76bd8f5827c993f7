// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The data plane's sampling rules in C: see dpmodel.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "dpconfig.h"
#include "dpmodel.h"
#include "flow.h"

/* Records one packet's payload may fill (bpf/sample.h RG_SAMPLE_MAX_CHUNKS):
 * the rest of a larger (GRO) segment is not sampled. */
#define DP_MAX_CHUNKS 8

/* What the data plane keeps per flow (struct rg_flow) that decides what
 * it samples, emulated (its sampled_in/out counters decide nothing). */
struct dp_flow {
	uint32_t flags; /* enum rg_flow_flags (RG_FLOW_SEEN_IN included) */
	uint32_t win_in, srv_ack; /* host order */
	bool fin[2];
};

struct dpmodel {
	const struct rg_conf *conf;
	struct flow_table *flows; /* the data plane's `flows` */
	uint32_t sample_bytes;
	uint64_t now_ns;
	dpmodel_record_fn record;
	void *ctx;
};

/* A parsed TCP packet. */
struct pkt {
	struct rg_flow_key key;
	uint8_t dir;
	uint8_t flags;
	uint32_t seq, ack; /* network order */
	const uint8_t *payload;
	uint32_t len;
};

/* The next transaction's window starts at seq (flowmap_resume_client). */
static void resume(struct dp_flow *d, uint32_t seq)
{
	d->win_in = seq;
	d->flags = (d->flags & ~RG_FLOW_PAUSE_IN) | RG_FLOW_WIN_IN;
}

static struct dp_flow *dp_find(struct dpmodel *m, const struct rg_flow_key *key)
{
	struct flow *f = flow_get(m->flows, key, m->now_ns, false, NULL);

	return f ? flow_user(f) : NULL;
}

void dpmodel_stop(struct dpmodel *m, const struct rg_flow_key *key)
{
	struct dp_flow *d = dp_find(m, key);

	if (d)
		d->flags |= RG_FLOW_STOP;
}

void dpmodel_stop_client(struct dpmodel *m, const struct rg_flow_key *key)
{
	struct dp_flow *d = dp_find(m, key);

	if (d)
		d->flags |= RG_FLOW_STOP_IN;
}

void dpmodel_pause_client(struct dpmodel *m, const struct rg_flow_key *key)
{
	struct dp_flow *d = dp_find(m, key);

	if (d && !(d->flags & RG_FLOW_STOP))
		d->flags |= RG_FLOW_PAUSE_IN;
}

void dpmodel_resume_client(struct dpmodel *m, const struct rg_flow_key *key,
			   uint32_t seq)
{
	struct dp_flow *d = dp_find(m, key);

	if (d && !(d->flags & RG_FLOW_STOP))
		resume(d, seq);
}

static bool smtp_port(const struct rg_conf *c, uint16_t port_be)
{
	unsigned int i, n = c->dp.n_smtp_ports;

	if (!n)
		return port_be == htons(RG_DEFAULT_SMTP_PORT);
	for (i = 0; i < n && i < RG_MAX_SMTP_PORTS; i++)
		if (c->dp.smtp_ports[i] == port_be)
			return true;
	return false;
}

static int parse_tcp(struct dpmodel *m, const uint8_t *p, uint32_t len,
		     int family, const uint8_t *saddr, const uint8_t *daddr,
		     struct pkt *k)
{
	uint16_t sport, dport;
	uint32_t doff, alen = family == AF_INET ? 4 : 16;

	if (len < 20)
		return -EINVAL;
	doff = (p[12] >> 4) * 4;
	if (doff < 20 || doff > len)
		return -EINVAL;
	memcpy(&sport, p, 2);
	memcpy(&dport, p + 2, 2);
	memset(&k->key, 0, sizeof(k->key));
	k->key.family = family;
	if (smtp_port(m->conf, dport)) {
		k->dir = RG_DIR_IN;
		memcpy(k->key.client, saddr, alen);
		memcpy(k->key.server, daddr, alen);
		k->key.client_port = sport;
		k->key.server_port = dport;
	} else if (smtp_port(m->conf, sport)) {
		k->dir = RG_DIR_OUT;
		memcpy(k->key.client, daddr, alen);
		memcpy(k->key.server, saddr, alen);
		k->key.client_port = dport;
		k->key.server_port = sport;
	} else {
		return -ENOENT;
	}
	memcpy(&k->seq, p + 4, 4);
	memcpy(&k->ack, p + 8, 4);
	k->flags = p[13];
	k->payload = p + doff;
	k->len = len - doff;
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)p[0] << 8 | p[1];
}

static int parse_ip4(struct dpmodel *m, const uint8_t *p, uint32_t len,
		     struct pkt *k)
{
	uint32_t ihl, tot;

	if (len < 20 || (p[0] >> 4) != 4)
		return -EINVAL;
	ihl = (p[0] & 0xf) * 4;
	tot = be16(p + 2);
	if (ihl < 20 || tot < ihl || tot > len)
		return -EINVAL;
	if (p[9] != IPPROTO_TCP || ((p[6] & 0x1f) | p[7]))
		return -ENOENT; /* not TCP, or a non-first fragment */
	return parse_tcp(m, p + ihl, tot - ihl, AF_INET, p + 12, p + 16, k);
}

static int parse_ip6(struct dpmodel *m, const uint8_t *p, uint32_t len,
		     struct pkt *k)
{
	uint32_t plen, off = 40;
	uint8_t nh;

	if (len < 40 || (p[0] >> 4) != 6)
		return -EINVAL;
	plen = be16(p + 4);
	if (40 + plen > len)
		return -EINVAL;
	nh = p[6];
	/* hop-by-hop, routing, destination options */
	while ((nh == 0 || nh == 43 || nh == 60) && off + 8 <= 40 + plen) {
		nh = p[off];
		off += (p[off + 1] + 1) * 8;
	}
	if (nh != IPPROTO_TCP || off > 40 + plen)
		return -ENOENT;
	return parse_tcp(m, p + off, 40 + plen - off, AF_INET6, p + 8, p + 24,
			 k);
}

static int parse_l3(struct dpmodel *m, uint16_t proto, const uint8_t *p,
		    uint32_t len, struct pkt *k)
{
	if (proto == 0x0800)
		return parse_ip4(m, p, len, k);
	if (proto == 0x86dd)
		return parse_ip6(m, p, len, k);
	return -ENOENT;
}

static int parse_frame(struct dpmodel *m, int dlt, const uint8_t *p,
		       uint32_t len, struct pkt *k)
{
	uint16_t proto;
	uint32_t off;

	switch (dlt) {
	case DLT_EN10MB:
		if (len < 14)
			return -EINVAL;
		off = 12;
		proto = be16(p + off);
		while ((proto == 0x8100 || proto == 0x88a8) && off + 6 <= len) {
			off += 4;
			proto = be16(p + off);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:  /* EtherType in the last 2 of 16 bytes */
	case DLT_LINUX_SLL2: /* in the first 2 of 20 */
		off = dlt == DLT_LINUX_SLL ? 16 : 20;
		if (len < off)
			return -EINVAL;
		proto = be16(dlt == DLT_LINUX_SLL ? p + 14 : p);
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (len < 1)
			return -EINVAL;
		proto = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
		off = 0;
		break;
	default:
		return -ENOTSUP;
	}
	if (off > len)
		return -EINVAL;
	return parse_l3(m, proto, p + off, len - off, k);
}

static void feed(struct dpmodel *m, const struct pkt *k, uint32_t seq_off,
		 const uint8_t *payload, uint32_t n)
{
	union {
		struct rg_sample s;
		uint8_t bytes[sizeof(struct rg_sample) + RG_SAMPLE_PAYLOAD_MAX];
	} rec;
	struct rg_sample *s = &rec.s;

	memset(s, 0, sizeof(*s));
	s->ts_ns = m->now_ns;
	s->flow = k->key;
	s->seq = htonl(ntohl(k->seq) + seq_off);
	s->ack = k->ack;
	s->payload_len = n;
	s->dir = k->dir;
	s->tcp_flags = k->flags;
	if (n)
		memcpy(s->payload, payload, n);
	m->record(m->ctx, s, sizeof(*s) + n);
}

/* The kernel's entry lives on in `flows` until its slot is taken; here
 * it goes once the server ends the connection (its RST, or both FINs: a
 * client RST the server ignored leaves it, as in the kernel). The records
 * are the same: what follows a close is an ACK after client payload (no
 * record either way) or a retransmission (below srv_ack either way). Only
 * a new connection reusing the 4-tuple differs: it starts with a fresh
 * entry here, restarted by the SYN-ACK there. This keeps the replay's
 * memory to the open connections. */
static void closed(struct dpmodel *m, const struct pkt *k, struct dp_flow *d)
{
	struct flow *f;

	if (k->flags & RG_TCP_FIN)
		d->fin[k->dir] = true;
	if (!((k->flags & RG_TCP_RST) && k->dir == RG_DIR_OUT) &&
	    !(d->fin[0] && d->fin[1]))
		return;
	f = flow_get(m->flows, &k->key, m->now_ns, false, NULL);
	if (f)
		flow_delete(m->flows, f);
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Records for payload bytes [from, to) of this packet (offsets). */
static void emit_payload(struct dpmodel *m, const struct pkt *k, uint32_t from,
			 uint32_t to)
{
	uint32_t off, n;

	if (to - from > DP_MAX_CHUNKS * RG_SAMPLE_PAYLOAD_MAX)
		to = from + DP_MAX_CHUNKS * RG_SAMPLE_PAYLOAD_MAX;
	for (off = from; off < to; off += n) {
		n = to - off;
		if (n > RG_SAMPLE_PAYLOAD_MAX)
			n = RG_SAMPLE_PAYLOAD_MAX;
		feed(m, k, off, k->payload + off, n);
	}
}

/* The server's SYN-ACK restarts the entry; every server ACK moves srv_ack
 * forward. */
static void server_state(struct dp_flow *d, const struct pkt *k)
{
	uint32_t ack = ntohl(k->ack);

	if ((k->flags & (RG_TCP_SYN | RG_TCP_ACK)) ==
	    (RG_TCP_SYN | RG_TCP_ACK)) {
		memset(d, 0, sizeof(*d));
		d->win_in = ack;
		d->srv_ack = ack;
		d->flags = RG_FLOW_WIN_IN | RG_FLOW_SRV_ACK;
		return;
	}
	if ((k->flags & RG_TCP_ACK) &&
	    (!(d->flags & RG_FLOW_SRV_ACK) || seq_after(ack, d->srv_ack))) {
		d->srv_ack = ack;
		d->flags |= RG_FLOW_SRV_ACK;
	}
	/* a reply to a paused client ends its body (resume_on_reply) */
	if ((d->flags & RG_FLOW_PAUSE_IN) && k->len && (k->flags & RG_TCP_ACK))
		resume(d, ack);
}

/* Client payload: the part of the segment inside the transaction's window
 * [win_in, win_in + sample_bytes) and not below srv_ack (bytes the server
 * holds already), unless paused or stopped: the window is sequence space, so
 * retransmissions and reordered segments cost no budget. */
static void client_payload(struct dpmodel *m, const struct pkt *k,
			   struct dp_flow *d)
{
	uint32_t seq = ntohl(k->seq), from = seq, to = seq + k->len, wend;

	d->flags |= RG_FLOW_SEEN_IN;
	if (d->flags & (RG_FLOW_STOP_IN | RG_FLOW_PAUSE_IN))
		return;
	if (!(d->flags & RG_FLOW_WIN_IN)) {
		d->win_in = seq;
		d->flags |= RG_FLOW_WIN_IN;
	}
	wend = d->win_in + m->sample_bytes;
	if (seq_after(d->win_in, from))
		from = d->win_in;
	if ((d->flags & RG_FLOW_SRV_ACK) && seq_after(d->srv_ack, from))
		from = d->srv_ack;
	if (seq_after(to, wend))
		to = wend;
	if (!seq_after(to, from))
		return;
	emit_payload(m, k, from - seq, to - seq);
}

/* What the data plane (bpf/sample.h) samples of this packet: never the
 * client's bare SYN, which makes no flow entry either (client_syn); else
 * nothing without a flow entry (made by the server's SYN-ACK, another SYN
 * or payload, never by a RST) or once told to stop
 * (until the server's next SYN-ACK starts a new connection on the
 * 4-tuple); a SYN, FIN or RST, and the client's ACKs before its first
 * payload of a window (the handshake's proof); every server byte; client
 * payload as client_payload says, in records of at most
 * RG_SAMPLE_PAYLOAD_MAX bytes. */
static void sample(struct dpmodel *m, const struct pkt *k)
{
	bool create =
		(k->len || (k->flags & RG_TCP_SYN)) && !(k->flags & RG_TCP_RST);
	struct dp_flow *d;
	struct flow *f;

	if (k->dir == RG_DIR_IN && !k->len &&
	    (k->flags & (RG_TCP_SYN | RG_TCP_ACK | RG_TCP_RST)) == RG_TCP_SYN)
		return;
	f = flow_get(m->flows, &k->key, m->now_ns, create, NULL);
	if (!f)
		return;
	d = flow_user(f);
	if (k->dir == RG_DIR_OUT)
		server_state(d, k);
	if (d->flags & RG_FLOW_STOP) {
		closed(m, k, d);
		return;
	}
	if (!k->len) {
		if ((k->flags & (RG_TCP_SYN | RG_TCP_FIN | RG_TCP_RST)) ||
		    (k->dir == RG_DIR_IN && !(d->flags & RG_FLOW_SEEN_IN) &&
		     (k->flags & RG_TCP_ACK)))
			feed(m, k, 0, NULL, 0);
	} else if (k->dir == RG_DIR_OUT) {
		emit_payload(m, k, 0, k->len);
	} else {
		client_payload(m, k, d);
	}
	closed(m, k, d);
}

struct dpmodel *dpmodel_new(const struct rg_conf *conf, dpmodel_record_fn fn,
			    void *ctx)
{
	struct flow_table_params fp = {
		.max_flows = RG_MAX_FLOWS,
		.user_size = sizeof(struct dp_flow),
	};
	struct dpmodel *m = calloc(1, sizeof(*m));

	if (m)
		m->flows = flow_table_new(&fp);
	if (!m || !m->flows) {
		free(m);
		return NULL;
	}
	m->conf = conf;
	m->record = fn;
	m->ctx = ctx;
	m->sample_bytes = dpconfig_sample_bytes(&conf->dp);
	return m;
}

void dpmodel_free(struct dpmodel *m)
{
	if (m)
		flow_table_free(m->flows);
	free(m);
}

int dpmodel_frame(struct dpmodel *m, int dlt, const uint8_t *frame,
		  uint32_t len, uint64_t now_ns)
{
	struct pkt k;

	m->now_ns = now_ns;
	if (parse_frame(m, dlt, frame, len, &k))
		return 0;
	sample(m, &k);
	return 1;
}

void dpmodel_expire(struct dpmodel *m, uint64_t now_ns, uint64_t idle_ns)
{
	flow_expire(m->flows, now_ns, idle_ns);
}
