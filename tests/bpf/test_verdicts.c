// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguard's XDP and TC programs, table-driven through BPF_PROG_TEST_RUN:
 * {description, packets, map state, expected verdicts, expected counters}.
 * Each case loads a fresh skeleton (no pinning), writes its config and map
 * state, runs its packets, then compares every field of struct rg_stats
 * (summed over CPUs) with the expected deltas, and runs an optional check
 * (ban hit counters, ring buffer records). Needs root: exit 77 otherwise. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "bpf/pkt.h"
#include "clock.h"
#include "cpupin.h"
#include "flowmap.h"
#include "loader.h"
#include "relayguard.h"
#include "relayguard.skel.h"

#define MAX_STEPS 8
#define MAX_RECORDS 64
#define PROG_TC 1

/* Every field of struct rg_stats, in order, to print a mismatch by name. */
static const char *const stat_names[] = {
	"packets", "pass_not_smtp", "pass_unparsed", "pass_fragment",
	"pass_allow", "pass_smtp", "pass_monitor", "drop_deny", "drop_ban",
	"drop_syn_rate", "drop_syn_global", "monitor_deny", "monitor_ban",
	"monitor_syn_rate", "monitor_syn_global", "ban_expired",
	"ratelimit_full", "flow_full", "sample_records", "sample_bytes",
	"sample_ringbuf_full", "sample_budget_done", "sample_stopped",
	"egress_packets", "egress_smtp", "egress_sample_records",
	"egress_sample_bytes", "egress_ringbuf_full", "egress_budget_done",
	"egress_stopped", "egress_flow_full", "drop_frag_tiny",
	"monitor_frag_tiny", "sample_paused", "sample_retrans",
	"drop_frag_payload", "monitor_frag_payload", "acl_cached",
};
_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) ==
		       sizeof(struct rg_stats) / sizeof(__u64),
	       "stat_names must name every field of struct rg_stats");

struct step {
	struct pkt_spec pkt;
	int prog; /* 0: rg_xdp, PROG_TC: rg_tc_egress */
	int verdict; /* expected return value */
	int repeat; /* runs of this packet (0: 1), each must give verdict */
};

struct tcase {
	const char *name;
	struct rg_config cfg;
	void (*setup)(void);
	struct step steps[MAX_STEPS];
	struct rg_stats exp;
	void (*check)(void);
	/* exp.acl_cached is checked (the cases written before the marks
	 * leave it out) */
	int marks;
};

struct record {
	struct rg_sample hdr;
	uint8_t payload[RG_SAMPLE_PAYLOAD_MAX];
};

static struct {
	struct relayguard_bpf *skel;
	struct ring_buffer *rb;
	struct record rec[MAX_RECORDS];
	int n_rec;
	int bad_rec; /* records of an impossible size */
} fx;

/* ---- time, addresses, map state ---- */

static int map_fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

/* A ban expiring at expires_ns on the boot clock (0: permanent). */
static void ban4_until(const char *addr, __u64 expires_ns)
{
	struct rg_ban b = { .reason = RG_REASON_MANUAL };
	uint32_t key;

	assert_int_equal(inet_pton(AF_INET, addr, &key), 1);
	b.created_ns = boot_ns();
	b.expires_ns = expires_ns;
	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.bans4), &key,
					     &b, BPF_ANY), 0);
}

/* A ban expiring rel_s seconds from now (0: permanent; < 0: expired). */
static void ban4(const char *addr, int rel_s)
{
	ban4_until(addr, rel_s ? boot_ns() + (int64_t)rel_s * 1000000000LL : 0);
}

/* key: the already-masked prefix address, as user space stores it. */
static void ban6(const char *key_addr, int rel_s)
{
	struct rg_ban b = { .reason = RG_REASON_RELAY_ATTEMPT };
	struct rg_ip6 key;

	assert_int_equal(inet_pton(AF_INET6, key_addr, key.addr), 1);
	b.created_ns = boot_ns();
	if (rel_s)
		b.expires_ns = b.created_ns + (int64_t)rel_s * 1000000000LL;
	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.bans6), &key,
					     &b, BPF_ANY), 0);
}

static struct rg_ban ban4_get(const char *addr)
{
	struct rg_ban b = { 0 };
	uint32_t key;

	assert_int_equal(inet_pton(AF_INET, addr, &key), 1);
	assert_int_equal(bpf_map_lookup_elem(map_fd(fx.skel->maps.bans4), &key,
					     &b), 0);
	return b;
}

/* "a.b.c.d/n" or "x::/n" into allow/deny (which: the v4 or v6 map). */
static void acl_add(struct bpf_map *m4, struct bpf_map *m6, const char *cidr)
{
	char addr[64];
	const char *slash = strchr(cidr, '/');
	uint32_t one = 1;
	int len;

	assert_non_null(slash);
	len = slash - cidr;
	memcpy(addr, cidr, len);
	addr[len] = '\0';
	if (strchr(addr, ':')) {
		struct rg_lpm6_key k = { .prefixlen = atoi(slash + 1) };

		assert_int_equal(inet_pton(AF_INET6, addr, k.addr), 1);
		assert_int_equal(bpf_map_update_elem(map_fd(m6), &k, &one,
						     BPF_ANY), 0);
	} else {
		struct rg_lpm4_key k = { .prefixlen = atoi(slash + 1) };

		assert_int_equal(inet_pton(AF_INET, addr, &k.addr), 1);
		assert_int_equal(bpf_map_update_elem(map_fd(m4), &k, &one,
						     BPF_ANY), 0);
	}
}

static void allow(const char *cidr)
{
	acl_add(fx.skel->maps.allow4, fx.skel->maps.allow6, cidr);
}

static void deny(const char *cidr)
{
	acl_add(fx.skel->maps.deny4, fx.skel->maps.deny6, cidr);
}

static struct rg_flow_key flow4(const char *client, uint16_t cport,
				const char *server, uint16_t sport)
{
	struct rg_flow_key k = { .family = AF_INET };

	inet_pton(AF_INET, client, k.client);
	inet_pton(AF_INET, server, k.server);
	k.client_port = htons(cport);
	k.server_port = htons(sport);
	return k;
}

/* The default test flow: 192.0.2.10:40000 -> 198.51.100.1:25. */
static struct rg_flow_key flow_default(void)
{
	return flow4("192.0.2.10", 40000, "198.51.100.1", 25);
}

/* Every case runs with this config.hash_seed, so the test finds the slots
 * the programs use. */
#define TEST_SEED 0x5eed1234U

/* k's entry, seen age_s seconds ago, put in way `way` of its set. */
static void flow_put(struct rg_flow_key k, uint32_t flags, int way, int age_s)
{
	struct rg_flow f = { .key = k, .flags = flags };
	uint32_t slot = rg_flow_set_first(&k, TEST_SEED) + way;

	f.last_ns = boot_ns() - (uint64_t)age_s * 1000000000ULL;
	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.flows), &slot,
					     &f, BPF_ANY), 0);
}

static int flow_read(struct rg_flow_key k, struct rg_flow *f)
{
	long slot = flowmap_find(map_fd(fx.skel->maps.flows), TEST_SEED, &k, f);

	return slot < 0 ? (int)slot : 0;
}

/* Flows to 198.51.100.1:25 sharing a set with the default flow: from
 * 192.0.2.11 on, each client's first port that does. */
struct client {
	char addr[INET_ADDRSTRLEN];
	uint16_t port;
};

static struct client colliding_client(int n)
{
	struct rg_flow_key d = flow_default(), k;
	uint32_t set = rg_flow_set_first(&d, TEST_SEED);
	struct client c;
	unsigned int port, host;

	for (host = 11; host < 255; host++) {
		snprintf(c.addr, sizeof(c.addr), "192.0.2.%u", host);
		for (port = 1024; port < 65536; port++) {
			k = flow4(c.addr, port, "198.51.100.1", 25);
			if (rg_flow_set_first(&k, TEST_SEED) != set)
				continue;
			c.port = port;
			if (n-- == 0)
				return c;
			break;
		}
	}
	fail_msg("too few flows share a set with the default flow");
	return c;
}

/* The ratelimit key of an IPv4 source, as the programs build it. */
static struct rg_src_key src4(const char *addr)
{
	struct rg_src_key k = { .family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, addr, k.addr), 1);
	return k;
}

static void bucket_get(struct rg_src_key k, struct rg_bucket *b)
{
	uint32_t slot = rg_src_slot(&k, TEST_SEED);

	assert_int_equal(bpf_map_lookup_elem(map_fd(fx.skel->maps.ratelimit),
					     &slot, b), 0);
}

static void bucket_put(struct rg_src_key k, const struct rg_bucket *b)
{
	uint32_t slot = rg_src_slot(&k, TEST_SEED);

	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.ratelimit),
					     &slot, b, BPF_ANY), 0);
}

/* ---- ring buffer ---- */

static int on_sample(void *ctx, void *data, size_t size)
{
	const struct rg_sample *s = data;
	struct record *r;

	(void)ctx;
	if (size < sizeof(*s) || size != rg_record_size(s) ||
	    s->payload_len > RG_SAMPLE_PAYLOAD_MAX) {
		fx.bad_rec++;
		return 0;
	}
	if (fx.n_rec >= MAX_RECORDS)
		return 0;
	r = &fx.rec[fx.n_rec++];
	memcpy(r, data, size);
	return 0;
}

/* ---- fixture ---- */

static int fx_setup(void **state)
{
	struct bpf_map *m;
	int err;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.skel = relayguard_bpf__open();
	if (!fx.skel)
		return -1;
	bpf_object__for_each_map(m, fx.skel->obj)
		bpf_map__set_pin_path(m, NULL);
	err = relayguard_bpf__load(fx.skel);
	if (err) {
		fprintf(stderr, "cannot load relayguard skeleton: %d\n", err);
		relayguard_bpf__destroy(fx.skel);
		return -1;
	}
	fx.rb = ring_buffer__new(map_fd(fx.skel->maps.samples), on_sample,
				 NULL, NULL);
	if (!fx.rb) {
		relayguard_bpf__destroy(fx.skel);
		return -1;
	}
	return 0;
}

static int fx_teardown(void **state)
{
	(void)state;
	ring_buffer__free(fx.rb);
	relayguard_bpf__destroy(fx.skel);
	return 0;
}

static void stats_sum(struct rg_stats *out)
{
	int ncpu = libbpf_num_possible_cpus(), i, j;
	struct rg_stats *per;
	uint32_t zero = 0;
	__u64 *o = (__u64 *)out;

	assert_true(ncpu > 0);
	per = calloc(ncpu, sizeof(*per));
	assert_non_null(per);
	assert_int_equal(bpf_map_lookup_elem(map_fd(fx.skel->maps.stats),
					     &zero, per), 0);
	memset(out, 0, sizeof(*out));
	for (i = 0; i < ncpu; i++)
		for (j = 0; j < (int)(sizeof(*out) / sizeof(__u64)); j++)
			o[j] += ((__u64 *)&per[i])[j];
	free(per);
}

static int run_packet(const struct step *st)
{
	uint8_t buf[PKT_MAX];
	int len = pkt_build(&st->pkt, buf), fd;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = 1);

	fd = bpf_program__fd(st->prog == PROG_TC ? fx.skel->progs.rg_tc_egress :
						   fx.skel->progs.rg_xdp);
	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	return opts.retval;
}

/* cfg as the case's config, with the seed the test finds slots by. */
static void config_put(struct rg_config cfg)
{
	uint32_t zero = 0;

	cfg.hash_seed = TEST_SEED;
	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.config),
					     &zero, &cfg, BPF_ANY), 0);
}

static void run_case(void **state)
{
	const struct tcase *tc = *state;
	struct rg_stats got;
	const __u64 *g = (const __u64 *)&got, *e = (const __u64 *)&tc->exp;
	int i, r, bad = 0;

	config_put(tc->cfg);
	if (tc->setup)
		tc->setup();
	for (i = 0; i < MAX_STEPS; i++) {
		const struct step *st = &tc->steps[i];

		if (!st->verdict && !st->prog)
			break; /* end of the steps (no case expects XDP_ABORTED) */
		for (r = 0; r < (st->repeat ? st->repeat : 1); r++) {
			int got_v = run_packet(st);

			if (got_v != st->verdict) {
				fail_msg("%s: step %d run %d: verdict %d, expected %d",
					 tc->name, i, r, got_v, st->verdict);
			}
		}
	}
	ring_buffer__consume(fx.rb);
	assert_int_equal(fx.bad_rec, 0);
	stats_sum(&got);
	if (!tc->marks)
		got.acl_cached = tc->exp.acl_cached;
	for (i = 0; i < (int)(sizeof(got) / sizeof(__u64)); i++) {
		if (g[i] == e[i])
			continue;
		print_error("%s: counter %s = %llu, expected %llu\n", tc->name,
			    stat_names[i], (unsigned long long)g[i],
			    (unsigned long long)e[i]);
		bad++;
	}
	assert_int_equal(bad, 0);
	if (tc->check)
		tc->check();
}

/* ---- packets ---- */

#define BANNED4 "203.0.113.66"
#define CLEAN4 "192.0.2.10"
#define V6SRC "2001:db8:1:2::10"

#define BE16(x) ((__u16)((((x) & 0xff) << 8) | (((x) >> 8) & 0xff)))
#define STEP(v, ...) { .verdict = (v), .pkt = { __VA_ARGS__ } }
#define STEPN(v, n, ...) { .verdict = (v), .repeat = (n), .pkt = { __VA_ARGS__ } }
#define TCSTEP(...) { .prog = PROG_TC, .verdict = TC_ACT_OK, .pkt = { __VA_ARGS__ } }
#define SERVER_PKT .src = "198.51.100.1", .dst = CLEAN4, .sport = 25, .dport = 40000
/* The server's SYN-ACK (the client's data starts at 1001), then four
 * 8-byte client segments at these seqs; with a budget, three of them
 * sampled (24 bytes) before it is spent. */
#define SEGMENTS_OF_8(a, b, c, d)                                                       \
	{ TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK, .seq = 777000, .ack = 1001),     \
	  STEP(XDP_PASS, .flags = TH_ACK, .seq = (a), .payload_len = 8),                \
	  STEP(XDP_PASS, .flags = TH_ACK, .seq = (b), .payload_len = 8),                \
	  STEP(XDP_PASS, .flags = TH_ACK, .seq = (c), .payload_len = 8),                \
	  STEP(XDP_PASS, .flags = TH_ACK, .seq = (d), .payload_len = 8) }
#define THREE_OF_FOUR_SAMPLED                                                           \
	{ .packets = 4, .pass_smtp = 4, .sample_records = 3, .sample_bytes = 24,        \
	  .sample_budget_done = 1, .egress_packets = 1, .egress_smtp = 1,               \
	  .egress_sample_records = 1 }

/* ---- setups ---- */

static void setup_ban(void)
{
	ban4(BANNED4, 3600);
}

static void setup_ban_perm(void)
{
	ban4(BANNED4, 0);
}

static void setup_ban_expired(void)
{
	ban4(BANNED4, -10);
}

static void setup_ban6(void)
{
	ban6("2001:db8:1:2::", 3600);
}

static void setup_ban6_48(void)
{
	ban6("2001:db8:1::", 3600);
}

/* ipv6_escalate's ban of 2001:db8:1::/48 (RG_BAN6_WIDE_TAG in its key). */
static void setup_ban6_wide(void)
{
	ban6("2001:db8:1::ffff:ffff:ffff:ffff", 3600);
}

static void setup_allow_deny_ban(void)
{
	allow("10.0.0.0/8");
	deny("10.1.0.0/16");
	ban4("10.1.2.3", 3600);
}

static void setup_deny24(void)
{
	deny("203.0.113.0/24");
}

static void setup_deny_and_ban(void)
{
	deny("203.0.113.0/24");
	ban4(BANNED4, 3600);
}

static void setup_acl6(void)
{
	allow("2001:db8:aaaa::/48");
	deny("2001:db8:bbbb::/48");
}

static void setup_acl6_nested(void)
{
	allow("2001:db8:aaaa::/48");
	deny("2001:db8::/32");
}

static void setup_allow_clean(void)
{
	allow("192.0.2.0/24");
}

/* As the daemon stops a flow: user/flowmap.c on an entry in way 3. */
static void setup_stop(void)
{
	struct rg_flow_key k = flow_default();

	flow_put(k, 0, 3, 0);
	assert_int_equal(flowmap_stop(map_fd(fx.skel->maps.flows), TEST_SEED,
				      &k), 0);
}

/* The default flow's set filled with four other flows, all seen a second
 * ago but the one in way 2: seen age_s ago and stopped. */
static struct client set_clients[RG_FLOW_WAYS];

static struct rg_flow_key set_flow(int w)
{
	return flow4(set_clients[w].addr, set_clients[w].port, "198.51.100.1",
		     25);
}

static void fill_set(int age_s)
{
	int w;

	for (w = 0; w < RG_FLOW_WAYS; w++) {
		set_clients[w] = colliding_client(w);
		flow_put(set_flow(w), w == 2 ? RG_FLOW_STOP : 0, w,
			 w == 2 ? age_s : 1);
	}
}

static void setup_set_full(void)
{
	fill_set(10);
}

static void setup_set_idle(void)
{
	/* On a machine up less than that, last_ns lies before boot. */
	fill_set(RG_FLOW_IDLE_NS / 1000000000ULL + 1);
}

/* A source sharing CLEAN4's ratelimit slot holds it, its bucket spent
 * (tat_ns ahead) or rested (tat_ns behind). */
static void slot_taken(int64_t tat_rel_ns)
{
	struct rg_src_key c = src4(CLEAN4), k = { .family = AF_INET };
	uint32_t slot = rg_src_slot(&c, TEST_SEED), a, be;
	struct rg_bucket b = { .drops = 7 };

	for (a = 0x0a000001; a < 0x0b000000; a++) { /* 10.0.0.0/8 */
		be = htonl(a);
		memcpy(k.addr, &be, 4);
		if (rg_src_slot(&k, TEST_SEED) == slot)
			break;
	}
	assert_int_not_equal(a, 0x0b000000);
	b.src = k;
	b.tat_ns = boot_ns() + tat_rel_ns;
	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.ratelimit),
					     &slot, &b, BPF_ANY), 0);
}

static void setup_slot_spent(void)
{
	slot_taken(10000000000LL);
}

static void setup_slot_rested(void)
{
	slot_taken(-10000000000LL);
}

static void setup_bucket_refill(void)
{
	struct rg_src_key k = src4(CLEAN4);
	uint32_t slot = rg_src_slot(&k, TEST_SEED);
	struct rg_bucket b = { 0 };
	int fd = map_fd(fx.skel->maps.ratelimit);
	uint8_t buf[PKT_MAX];
	struct pkt_spec syn = { .flags = TH_SYN };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf);

	/* Exhaust the bucket (burst 2), then move its stored time back. */
	opts.data_size_in = pkt_build(&syn, buf);
	for (int i = 0; i < 3; i++)
		assert_int_equal(bpf_prog_test_run_opts(
					 bpf_program__fd(fx.skel->progs.rg_xdp),
					 &opts), 0);
	assert_int_equal(opts.retval, XDP_DROP);
	bucket_get(k, &b);
	assert_memory_equal(&b.src, &k, sizeof(k));
	assert_int_equal(b.drops, 1);
	b.tat_ns = 1; /* long past, whatever the uptime */
	assert_int_equal(bpf_map_update_elem(fd, &slot, &b, BPF_EXIST), 0);
}

/* The default flow established as the SYN-ACK (server ISN 777000, client
 * ISN 1000) leaves it, the client seen: the server has acked up to srv_ack
 * and sampled_in client bytes were sampled. */
static void flow_put_open(uint32_t srv_ack, uint32_t sampled_in)
{
	struct rg_flow_key k = flow_default();
	struct rg_flow f = { .key = k,
			     .flags = RG_FLOW_WIN_IN | RG_FLOW_SRV_ACK |
				      RG_FLOW_SEEN_IN,
			     .win_in = 1001,
			     .srv_ack = srv_ack,
			     .sampled_in = sampled_in };
	uint32_t slot = rg_flow_set_first(&k, TEST_SEED);

	f.last_ns = boot_ns();
	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.flows), &slot,
					     &f, BPF_ANY), 0);
}

/* An established session, client side sampled (the envelope). */
static void setup_open(void)
{
	flow_put_open(1001, 0);
}

/* In a message body (39 bytes after the 354), then what user space did to
 * the client's side. */
static void in_body_then(int (*user_space)(int fd, __u32 seed,
					   const struct rg_flow_key *key))
{
	struct rg_flow_key k = flow_default();

	flow_put_open(1040, 39);
	assert_int_equal(user_space(map_fd(fx.skel->maps.flows), TEST_SEED, &k),
			 0);
}

/* In a message body: paused by user space after the 354. */
static void setup_paused(void)
{
	in_body_then(flowmap_pause_client);
}

/* The client banned: user space stopped its side only. */
static void setup_stop_client(void)
{
	in_body_then(flowmap_stop_client);
}

/* Budget spent in the first transaction, body paused, then user space
 * resumes at 5000 (the server's ack of the end of data). */
static void setup_resumed(void)
{
	struct rg_flow_key k = flow_default();
	int fd = map_fd(fx.skel->maps.flows);

	flow_put_open(5000, 10);
	assert_int_equal(flowmap_pause_client(fd, TEST_SEED, &k), 0);
	assert_int_equal(flowmap_resume_client(fd, TEST_SEED, &k, 5000), 0);
}

/* ---- checks ---- */

/* The default flow took way 2 (the least recently seen), the others kept
 * theirs; the evicted flow, stopped before, is sampled afresh when it
 * comes back: losing an entry never hides a flow. */
static void check_set_eviction(void)
{
	struct pkt_spec back = { .src = set_clients[2].addr,
				 .sport = set_clients[2].port, .flags = TH_ACK,
				 .payload = "RCPT TO:<x@y.z>\r\n" };
	struct step st = { .verdict = XDP_PASS, .pkt = back };
	struct rg_flow f;
	int w;

	assert_int_equal(fx.n_rec, 1);
	assert_int_equal(flow_read(flow_default(), &f), 0);
	assert_int_equal(f.sampled_in, 6);
	for (w = 0; w < RG_FLOW_WAYS; w++)
		assert_int_equal(flow_read(set_flow(w), &f),
				 w == 2 ? -ENOENT : 0);
	assert_int_equal(run_packet(&st), XDP_PASS);
	ring_buffer__consume(fx.rb);
	assert_int_equal(fx.n_rec, 2);
	assert_int_equal(ntohs(fx.rec[1].hdr.flow.client_port),
			 set_clients[2].port);
	assert_int_equal(fx.rec[1].hdr.payload_len, 17);
	assert_int_equal(flow_read(set_flow(2), &f), 0);
	assert_int_equal(f.flags, RG_FLOW_WIN_IN | RG_FLOW_SEEN_IN);
	assert_int_equal(flowmap_used(map_fd(fx.skel->maps.flows),
				      offsetof(struct rg_flow, key.family)),
			 RG_FLOW_WAYS);
}

static struct rg_flow flow_default_get(void)
{
	struct rg_flow f;

	assert_int_equal(flow_read(flow_default(), &f), 0);
	return f;
}

static void check_synack_window(void)
{
	struct rg_flow f = flow_default_get();

	assert_int_equal(f.win_in, 1001);
	assert_int_equal(f.srv_ack, 1001);
	assert_int_equal(f.flags, RG_FLOW_WIN_IN | RG_FLOW_SRV_ACK);
}

static void check_srv_ack_forward(void)
{
	struct rg_flow f = flow_default_get();

	assert_int_equal(f.srv_ack, 1500);
	assert_true(f.flags & RG_FLOW_SRV_ACK);
}

/* SYN-ACK, NOOP, 250, RCPT: the RCPT after 700 retransmissions. */
static void check_retrans_free(void)
{
	struct rg_flow f = flow_default_get();

	assert_int_equal(fx.n_rec, 4);
	assert_int_equal(fx.rec[1].hdr.payload_len, 6);
	assert_int_equal(ntohl(fx.rec[3].hdr.seq), 1007);
	assert_int_equal(fx.rec[3].hdr.payload_len, 17);
	assert_memory_equal(fx.rec[3].payload, "RCPT TO:<x@y.z>\r\n", 17);
	assert_int_equal(f.sampled_in, 23);
}

static void check_records_seq(const uint32_t *seq, int n)
{
	int i;

	assert_int_equal(fx.n_rec, n + 1); /* after the SYN-ACK */
	for (i = 0; i < n; i++) {
		assert_int_equal(fx.rec[i + 1].hdr.dir, RG_DIR_IN);
		assert_int_equal(ntohl(fx.rec[i + 1].hdr.seq), seq[i]);
		assert_int_equal(fx.rec[i + 1].hdr.payload_len, 8);
	}
}

static void check_unacked_retrans(void)
{
	static const uint32_t seq[] = { 1009, 1009, 1001 };

	check_records_seq(seq, 3);
	assert_int_equal(flow_default_get().sampled_in, 16);
}

static void check_reverse_order(void)
{
	static const uint32_t seq[] = { 1017, 1009, 1001 };

	check_records_seq(seq, 3);
	assert_int_equal(flow_default_get().sampled_in, 24);
}

static void check_paused(void)
{
	struct rg_flow f = flow_default_get();

	assert_int_equal(fx.n_rec, 2);
	assert_int_equal(fx.rec[0].hdr.dir, RG_DIR_OUT);
	assert_int_equal(fx.rec[1].hdr.dir, RG_DIR_IN);
	assert_int_equal(ntohl(fx.rec[1].hdr.seq), 1100);
	assert_false(f.flags & RG_FLOW_PAUSE_IN);
	assert_true(f.flags & RG_FLOW_WIN_IN);
	assert_int_equal(f.win_in, 1100);
	assert_int_equal(f.sampled_in, 14);
	assert_int_equal(f.srv_ack, 1100);
}

static void check_resumed(void)
{
	struct rg_flow f = flow_default_get();
	int i;

	assert_int_equal(fx.n_rec, 1);
	assert_int_equal(ntohl(fx.rec[0].hdr.seq), 5000);
	assert_int_equal(fx.rec[0].hdr.payload_len, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(fx.rec[0].payload[i], 'a' + (10 + i) % 26);
	assert_int_equal(f.win_in, 5000);
	assert_int_equal(f.sampled_in, 10);
	assert_false(f.flags & RG_FLOW_PAUSE_IN);
}

/* Every server record (its reply, its FIN) and the client's FIN, no
 * client payload; the server's reply did not resume the client. */
static void check_client_stopped(void)
{
	struct rg_flow f = flow_default_get();

	assert_int_equal(fx.n_rec, 3);
	assert_int_equal(fx.rec[0].hdr.dir, RG_DIR_OUT);
	assert_int_equal(fx.rec[0].hdr.payload_len, 8);
	assert_int_equal(fx.rec[1].hdr.dir, RG_DIR_IN);
	assert_int_equal(fx.rec[1].hdr.tcp_flags, TH_FIN | TH_ACK);
	assert_int_equal(fx.rec[2].hdr.dir, RG_DIR_OUT);
	assert_int_equal(fx.rec[2].hdr.tcp_flags, TH_FIN | TH_ACK);
	assert_true(f.flags & RG_FLOW_STOP_IN);
	assert_false(f.flags & (RG_FLOW_STOP | RG_FLOW_PAUSE_IN));
	assert_int_equal(f.sampled_in, 39);
}

/* The client's forged SYN and RST left the entry as it was. */
static void check_client_syn_rst(void)
{
	struct rg_flow f = flow_default_get();

	assert_int_equal(fx.n_rec, 4);
	assert_int_equal(fx.rec[2].hdr.tcp_flags, TH_RST);
	assert_int_equal(ntohl(fx.rec[3].hdr.seq), 1009);
	assert_int_equal(f.win_in, 1001);
	assert_int_equal(f.srv_ack, 1001);
	assert_int_equal(f.sampled_in, 27);
	assert_int_equal(f.flags,
			 RG_FLOW_WIN_IN | RG_FLOW_SRV_ACK | RG_FLOW_SEEN_IN);
}

static void check_client_syn_rst_paused(void)
{
	struct rg_flow f = flow_default_get();

	assert_int_equal(fx.n_rec, 1);
	assert_true(f.flags & RG_FLOW_PAUSE_IN);
	assert_int_equal(f.sampled_in, 39);
	assert_int_equal(f.win_in, 1001);
}

/* CLEAN4 owns its ratelimit slot now, with a fresh count. */
static void check_slot_owned(void)
{
	struct rg_src_key c = src4(CLEAN4);
	struct rg_bucket b;

	bucket_get(c, &b);
	assert_memory_equal(&b.src, &c, sizeof(c));
	assert_int_equal(b.drops, 1);
}

static void check_ban_hits2(void)
{
	struct rg_ban b = ban4_get(BANNED4);

	assert_int_equal(b.hits, 2);
	assert_true(b.first_hit_ns >= b.created_ns);
	assert_true(b.first_hit_ns <= boot_ns());
}

static void check_ban_hits0(void)
{
	struct rg_ban b = ban4_get(BANNED4);

	assert_int_equal(b.hits, 0);
	assert_int_equal(b.first_hit_ns, 0);
}

static void check_ban_hits1(void)
{
	assert_int_equal(ban4_get(BANNED4).hits, 1);
}

static void check_no_records(void)
{
	assert_int_equal(fx.n_rec, 0);
}

static void assert_flow_eq(const struct rg_flow_key *a,
			   const struct rg_flow_key *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static void check_data6_record(void)
{
	struct rg_sample *s = &fx.rec[0].hdr;
	struct rg_flow_key k = { .family = AF_INET6 };

	inet_pton(AF_INET6, V6SRC, k.client);
	inet_pton(AF_INET6, "2001:db8:ff::1", k.server);
	k.client_port = htons(40000);
	k.server_port = htons(25);
	assert_int_equal(fx.n_rec, 1);
	assert_flow_eq(&s->flow, &k);
	assert_int_equal(s->payload_len, 8);
}

/* The one record: the default flow's, going dir, at seq, with len payload
 * bytes; returned for what a case checks besides. */
static const struct rg_sample *only_record(int dir, uint32_t seq, int len)
{
	const struct rg_sample *s = &fx.rec[0].hdr;
	struct rg_flow_key k = flow_default();

	assert_int_equal(fx.n_rec, 1);
	assert_flow_eq(&s->flow, &k);
	assert_int_equal(s->dir, dir);
	assert_int_equal(ntohl(s->seq), seq);
	assert_int_equal(s->payload_len, len);
	return s;
}

/* The default flow's entry has counted in and out sampled bytes. */
static void assert_sampled(uint32_t in, uint32_t out)
{
	struct rg_flow f;

	assert_int_equal(flow_read(flow_default(), &f), 0);
	assert_int_equal(f.sampled_in, in);
	assert_int_equal(f.sampled_out, out);
}

static void check_data_record(void)
{
	const struct rg_sample *s = only_record(RG_DIR_IN, 5001, 22);

	assert_int_equal(ntohl(s->ack), 7001);
	assert_int_equal(s->tcp_flags, TH_ACK | TH_PSH);
	assert_memory_equal(fx.rec[0].payload, "EHLO relay.example\r\n\r\n", 22);
	assert_sampled(22, 0);
}

static void check_budget(void)
{
	struct rg_flow f;

	/* 8 bytes, then 2 of the next 8, then nothing: budget 10. */
	assert_int_equal(fx.n_rec, 2);
	assert_int_equal(fx.rec[0].hdr.payload_len, 8);
	assert_int_equal(fx.rec[1].hdr.payload_len, 2);
	assert_int_equal(ntohl(fx.rec[1].hdr.seq), 109);
	assert_memory_equal(fx.rec[1].payload, "ab", 2);
	assert_int_equal(flow_read(flow_default(), &f), 0);
	assert_int_equal(f.sampled_in, 10);
}

/* Records of 7, 8, 64 and 65 pattern bytes: both sides of each bound of
 * the inline copy (bpf/sample.h RG_SMALL_COPY) carry exactly the packet. */
static void check_copy_bounds(void)
{
	static const int len[] = { 7, 8, 64, 65 };
	int i, j;

	assert_int_equal(fx.n_rec, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(fx.rec[i].hdr.payload_len, len[i]);
		for (j = 0; j < len[i]; j++)
			assert_int_equal(fx.rec[i].payload[j], 'a' + j % 26);
	}
}

static void check_split(void)
{
	int i;

	/* 3000 bytes: 1536 at seq 1, then 1464 at seq 1537. */
	assert_int_equal(fx.n_rec, 2);
	assert_int_equal(fx.rec[0].hdr.payload_len, RG_SAMPLE_PAYLOAD_MAX);
	assert_int_equal(ntohl(fx.rec[0].hdr.seq), 1);
	assert_int_equal(fx.rec[1].hdr.payload_len, 3000 - RG_SAMPLE_PAYLOAD_MAX);
	assert_int_equal(ntohl(fx.rec[1].hdr.seq), 1 + RG_SAMPLE_PAYLOAD_MAX);
	for (i = 0; i < fx.rec[1].hdr.payload_len; i++)
		assert_int_equal(fx.rec[1].payload[i],
				 'a' + (i + RG_SAMPLE_PAYLOAD_MAX) % 26);
}

static void check_ack_then_data(void)
{
	/* (SYN not recorded), SYN-ACK (egress), handshake ACK, payload,
	 * (later pure ACK not recorded), FIN. */
	assert_int_equal(fx.n_rec, 4);
	assert_int_equal(fx.rec[0].hdr.tcp_flags, TH_SYN | TH_ACK);
	assert_int_equal(fx.rec[0].hdr.dir, RG_DIR_OUT);
	assert_int_equal(fx.rec[1].hdr.tcp_flags, TH_ACK);
	assert_int_equal(fx.rec[1].hdr.dir, RG_DIR_IN);
	assert_int_equal(fx.rec[1].hdr.payload_len, 0);
	assert_int_equal(fx.rec[2].hdr.payload_len, 6);
	assert_memory_equal(fx.rec[2].payload, "QUIT\r\n", 6);
	assert_int_equal(fx.rec[3].hdr.tcp_flags, TH_FIN | TH_ACK);
}

/* SYN in (no record), then SYN-ACK out: the client's flow key, dir OUT,
 * seq = the server's ISN, ack = the client's ISN + 1. */
static void check_synack_record(void)
{
	const struct rg_sample *s = only_record(RG_DIR_OUT, 777000, 0);

	assert_int_equal(s->tcp_flags, TH_SYN | TH_ACK);
	assert_int_equal(ntohl(s->ack), 1001);
}

static void check_reply_record(void)
{
	only_record(RG_DIR_OUT, 777001, 20);
	assert_memory_equal(fx.rec[0].payload, "220 mx.example ESMTP", 20);
	assert_sampled(0, 20);
}

/* Neither a record nor a flow entry (a client's SYN makes neither). */
static void check_no_flow(void)
{
	struct rg_flow f;

	assert_int_equal(fx.n_rec, 0);
	assert_int_equal(flow_read(flow_default(), &f), -ENOENT);
}

static void check_pad_not_sampled(void)
{
	assert_int_equal(fx.n_rec, 1);
	assert_int_equal(fx.rec[0].hdr.payload_len, 4);
	assert_memory_equal(fx.rec[0].payload, "QUIT", 4);
}

/* The ring buffer holds this many 1400-byte records (8-byte header each,
 * 8-byte aligned). */
#define RB_REC_BYTES ((8 + sizeof(struct rg_sample) + 1400 + 7) / 8 * 8)
#define RB_FIT (RG_RINGBUF_BYTES / RB_REC_BYTES)
#define RB_RUNS (RB_FIT + 100)

/* ---- the table ---- */

static const struct tcase cases[] = {
	/* Not SMTP: pass at the cost of the parse, even from banned sources. */
	{ "arp passes", .steps = { STEP(XDP_PASS, .ethertype = ETH_P_ARP) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "udp 53 passes", .steps = { STEP(XDP_PASS, .proto = IPPROTO_UDP, .dport = 53) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "tcp 443 passes", .steps = { STEP(XDP_PASS, .dport = 443) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "tcp 443 from banned source passes", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .dport = 443) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 }, .check = check_ban_hits0 },
	{ "udp to port 25 from banned source passes", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .proto = IPPROTO_UDP, .dport = 25) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 }, .check = check_ban_hits0 },
	{ "icmp from banned source passes", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .proto = IPPROTO_ICMP) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "ipv6 tcp 443 from banned /64 passes", .setup = setup_ban6,
	  .steps = { STEP(XDP_PASS, .family = 6, .dport = 443) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "icmpv6 passes", .steps = { STEP(XDP_PASS, .family = 6, .proto = IPPROTO_ICMPV6) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "ipv6 no-next-header passes", .steps = { STEP(XDP_PASS, .family = 6, .proto = IPPROTO_NONE) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "three vlan tags: not parsed as IP, passes", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .vlans = 3) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },

	/* Clean SMTP. */
	{ "ipv4 syn to 25 from clean source passes, no record, no flow (the syn-ack's record tells its isn)",
	  .steps = { STEP(XDP_PASS, .seq = 1000) },
	  .exp = { .packets = 1, .pass_smtp = 1 },
	  .check = check_no_flow },
	{ "ipv6 syn to 25 from clean source passes, no record",
	  .steps = { STEP(XDP_PASS, .family = 6) },
	  .exp = { .packets = 1, .pass_smtp = 1 },
	  .check = check_no_records },
	{ "ipv6 data from clean source: record with the ipv6 flow key",
	  .steps = { STEP(XDP_PASS, .family = 6, .flags = TH_ACK, .payload = "EHLO x\r\n") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 8 },
	  .check = check_data6_record },
	{ "data from clean source: record with flow key, seq, ack, payload",
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK | TH_PSH, .seq = 5001, .ack = 7001,
			  .payload = "EHLO relay.example\r\n\r\n") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 22 },
	  .check = check_data_record },
	{ "ethernet padding is not sampled as payload",
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .payload = "QUIT") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 4 },
	  .check = check_pad_not_sampled },

	/* Header variants reach the verdict. */
	{ "802.1Q vlan: banned syn dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .vlans = 1) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "QinQ (802.1ad + 802.1Q): banned syn dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .vlans = 2,
			  .vlan_tpid = { ETH_P_8021AD, ETH_P_8021Q }) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv4 with options: banned syn dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .ip_opts = 12) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "tcp options: payload found after them", .steps = {
		  STEP(XDP_PASS, .flags = TH_ACK, .tcp_opts = 12, .payload = "QUIT") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 4 },
	  .check = check_pad_not_sampled },
	/* Fragments and what the parser gives up on: a ban or deny holds for
	 * every packet of its source that may reach an SMTP port; everyone
	 * else's pass (fail open), but for tiny first fragments. */
	{ "ipv4 non-first tcp fragment from a banned source dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .frag = 185) },
	  .exp = { .packets = 1, .drop_ban = 1 }, .check = check_ban_hits1 },
	{ "ipv4 non-first tcp fragment from a clean source passes", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .frag = 185) },
	  .exp = { .packets = 1, .pass_fragment = 1 }, .check = check_ban_hits0 },
	{ "ipv4 non-first tcp fragment from a denied source dropped", .setup = setup_deny24,
	  .steps = { STEP(XDP_DROP, .src = "203.0.113.9", .frag = 0x2000 | 3) },
	  .exp = { .packets = 1, .drop_deny = 1 } },
	{ "ipv4 non-first udp fragment from a banned source passes", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .proto = IPPROTO_UDP, .frag = 185) },
	  .exp = { .packets = 1, .pass_fragment = 1 } },
	{ "ipv4 non-first fragment from an allowed, banned source passes",
	  .setup = setup_allow_deny_ban,
	  .steps = { STEP(XDP_PASS, .src = "10.1.2.3", .frag = 185) },
	  .exp = { .packets = 1, .pass_fragment = 1 } },
	{ "monitor: banned non-first fragment counted, passed",
	  .cfg = { .flags = RG_CFG_MONITOR }, .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .frag = 185) },
	  .exp = { .packets = 1, .pass_monitor = 1, .monitor_ban = 1 } },
	{ "ipv4 first fragment with 16 bytes of tcp from a banned source dropped",
	  .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .frag = 0x2000, .tot_len = 20 + 16) },
	  .exp = { .packets = 1, .drop_ban = 1 }, .check = check_ban_hits1 },
	{ "ipv4 first fragment with 16 bytes of tcp from a denied source dropped",
	  .setup = setup_deny24,
	  .steps = { STEP(XDP_DROP, .src = "203.0.113.9", .frag = 0x2000, .tot_len = 20 + 16) },
	  .exp = { .packets = 1, .drop_deny = 1 } },
	{ "ipv4 tiny first fragment (16 bytes of tcp) from a clean source dropped",
	  .steps = { STEP(XDP_DROP, .frag = 0x2000, .tot_len = 20 + 16) },
	  .exp = { .packets = 1, .drop_frag_tiny = 1 }, .check = check_no_records },
	{ "ipv4 tiny first fragment in an unpadded frame (veth) from a banned source dropped",
	  .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .frag = 0x2000, .tot_len = 20 + 16,
			  .trunc = 14 + 20 + 16) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv4 tiny first fragment in an unpadded frame from a clean source dropped",
	  .steps = { STEP(XDP_DROP, .frag = 0x2000, .tot_len = 20 + 16, .trunc = 14 + 20 + 16) },
	  .exp = { .packets = 1, .drop_frag_tiny = 1 } },
	{ "ipv4 tiny first fragment: 8 bytes of tcp, ports only, dropped",
	  .steps = { STEP(XDP_DROP, .frag = 0x2000, .ip_opts = 40, .tot_len = 60 + 8,
			  .trunc = 14 + 60 + 8) },
	  .exp = { .packets = 1, .drop_frag_tiny = 1 } },
	{ "ipv4 first fragment with tcp options in the next fragment dropped",
	  .steps = { STEP(XDP_DROP, .frag = 0x2000, .tcp_opts = 20, .tot_len = 20 + 24) },
	  .exp = { .packets = 1, .drop_frag_tiny = 1 } },
	{ "ipv4 tiny first fragment from an allowed source passes",
	  .setup = setup_allow_clean,
	  .steps = { STEP(XDP_PASS, .frag = 0x2000, .tot_len = 20 + 16) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "monitor: tiny first fragment counted, passed", .cfg = { .flags = RG_CFG_MONITOR },
	  .steps = { STEP(XDP_PASS, .frag = 0x2000, .tot_len = 20 + 16) },
	  .exp = { .packets = 1, .pass_monitor = 1, .monitor_frag_tiny = 1 } },
	{ "ipv4 tiny first fragment to port 443 passes (not protected)", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .dport = 443, .frag = 0x2000,
			  .tot_len = 20 + 16) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	/* A first fragment with the whole TCP header: the rest of its datagram
	 * is payload the daemon would not see. Dropped while the client side
	 * is sampled (envelope) or the flow unknown; passed on a paused
	 * (message body) or stopped flow. */
	{ "ipv4 first fragment of a command segment, no flow entry: dropped",
	  .steps = { STEP(XDP_DROP, .flags = TH_ACK, .seq = 1001, .frag = 0x2000,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n", .tot_len = 20 + 20 + 16) },
	  .exp = { .packets = 1, .drop_frag_payload = 1 }, .check = check_no_records },
	{ "ipv4 first fragment of a command segment on a sampled flow: dropped",
	  .setup = setup_open,
	  .steps = { STEP(XDP_DROP, .flags = TH_ACK, .seq = 1001, .frag = 0x2000,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n", .tot_len = 20 + 20 + 16) },
	  .exp = { .packets = 1, .drop_frag_payload = 1 }, .check = check_no_records },
	{ "ipv4 first fragment with the header only (payload all in the next) dropped",
	  .setup = setup_open,
	  .steps = { STEP(XDP_DROP, .flags = TH_ACK, .seq = 1001, .frag = 0x2000, .tcp_opts = 4,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n", .tot_len = 20 + 24) },
	  .exp = { .packets = 1, .drop_frag_payload = 1 }, .check = check_no_records },
	{ "ipv4 first fragment of a body segment on a paused flow passes",
	  .setup = setup_paused,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 1040, .frag = 0x2000,
			  .payload_len = 1400, .tot_len = 20 + 20 + 1000) },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_paused = 1 },
	  .check = check_no_records },
	{ "ipv4 first fragment on a stopped flow passes", .setup = setup_stop,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .frag = 0x2000, .payload_len = 1400,
			  .tot_len = 20 + 20 + 1000) },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_stopped = 1 },
	  .check = check_no_records },
	{ "ipv4 first fragment of a command segment from an allowed source passes, sampled",
	  .setup = setup_allow_clean,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 1001, .frag = 0x2000,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n", .tot_len = 20 + 20 + 16) },
	  .exp = { .packets = 1, .pass_allow = 1, .sample_records = 1, .sample_bytes = 16 } },
	{ "monitor: first fragment of a command segment counted, passed, sampled",
	  .cfg = { .flags = RG_CFG_MONITOR },
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 1001, .frag = 0x2000,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n", .tot_len = 20 + 20 + 16) },
	  .exp = { .packets = 1, .pass_monitor = 1, .monitor_frag_payload = 1,
		   .sample_records = 1, .sample_bytes = 16 } },
	{ "ipv4 first fragment from a banned source on a paused flow: ban drops it",
	  .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .flags = TH_ACK, .frag = 0x2000,
			  .payload_len = 100, .tot_len = 20 + 20 + 40) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv4 unfragmented command segment (DF) on a sampled flow passes, sampled",
	  .setup = setup_open,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 1001, .frag = 0x4000,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 28 } },
	{ "ipv4 non-first udp fragment counted as fragment",
	  .steps = { STEP(XDP_PASS, .proto = IPPROTO_UDP, .frag = 0x2000 | 100) },
	  .exp = { .packets = 1, .pass_fragment = 1 } },
	{ "ipv4 first fragment (MF, offset 0): banned syn dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .frag = 0x2000) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 hop-by-hop + dest opts: banned syn dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 2,
			  .ext = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS }) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 AH + dest opts: banned syn dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 2,
			  .ext = { IPPROTO_AH, IPPROTO_DSTOPTS }) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 AH: smtp syn of a clean source passed as smtp",
	  .steps = { STEP(XDP_PASS, .family = 6, .n_ext = 1,
			  .ext = { IPPROTO_AH }) },
	  .exp = { .packets = 1, .pass_smtp = 1 } },
	{ "ipv6 routing header: banned syn dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 1, .ext = { IPPROTO_ROUTING }) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 first fragment: banned syn dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 1, .ext = { IPPROTO_FRAGMENT },
			  .v6frag = 1) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 non-first tcp fragment from a banned /64 dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 1, .ext = { IPPROTO_FRAGMENT },
			  .v6frag = 100 << 3) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 non-first tcp fragment from a clean source passes", .setup = setup_ban6,
	  .steps = { STEP(XDP_PASS, .family = 6, .src = "2001:db8:9::1", .n_ext = 1,
			  .ext = { IPPROTO_FRAGMENT }, .v6frag = 100 << 3) },
	  .exp = { .packets = 1, .pass_fragment = 1 } },
	{ "ipv6 tiny first fragment (16 bytes of tcp) from a banned /64 dropped",
	  .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 1, .ext = { IPPROTO_FRAGMENT },
			  .v6frag = 1, .tot_len = 8 + 16, .trunc = 14 + 40 + 8 + 16) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 tiny first fragment from a clean source dropped",
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 1, .ext = { IPPROTO_FRAGMENT },
			  .v6frag = 1, .tot_len = 8 + 16, .trunc = 14 + 40 + 8 + 16) },
	  .exp = { .packets = 1, .drop_frag_tiny = 1 } },
	{ "ipv6 first fragment (offset 0, M) of a command segment: dropped",
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 1, .ext = { IPPROTO_FRAGMENT },
			  .v6frag = 1, .flags = TH_ACK, .seq = 1001,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n", .tot_len = 8 + 20 + 16) },
	  .exp = { .packets = 1, .drop_frag_payload = 1 }, .check = check_no_records },
	{ "ipv6 fragment header, offset 0 and M clear (atomic fragment): passes, sampled",
	  .steps = { STEP(XDP_PASS, .family = 6, .n_ext = 1, .ext = { IPPROTO_FRAGMENT },
			  .v6frag = 0, .flags = TH_ACK, .seq = 1001,
			  .payload = "RCPT TO:<victim@gmail.com>\r\n") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 28 } },
	{ "ipv6 six extension headers: banned syn dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 6,
			  .ext = { 0, 60, 43, 60, 60, 60 }) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 seven extension headers from a banned /64: past the bound, dropped",
	  .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 7,
			  .ext = { 0, 60, 43, 60, 60, 60, 60 }) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 seven extension headers from a denied /48: dropped", .setup = setup_acl6,
	  .steps = { STEP(XDP_DROP, .family = 6, .src = "2001:db8:bbbb::1", .n_ext = 7,
			  .ext = { 0, 60, 43, 60, 60, 60, 60 }) },
	  .exp = { .packets = 1, .drop_deny = 1 } },
	{ "ipv6 seven extension headers from a clean source: passes unparsed",
	  .setup = setup_ban6,
	  .steps = { STEP(XDP_PASS, .family = 6, .src = "2001:db8:9::1", .n_ext = 7,
			  .ext = { 0, 60, 43, 60, 60, 60, 60 }) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },

	/* Truncated or malformed: pass, counted. */
	/* (A frame shorter than Ethernet: BPF_PROG_TEST_RUN refuses it.) */
	{ "ethernet header only, ipv4 ethertype", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .trunc = 14) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "vlan tag truncated", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .vlans = 1, .trunc = 16) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "second vlan tag truncated", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .vlans = 2, .trunc = 20) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "ipv4 header truncated", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .trunc = 14 + 19) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "ipv4 options truncated", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .ip_opts = 20, .trunc = 14 + 36) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "tcp header truncated: banned source dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .trunc = 14 + 20 + 19) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "tcp options truncated (smtp port): banned source dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .tcp_opts = 20, .trunc = 14 + 20 + 30) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 header truncated", .setup = setup_ban6,
	  .steps = { STEP(XDP_PASS, .family = 6, .trunc = 14 + 39) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "ipv6 extension header truncated: banned source dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .n_ext = 1, .ext = { 0 }, .trunc = 14 + 41) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv6 tcp header truncated: banned source dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .trunc = 14 + 40 + 12) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv4 ihl < 5", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .ihl = 4) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "ipv4 version field not 4", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .version = 6) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	/* the total length is read only for SMTP packets (parse_ip_end) */
	{ "ipv4 total length shorter than its header: banned source dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .tot_len = 16) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "ipv4 total length shorter than its header: clean source passed", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .tot_len = 16) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "ipv4 total length shorter than its header, not smtp: passed", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .dport = 443, .tot_len = 16) },
	  .exp = { .packets = 1, .pass_not_smtp = 1 } },
	{ "ipv4 total length ends before tcp payload offset: banned source dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .tot_len = -1) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "tcp doff < 5 (smtp port): banned source dropped", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .doff = 4) },
	  .exp = { .packets = 1, .drop_ban = 1 } },

	{ "tcp header truncated, clean source: passes unparsed",
	  .steps = { STEP(XDP_PASS, .trunc = 14 + 20 + 19) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "tcp doff < 5, clean source: passes unparsed",
	  .steps = { STEP(XDP_PASS, .doff = 4) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },
	{ "ipv6 tcp header truncated, clean source: passes unparsed",
	  .steps = { STEP(XDP_PASS, .family = 6, .trunc = 14 + 40 + 12) },
	  .exp = { .packets = 1, .pass_unparsed = 1 } },

	/* Allow, deny, bans. */
	{ "allow beats deny and ban", .setup = setup_allow_deny_ban,
	  .steps = { STEP(XDP_PASS, .src = "10.1.2.3") },
	  .exp = { .packets = 1, .pass_allow = 1 } },
	{ "deny /16 inside allow /8 still allowed; outside deny /24 dropped",
	  .setup = setup_allow_deny_ban,
	  .steps = { STEP(XDP_PASS, .src = "10.1.200.1"), STEP(XDP_PASS, .src = "10.9.9.9") },
	  .exp = { .packets = 2, .pass_allow = 1, .pass_smtp = 1 } },
	{ "allowed and banned source: data passes, counted as spared by the allow list",
	  .setup = setup_allow_deny_ban,
	  .steps = { STEP(XDP_PASS, .src = "10.1.2.3", .flags = TH_ACK, .payload = "DATA\r\n") },
	  .exp = { .packets = 1, .pass_allow = 1, .sample_records = 1, .sample_bytes = 6 } },
	{ "source both banned and denied: counted as a ban drop", .setup = setup_deny_and_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4) },
	  .exp = { .packets = 1, .drop_ban = 1 }, .check = check_ban_hits1 },
	{ "cidr deny /24 drops its whole range", .setup = setup_deny24,
	  .steps = { STEP(XDP_DROP, .src = "203.0.113.1"), STEP(XDP_DROP, .src = "203.0.113.254"),
		     STEP(XDP_PASS, .src = "203.0.114.1") },
	  .exp = { .packets = 3, .drop_deny = 2, .pass_smtp = 1 } },
	{ "deny hits data packets too", .setup = setup_deny24,
	  .steps = { STEP(XDP_DROP, .src = "203.0.113.9", .flags = TH_ACK, .payload = "MAIL FROM:<>") },
	  .exp = { .packets = 1, .drop_deny = 1 } },
	{ "ipv6 allow /48 passes, deny /48 drops", .setup = setup_acl6,
	  .steps = { STEP(XDP_PASS, .family = 6, .src = "2001:db8:aaaa:1::5"),
		     STEP(XDP_DROP, .family = 6, .src = "2001:db8:bbbb:ffff::1") },
	  .exp = { .packets = 2, .pass_smtp = 1, .drop_deny = 1 } },
	{ "ipv6 allow /48 inside a deny /32: passes, spared by the allow list",
	  .setup = setup_acl6_nested,
	  .steps = { STEP(XDP_PASS, .family = 6, .src = "2001:db8:aaaa:1::5") },
	  .exp = { .packets = 1, .pass_allow = 1 } },
	{ "ban hit drops and counts hits, first_hit set", .setup = setup_ban,
	  .steps = { STEPN(XDP_DROP, 2, .src = BANNED4) },
	  .exp = { .packets = 2, .drop_ban = 2 }, .check = check_ban_hits2 },
	{ "ban drops a session in progress (data packet)", .setup = setup_ban,
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .flags = TH_ACK, .payload = "DATA\r\n") },
	  .exp = { .packets = 1, .drop_ban = 1 }, .check = check_ban_hits1 },
	{ "permanent ban (expires 0) drops", .setup = setup_ban_perm,
	  .steps = { STEP(XDP_DROP, .src = BANNED4) },
	  .exp = { .packets = 1, .drop_ban = 1 } },
	{ "expired ban passes, counted, hits unchanged", .setup = setup_ban_expired,
	  .steps = { STEP(XDP_PASS, .src = BANNED4) },
	  .exp = { .packets = 1, .pass_smtp = 1, .ban_expired = 1 },
	  .check = check_ban_hits0 },
	{ "other source not affected by a ban", .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = "203.0.113.67") },
	  .exp = { .packets = 1, .pass_smtp = 1 } },
	{ "ipv6 /64 grouping: any address of the banned /64 dropped", .setup = setup_ban6,
	  .steps = { STEP(XDP_DROP, .family = 6, .src = "2001:db8:1:2::99"),
		     STEP(XDP_DROP, .family = 6, .src = "2001:db8:1:2:ffff:ffff:ffff:ffff"),
		     STEP(XDP_PASS, .family = 6, .src = "2001:db8:1:3::1") },
	  .exp = { .packets = 3, .drop_ban = 2, .pass_smtp = 1 } },
	{ "ipv6 /48 ban (ipv6_escalate): any /64 of the /48 dropped, the next /48 passes",
	  .setup = setup_ban6_wide,
	  .steps = { STEP(XDP_DROP, .family = 6, .src = "2001:db8:1:7::1"),
		     STEP(XDP_DROP, .family = 6, .src = "2001:db8:1:ffff::99"),
		     STEP(XDP_PASS, .family = 6, .src = "2001:db8:2::1") },
	  .exp = { .packets = 3, .drop_ban = 2, .pass_smtp = 1 } },
	{ "ipv6 /48 ban key with ipv6_prefix 128: an address, not the /48",
	  .cfg = { .ipv6_prefix = 128 }, .setup = setup_ban6_wide,
	  .steps = { STEP(XDP_PASS, .family = 6, .src = "2001:db8:1:7::1") },
	  .exp = { .packets = 1, .pass_smtp = 1 } },
	{ "ipv6_prefix 48: the /48 is grouped", .cfg = { .ipv6_prefix = 48 },
	  .setup = setup_ban6_48,
	  .steps = { STEP(XDP_DROP, .family = 6, .src = "2001:db8:1:ffff::1"),
		     STEP(XDP_PASS, .family = 6, .src = "2001:db8:2::1") },
	  .exp = { .packets = 2, .drop_ban = 1, .pass_smtp = 1 } },

	/* SYN rate limits. */
	{ "rate limit: burst passes, next syn drops, other source unaffected",
	  .cfg = { .syn_rate = 1, .syn_burst = 3 },
	  .steps = { STEPN(XDP_PASS, 3, .flags = TH_SYN), STEP(XDP_DROP, .flags = TH_SYN),
		     STEP(XDP_PASS, .src = "192.0.2.11") },
	  .exp = { .packets = 5, .pass_smtp = 4, .drop_syn_rate = 1 } },
	{ "rate limit counts only SYNs: data passes after the burst",
	  .cfg = { .syn_rate = 1, .syn_burst = 1 },
	  .steps = { STEP(XDP_PASS, .flags = TH_SYN), STEP(XDP_DROP, .flags = TH_SYN),
		     STEP(XDP_PASS, .flags = TH_ACK, .payload = "HELO x\r\n"),
		     STEP(XDP_PASS, .flags = TH_SYN | TH_ACK) },
	  .exp = { .packets = 4, .pass_smtp = 3, .drop_syn_rate = 1, .sample_records = 2,
		   .sample_bytes = 8 } },
	{ "rate limit: bucket refills (stored time in the past)",
	  .cfg = { .syn_rate = 1, .syn_burst = 2 }, .setup = setup_bucket_refill,
	  .steps = { STEPN(XDP_PASS, 2, .flags = TH_SYN), STEP(XDP_DROP, .flags = TH_SYN) },
	  .exp = { .packets = 6, .pass_smtp = 4, .drop_syn_rate = 2 } },
	{ "rate limit: a source takes its slot from a spent bucket (counted), then is limited",
	  .cfg = { .syn_rate = 1, .syn_burst = 1 }, .setup = setup_slot_spent,
	  .steps = { STEP(XDP_PASS), STEP(XDP_DROP) },
	  .exp = { .packets = 2, .pass_smtp = 1, .drop_syn_rate = 1, .ratelimit_full = 1 },
	  .check = check_slot_owned },
	{ "rate limit: taking a slot from a rested bucket forgets nothing (not counted)",
	  .cfg = { .syn_rate = 1, .syn_burst = 1 }, .setup = setup_slot_rested,
	  .steps = { STEP(XDP_PASS), STEP(XDP_DROP) },
	  .exp = { .packets = 2, .pass_smtp = 1, .drop_syn_rate = 1 },
	  .check = check_slot_owned },
	{ "rate limit: ipv6 sources of one /64 share a bucket",
	  .cfg = { .syn_rate = 1, .syn_burst = 2 },
	  .steps = { STEP(XDP_PASS, .family = 6, .src = "2001:db8:1:2::1"),
		     STEP(XDP_PASS, .family = 6, .src = "2001:db8:1:2::2"),
		     STEP(XDP_DROP, .family = 6, .src = "2001:db8:1:2::3"),
		     STEP(XDP_PASS, .family = 6, .src = "2001:db8:1:3::1") },
	  .exp = { .packets = 4, .pass_smtp = 3, .drop_syn_rate = 1 } },
	{ "rate 0: unlimited", .cfg = { .syn_burst = 1 },
	  .steps = { STEPN(XDP_PASS, 10, .flags = TH_SYN) },
	  .exp = { .packets = 10, .pass_smtp = 10 } },
	{ "allowed source is never rate limited", .cfg = { .syn_rate = 1, .syn_burst = 1 },
	  .setup = setup_allow_clean,
	  .steps = { STEPN(XDP_PASS, 5, .flags = TH_SYN) },
	  .exp = { .packets = 5, .pass_allow = 5 } },
	{ "global cap: third source's syn dropped",
	  .cfg = { .global_syn_rate = 1, .global_syn_burst = 2 },
	  .steps = { STEP(XDP_PASS, .src = "192.0.2.1"), STEP(XDP_PASS, .src = "192.0.2.2"),
		     STEP(XDP_DROP, .src = "192.0.2.3") },
	  .exp = { .packets = 3, .pass_smtp = 2, .drop_syn_global = 1 } },
	{ "global cap: per-source drops do not spend global tokens",
	  .cfg = { .syn_rate = 1, .syn_burst = 1, .global_syn_rate = 1, .global_syn_burst = 2 },
	  .steps = { STEP(XDP_PASS, .src = "192.0.2.1"), STEPN(XDP_DROP, 3, .src = "192.0.2.1"),
		     STEP(XDP_PASS, .src = "192.0.2.2"), STEP(XDP_DROP, .src = "192.0.2.3") },
	  .exp = { .packets = 6, .pass_smtp = 2, .drop_syn_rate = 3, .drop_syn_global = 1 } },

	/* Monitor mode: nothing dropped, would-be drops counted by cause. */
	{ "monitor: ban counted, passed, hit counted", .cfg = { .flags = RG_CFG_MONITOR },
	  .setup = setup_ban,
	  .steps = { STEP(XDP_PASS, .src = BANNED4) },
	  .exp = { .packets = 1, .pass_monitor = 1, .monitor_ban = 1 },
	  .check = check_ban_hits1 },
	{ "monitor: deny counted, passed", .cfg = { .flags = RG_CFG_MONITOR },
	  .setup = setup_deny24,
	  .steps = { STEP(XDP_PASS, .src = "203.0.113.5") },
	  .exp = { .packets = 1, .pass_monitor = 1, .monitor_deny = 1 } },
	{ "monitor: syn rate counted, passed",
	  .cfg = { .flags = RG_CFG_MONITOR, .syn_rate = 1, .syn_burst = 1 },
	  .steps = { STEPN(XDP_PASS, 3, .flags = TH_SYN) },
	  .exp = { .packets = 3, .pass_smtp = 1, .pass_monitor = 2, .monitor_syn_rate = 2 } },
	{ "monitor: global cap counted, passed",
	  .cfg = { .flags = RG_CFG_MONITOR, .global_syn_rate = 1, .global_syn_burst = 1 },
	  .steps = { STEP(XDP_PASS, .src = "192.0.2.1"), STEP(XDP_PASS, .src = "192.0.2.2") },
	  .exp = { .packets = 2, .pass_smtp = 1, .pass_monitor = 1, .monitor_syn_global = 1 } },

	/* SMTP ports from config. */
	{ "ports {587}: 25 is not SMTP, 587 is", .setup = setup_ban,
	  .cfg = { .n_smtp_ports = 1, .smtp_ports = { BE16(587) } },
	  .steps = { STEP(XDP_PASS, .src = BANNED4, .dport = 25),
		     STEP(XDP_DROP, .src = BANNED4, .dport = 587) },
	  .exp = { .packets = 2, .pass_not_smtp = 1, .drop_ban = 1 } },
	{ "ports {25, 2525}: both protected", .setup = setup_ban,
	  .cfg = { .n_smtp_ports = 2, .smtp_ports = { BE16(25), BE16(2525) } },
	  .steps = { STEP(XDP_DROP, .src = BANNED4, .dport = 25),
		     STEP(XDP_DROP, .src = BANNED4, .dport = 2525),
		     STEP(XDP_PASS, .src = BANNED4, .dport = 2526) },
	  .exp = { .packets = 3, .drop_ban = 2, .pass_not_smtp = 1 } },

	/* Sampling. */
	{ "flows: a new flow in a full set takes the least recent slot (counted)",
	  .setup = setup_set_full,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .payload = "QUIT\r\n") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 6,
		   .flow_full = 1 },
	  .check = check_set_eviction },
	{ "flows: taking the slot of a flow idle past RG_FLOW_IDLE_NS is not counted",
	  .setup = setup_set_idle,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .payload = "QUIT\r\n") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 6 },
	  .check = check_set_eviction },
	{ "budget: sample_bytes 10 cuts the second segment, third not sampled",
	  .cfg = { .sample_bytes = 10 },
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 101, .payload_len = 8),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 109, .payload_len = 8),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 117, .payload_len = 8) },
	  .exp = { .packets = 3, .pass_smtp = 3, .sample_records = 2, .sample_bytes = 10,
		   .sample_budget_done = 1 },
	  .check = check_budget },
	{ "syn-ack opens the client window at its ack and sets srv_ack",
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK, .seq = 777000, .ack = 1001) },
	  .exp = { .egress_packets = 1, .egress_smtp = 1, .egress_sample_records = 1 },
	  .check = check_synack_window },
	{ "server acks move srv_ack forward only (pure acks included)",
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK, .seq = 777000, .ack = 1001),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK, .seq = 777001, .ack = 1500),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK, .seq = 777001, .ack = 1400),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK, .seq = 777001, .ack = 1450,
			    .payload = "250 ok\r\n") },
	  .exp = { .egress_packets = 4, .egress_smtp = 4, .egress_sample_records = 2,
		   .egress_sample_bytes = 8 },
	  .check = check_srv_ack_forward },
	{ "700 retransmitted NOOPs (acked bytes) are free: the RCPT after them is sampled",
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK, .seq = 777000, .ack = 1001),
		     STEP(XDP_PASS, .flags = TH_ACK | TH_PSH, .seq = 1001, .ack = 777001,
			  .payload = "NOOP\r\n"),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK | TH_PSH, .seq = 777001, .ack = 1007,
			    .payload = "250 ok\r\n"),
		     STEPN(XDP_PASS, 700, .flags = TH_ACK | TH_PSH, .seq = 1001, .ack = 777009,
			   .payload = "NOOP\r\n"),
		     STEP(XDP_PASS, .flags = TH_ACK | TH_PSH, .seq = 1007, .ack = 777009,
			  .payload = "RCPT TO:<x@y.z>\r\n") },
	  .exp = { .packets = 702, .pass_smtp = 702, .sample_records = 2, .sample_bytes = 23,
		   .sample_retrans = 700, .egress_packets = 2, .egress_smtp = 2,
		   .egress_sample_records = 2, .egress_sample_bytes = 8 },
	  .check = check_retrans_free },
	{ "unacked retransmission sampled again, budget charged once; hole filler sampled",
	  .cfg = { .sample_bytes = 16 }, .steps = SEGMENTS_OF_8(1009, 1009, 1001, 1017),
	  .exp = THREE_OF_FOUR_SAMPLED, .check = check_unacked_retrans },
	{ "segments sent in reverse order are all sampled", .cfg = { .sample_bytes = 24 },
	  .steps = SEGMENTS_OF_8(1017, 1009, 1001, 1025),
	  .exp = THREE_OF_FOUR_SAMPLED, .check = check_reverse_order },
	{ "paused flow: no client payload sampled; the server's reply is, and resumes the client at its ack",
	  .setup = setup_paused,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 1040, .payload = "Subject: hi\r\n"),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 1053, .payload = "\r\n.\r\n"),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK | TH_PSH, .seq = 777100, .ack = 1100,
			    .payload = "250 ok\r\n"),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 1100, .payload = "MAIL FROM:<>\r\n") },
	  .exp = { .packets = 3, .pass_smtp = 3, .sample_paused = 2, .sample_records = 1,
		   .sample_bytes = 14, .egress_packets = 1, .egress_smtp = 1,
		   .egress_sample_records = 1, .egress_sample_bytes = 8 },
	  .check = check_paused },
	{ "client stopped (a ban): no client payload, every server byte, a reply does not resume it",
	  .setup = setup_stop_client,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 1040, .payload = "DATA\r\n"),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK | TH_PSH, .seq = 777100, .ack = 1046,
			    .payload = "250 ok\r\n"),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 1046, .payload = "MAIL FROM:<>\r\n"),
		     STEP(XDP_PASS, .flags = TH_ACK | TH_FIN, .seq = 1060, .ack = 777108),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK | TH_FIN, .seq = 777108, .ack = 1061) },
	  .exp = { .packets = 3, .pass_smtp = 3, .sample_stopped = 2, .sample_records = 1,
		   .egress_packets = 2, .egress_smtp = 2, .egress_sample_records = 2,
		   .egress_sample_bytes = 8 },
	  .check = check_client_stopped },
	{ "resumed flow samples from win_in with a fresh budget", .cfg = { .sample_bytes = 10 },
	  .setup = setup_resumed,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 4990, .payload_len = 20),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 5010, .payload_len = 8) },
	  .exp = { .packets = 2, .pass_smtp = 2, .sample_records = 1, .sample_bytes = 10,
		   .sample_budget_done = 1 },
	  .check = check_resumed },
	{ "client syn and rst on an established flow change nothing",
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK, .seq = 777000, .ack = 1001),
		     STEP(XDP_PASS, .flags = TH_ACK | TH_PSH, .seq = 1001, .payload = "EHLO x\r\n"),
		     STEP(XDP_PASS, .flags = TH_SYN, .seq = 424242),
		     STEP(XDP_PASS, .flags = TH_RST, .seq = 99),
		     STEP(XDP_PASS, .flags = TH_ACK | TH_PSH, .seq = 1009,
			  .payload = "MAIL FROM:<a@b.c>\r\n") },
	  .exp = { .packets = 4, .pass_smtp = 4, .sample_records = 3, .sample_bytes = 27,
		   .egress_packets = 1, .egress_smtp = 1, .egress_sample_records = 1 },
	  .check = check_client_syn_rst },
	{ "client syn and rst on a paused flow: still paused", .setup = setup_paused,
	  .steps = { STEP(XDP_PASS, .flags = TH_SYN, .seq = 424242),
		     STEP(XDP_PASS, .flags = TH_RST | TH_ACK, .seq = 1040),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 1040, .payload = "Subject: hi\r\n") },
	  .exp = { .packets = 3, .pass_smtp = 3, .sample_records = 1, .sample_paused = 1 },
	  .check = check_client_syn_rst_paused },
	{ "payloads of 7, 8, 64, 65 bytes copied exactly",
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .payload_len = 7),
		     STEP(XDP_PASS, .flags = TH_ACK, .payload_len = 8),
		     STEP(XDP_PASS, .flags = TH_ACK, .payload_len = 64),
		     STEP(XDP_PASS, .flags = TH_ACK, .payload_len = 65) },
	  .exp = { .packets = 4, .pass_smtp = 4, .sample_records = 4, .sample_bytes = 144 },
	  .check = check_copy_bounds },
	{ "segment longer than a record: split with seq advanced",
	  .cfg = { .sample_bytes = 8192 },
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .seq = 1, .payload_len = 3000) },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 2, .sample_bytes = 3000 },
	  .check = check_split },
	{ "flow stopped by user space: payload not sampled", .setup = setup_stop,
	  .steps = { STEP(XDP_PASS, .flags = TH_ACK, .payload = "DATA\r\n"),
		     STEP(XDP_PASS, .flags = TH_ACK | TH_FIN) },
	  .exp = { .packets = 2, .pass_smtp = 2, .sample_stopped = 1 },
	  .check = check_no_records },
	{ "sampling off: nothing recorded, no flow", .cfg = { .flags = RG_CFG_SAMPLE_OFF },
	  .steps = { STEP(XDP_PASS, .flags = TH_SYN), STEP(XDP_PASS, .flags = TH_ACK, .payload = "x") },
	  .exp = { .packets = 2, .pass_smtp = 2 }, .check = check_no_flow },
	{ "handshake ack and fin recorded, syn and later pure ack not",
	  .steps = { STEP(XDP_PASS, .flags = TH_SYN),
		     TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK),
		     STEP(XDP_PASS, .flags = TH_ACK),
		     STEP(XDP_PASS, .flags = TH_ACK, .payload = "QUIT\r\n"),
		     STEP(XDP_PASS, .flags = TH_ACK),
		     STEP(XDP_PASS, .flags = TH_ACK | TH_FIN) },
	  .exp = { .packets = 5, .pass_smtp = 5, .sample_records = 3, .sample_bytes = 6,
		   .egress_packets = 1, .egress_smtp = 1, .egress_sample_records = 1 },
	  .check = check_ack_then_data },
	{ "client syn: no record, no flow entry",
	  .steps = { STEP(XDP_PASS, .flags = TH_SYN) },
	  .exp = { .packets = 1, .pass_smtp = 1 },
	  .check = check_no_flow },
	{ "handshake ack without a syn-ack seen on egress: no flow, no record",
	  .steps = { STEP(XDP_PASS, .flags = TH_SYN), STEP(XDP_PASS, .flags = TH_ACK) },
	  .exp = { .packets = 2, .pass_smtp = 2 },
	  .check = check_no_flow },
	{ "client syn on a stopped flow: no record, payload still stopped",
	  .setup = setup_stop,
	  .steps = { STEP(XDP_PASS, .flags = TH_SYN),
		     STEP(XDP_PASS, .flags = TH_ACK, .payload = "DATA\r\n") },
	  .exp = { .packets = 2, .pass_smtp = 2, .sample_stopped = 1 } },
	{ "rst without a flow: no flow, no record",
	  .steps = { STEP(XDP_PASS, .flags = TH_RST) },
	  .exp = { .packets = 1, .pass_smtp = 1 }, .check = check_no_flow },
	{ "ring buffer full: counted, never blocks",
	  .cfg = { .sample_bytes = 0xffffffff },
	  .steps = { STEPN(XDP_PASS, RB_RUNS, .flags = TH_ACK, .payload_len = 1400) },
	  .exp = { .packets = RB_RUNS, .pass_smtp = RB_RUNS, .sample_records = RB_FIT,
		   .sample_bytes = RB_FIT * 1400ULL, .sample_ringbuf_full = 100 } },

	/* TC egress: samples the server side, never drops. */
	{ "tc: syn-ack sampled with the server ISN, flow key client->server",
	  .steps = { STEP(XDP_PASS, .seq = 1000),
		     TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK, .seq = 777000, .ack = 1001) },
	  .exp = { .packets = 1, .pass_smtp = 1, .egress_packets = 1,
		   .egress_smtp = 1, .egress_sample_records = 1 },
	  .check = check_synack_record },
	{ "tc: reply payload sampled, dir out",
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_ACK | TH_PSH, .seq = 777001,
			    .payload = "220 mx.example ESMTP") },
	  .exp = { .egress_packets = 1, .egress_smtp = 1, .egress_sample_records = 1,
		   .egress_sample_bytes = 20 },
	  .check = check_reply_record },
	{ "tc: ipv6 vlan reply sampled",
	  .steps = { TCSTEP(.family = 6, .vlans = 1, .src = "2001:db8:ff::1", .dst = V6SRC,
			    .sport = 25, .dport = 40000, .flags = TH_ACK, .payload = "250 ok") },
	  .exp = { .egress_packets = 1, .egress_smtp = 1, .egress_sample_records = 1,
		   .egress_sample_bytes = 6 } },
	{ "tc: not from an SMTP port: counted, not sampled",
	  .steps = { TCSTEP(.sport = 443, .dport = 40000, .flags = TH_ACK, .payload = "x"),
		     TCSTEP(.ethertype = ETH_P_ARP) },
	  .exp = { .egress_packets = 2 }, .check = check_no_records },
	{ "tc: server replies sampled past sample_bytes (no budget on egress)",
	  .cfg = { .sample_bytes = 4 },
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_ACK, .payload = "250-a"),
		     TCSTEP(SERVER_PKT, .flags = TH_ACK, .payload = "250 b") },
	  .exp = { .egress_packets = 2, .egress_smtp = 2, .egress_sample_records = 2,
		   .egress_sample_bytes = 10 } },
	{ "tc: syn-ack of a new connection on a stopped 4-tuple restarts sampling",
	  .setup = setup_stop,
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_SYN | TH_ACK, .seq = 777000, .ack = 1001),
		     STEP(XDP_PASS, .flags = TH_ACK, .seq = 1001, .payload = "EHLO x\r\n") },
	  .exp = { .packets = 1, .pass_smtp = 1, .sample_records = 1, .sample_bytes = 8,
		   .egress_packets = 1, .egress_smtp = 1, .egress_sample_records = 1 } },
	{ "tc: stopped flow not sampled", .setup = setup_stop,
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_ACK, .payload = "354 go ahead") },
	  .exp = { .egress_packets = 1, .egress_smtp = 1, .egress_stopped = 1 },
	  .check = check_no_records },
	{ "tc: truncated packet passes untouched",
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_ACK, .trunc = 14 + 20 + 10) },
	  .exp = { .egress_packets = 1 }, .check = check_no_records },
	{ "tc: pure ack from server not sampled",
	  .steps = { TCSTEP(SERVER_PKT, .flags = TH_ACK) },
	  .exp = { .egress_packets = 1, .egress_smtp = 1 }, .check = check_no_records },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- marks (struct rg_acl_mark): each test changes the map state between
 * packets, so they are written out rather than tabled ---- */

static int verdict_of(struct pkt_spec s)
{
	struct step st = { .pkt = s };

	return run_packet(&st);
}

/* A client segment of the default flow (payload: a command). Its first
 * segment makes the flow's entry, the second marks it, the third goes by
 * the mark. */
#define SEGMENT(...) \
	((struct pkt_spec){ .flags = TH_ACK | TH_PSH, .payload = "NOOP\r\n", \
			    __VA_ARGS__ })
#define SYN_FROM(...) ((struct pkt_spec){ .flags = TH_SYN, __VA_ARGS__ })

static struct rg_stats stats_now(void)
{
	struct rg_stats s;

	stats_sum(&s);
	return s;
}

/* As relayguard's writers do after a change (user/loader.c). */
static void acl_changed(void)
{
	struct rg_maps m = { .acl_gen = map_fd(fx.skel->maps.acl_gen) };

	assert_int_equal(maps_acl_changed(&m), 0);
}

/* The default flow's mark, moved one epoch back: as a second later. */
static void flow_mark_age(void)
{
	struct rg_flow_key k = flow_default();
	struct rg_flow f;
	long slot = flowmap_find(map_fd(fx.skel->maps.flows), TEST_SEED, &k, &f);

	assert_true(slot >= 0);
	assert_int_not_equal(f.clean.epoch, 0);
	f.clean.epoch--;
	assert_int_equal(bpf_map_update_elem(map_fd(fx.skel->maps.flows),
					     &slot, &f, BPF_ANY), 0);
}

/* Marks also end with their epoch (~1.07 s): of MARKED_RUNS packets that
 * a mark could judge, one may fall after an epoch's end and be judged
 * afresh (and mark again), never more in a run this short. */
#define MARKED_RUNS 4

/* No limits; the default flow's first two segments passed: the flow is
 * marked, its next segment goes by the mark. */
static void mark_default_flow(void)
{
	config_put((struct rg_config){ 0 });
	assert_int_equal(verdict_of(SEGMENT(.seq = 1000)), XDP_PASS);
	assert_int_equal(verdict_of(SEGMENT(.seq = 1006)), XDP_PASS);
}

/* Per-source SYN limits that never bite (flags: the config's). */
static void config_syn_limits(__u32 flags)
{
	config_put((struct rg_config){
		.flags = flags, .syn_rate = 1000, .syn_burst = 1000 });
}

/* SYN limits that never bite; the default source's first SYN passed: its
 * bucket is marked. */
static void mark_bucket(void)
{
	config_syn_limits(0);
	assert_int_equal(verdict_of(SYN_FROM(.seq = 1)), XDP_PASS);
}

/* k's bucket's marks moved one epoch back: as a second later. */
static void bucket_marks_age(struct rg_src_key k)
{
	struct rg_bucket b;

	bucket_get(k, &b);
	assert_true(b.clean.epoch || b.banned.epoch);
	if (b.clean.epoch)
		b.clean.epoch--;
	if (b.banned.epoch)
		b.banned.epoch--;
	bucket_put(k, &b);
}

/* MARKED_RUNS packets like p, seq step apart, each passed; returns
 * acl_cached, at least MARKED_RUNS - 1. */
static __u64 pass_marked(struct pkt_spec p, uint32_t step)
{
	__u64 cached;
	int i;

	for (i = 0; i < MARKED_RUNS; i++, p.seq += step)
		assert_int_equal(verdict_of(p), XDP_PASS);
	cached = stats_now().acl_cached;
	assert_true(cached >= MARKED_RUNS - 1);
	return cached;
}

/* p, after a write that bumps the generation: dropped at once, by a
 * verdict made afresh (acl_cached still cached); the counters after it. */
static struct rg_stats drop_after_bump(struct pkt_spec p, __u64 cached)
{
	struct rg_stats s;

	acl_changed();
	assert_int_equal(verdict_of(p), XDP_DROP);
	s = stats_now();
	assert_int_equal(s.acl_cached, cached);
	return s;
}

static void test_mark_flow_ban_after_bump(void **state)
{
	__u64 cached;

	(void)state;
	mark_default_flow();
	assert_int_equal(stats_now().acl_cached, 0);
	cached = pass_marked(SEGMENT(.seq = 1012), 6);
	ban4(CLEAN4, 3600);
	assert_int_equal(drop_after_bump(SEGMENT(.seq = 2000), cached).drop_ban,
			 1);
}

/* A write that does not bump the generation (bpftool) holds from the
 * next epoch on. */
static void test_mark_flow_epoch_bounds_raw_write(void **state)
{
	(void)state;
	mark_default_flow();
	deny("192.0.2.0/24");
	flow_mark_age();
	assert_int_equal(verdict_of(SEGMENT(.seq = 1012)), XDP_DROP);
	assert_int_equal(stats_now().drop_deny, 1);
	assert_int_equal(stats_now().acl_cached, 0);
}

/* The buckets judge a SYN, never the flow's mark: a ban written without a
 * bump still drops a SYN on a marked flow at once. */
static void test_mark_flow_not_for_syn(void **state)
{
	(void)state;
	mark_default_flow();
	ban4(CLEAN4, 3600);
	assert_int_equal(verdict_of(SYN_FROM(.seq = 5000)), XDP_DROP);
	assert_int_equal(stats_now().drop_ban, 1);
}

/* A flow's slot given to another flow does not keep the old flow's mark:
 * four flows of other clients fill the default flow's set; the fourth
 * takes the default flow's slot, and its source, banned without a bump,
 * is dropped on its next segment. */
static void test_mark_not_inherited_by_new_flow(void **state)
{
	struct client c[RG_FLOW_WAYS];
	int w;

	(void)state;
	mark_default_flow();
	for (w = 0; w < RG_FLOW_WAYS; w++) {
		c[w] = colliding_client(w);
		assert_int_equal(verdict_of(SEGMENT(.src = c[w].addr,
						    .sport = c[w].port,
						    .seq = 1000)),
				 XDP_PASS);
	}
	ban4(c[RG_FLOW_WAYS - 1].addr, 3600);
	assert_int_equal(verdict_of(SEGMENT(.src = c[RG_FLOW_WAYS - 1].addr,
					    .sport = c[RG_FLOW_WAYS - 1].port,
					    .seq = 1006)),
			 XDP_DROP);
}

/* A banned source's allow lookup is marked on its ban; an allow entry
 * written with a bump lets its next SYN pass. */
static void test_mark_ban_allow_after_bump(void **state)
{
	struct rg_ban b;

	(void)state;
	config_put((struct rg_config){ 0 });
	ban4(BANNED4, 3600);
	assert_int_equal(verdict_of(SYN_FROM(.src = BANNED4)), XDP_DROP);
	b = ban4_get(BANNED4);
	assert_int_not_equal(b.not_allowed.epoch, 0);
	assert_int_equal(verdict_of(SYN_FROM(.src = BANNED4)), XDP_DROP);
	allow(BANNED4 "/32");
	acl_changed();
	assert_int_equal(verdict_of(SYN_FROM(.src = BANNED4)), XDP_PASS);
	assert_int_equal(stats_now().drop_ban, 2);
	assert_int_equal(stats_now().pass_allow, 1);
}

/* A clean source's bucket is marked: its next SYN skips deny and allow
 * (counted); a deny entry written with a bump drops the one after. */
static void test_mark_bucket_deny_after_bump(void **state)
{
	__u64 cached;

	(void)state;
	mark_bucket();
	cached = pass_marked(SYN_FROM(.seq = 2), 1);
	deny(CLEAN4 "/32");
	assert_int_equal(drop_after_bump(SYN_FROM(.seq = 100), cached).drop_deny,
			 1);
}

/* A clean source's marked bucket spares its SYNs the ban lookup too; a
 * ban written with a bump drops the next one at once. */
static void test_mark_bucket_ban_after_bump(void **state)
{
	__u64 cached;

	(void)state;
	mark_bucket();
	cached = pass_marked(SYN_FROM(.seq = 2), 1);
	ban4(CLEAN4, 3600);
	assert_int_equal(drop_after_bump(SYN_FROM(.seq = 100), cached).drop_ban,
			 1);
}

/* A ban written without a bump (bpftool) holds for a marked bucket once
 * its mark's epoch has ended (made to end here by ageing the mark). */
static void test_mark_bucket_epoch_bounds_raw_ban(void **state)
{
	struct rg_bucket b;

	(void)state;
	mark_bucket();
	ban4(CLEAN4, 3600);
	bucket_get(src4(CLEAN4), &b);
	assert_int_not_equal(b.clean.epoch, 0);
	bucket_marks_age(src4(CLEAN4));
	assert_int_equal(verdict_of(SYN_FROM(.seq = 2)), XDP_DROP);
	assert_int_equal(stats_now().drop_ban, 1);
}

/* ---- the banned mark on the SYN bucket (bpf/ratelimit.h
 * bucket_mark_banned) ---- */

#define EPOCH_NS (1ULL << RG_ACL_EPOCH_SHIFT)
/* rg_now() is read once a jiffy: the data plane's clock may lag the
 * test's by up to one (10 ms at HZ=100). */
#define CLOCK_LAG_NS 20000000ULL
#define BAN_SYNS     8
#define EPOCH_TRIES  5

/* The end of the mark epoch of boot-clock instant t (the instant a mark
 * stamped at t stops matching). */
static __u64 epoch_end(__u64 t)
{
	return ((t >> RG_ACL_EPOCH_SHIFT) + 1) << RG_ACL_EPOCH_SHIFT;
}

/* The boot clock at an instant at least left_ns before the end of its
 * mark epoch and CLOCK_LAG_NS after its start (so that the data plane's
 * clock is in the same epoch); polls into the next epoch if need be. */
static __u64 epoch_room(__u64 left_ns)
{
	__u64 now;

	for (;;) {
		now = boot_ns();
		if (now % EPOCH_NS >= CLOCK_LAG_NS &&
		    epoch_end(now) - now >= left_ns)
			return now;
		usleep(1000);
	}
}

/* Waits (polling) until the data plane's clock is past t. */
static void wait_past(__u64 t)
{
	while (boot_ns() <= t + CLOCK_LAG_NS)
		usleep(1000);
}

/* CLEAN4 banned for an hour (flags: the config's, with SYN limits that
 * never bite) and its first SYN judged by the ban: its bucket carries the
 * banned mark, early enough in its epoch for the SYNs a test sends next
 * to be dropped on it. */
static void mark_banned(__u32 flags)
{
	struct rg_bucket b;

	epoch_room(EPOCH_NS / 4);
	config_syn_limits(flags);
	ban4(CLEAN4, 3600);
	assert_int_equal(verdict_of(SYN_FROM(.seq = 1)),
			 flags & RG_CFG_MONITOR ? XDP_PASS : XDP_DROP);
	bucket_get(src4(CLEAN4), &b);
	assert_int_not_equal(b.banned.epoch, 0);
	assert_int_equal(b.ban_hits, 0);
}

/* The runs of a test whose counts need all its SYNs judged in the epoch
 * of the mark they go by. */
struct epoch_run {
	int tries;
	__u64 start;
};

/* Whether to run the test's SYNs (again): the first time, and on a fresh
 * fixture while a run ended past the epoch it began in (a stall on a
 * loaded machine: the SYNs after the epoch's end were judged by the
 * lookup and stamped a new mark). Each run begins with room in its epoch;
 * it asserts only what such a stall leaves as it is, the test the rest
 * once a run held. */
static int epoch_run_again(struct epoch_run *r)
{
	if (r->tries && boot_ns() < epoch_end(r->start))
		return 0;
	if (r->tries == EPOCH_TRIES)
		fail_msg("%d runs in a row ended past their epoch",
			 EPOCH_TRIES);
	if (r->tries++) {
		fx_teardown(NULL);
		assert_int_equal(fx_setup(NULL), 0);
	}
	r->start = epoch_room(EPOCH_NS / 4);
	return 1;
}

static int src_key_eq(struct rg_src_key a, struct rg_src_key b)
{
	return !memcmp(&a, &b, sizeof(a));
}

/* The SYNs of addr a ban dropped, as the maps count them: the ban's hits,
 * and (pending) those its bucket's banned mark dropped since the data
 * plane last looked the ban up, if the slot still holds addr. */
struct ban_count {
	__u64 hits, pending;
};

static struct ban_count ban_count4(const char *addr)
{
	struct ban_count c = { .hits = ban4_get(addr).hits };
	struct rg_bucket b;

	bucket_get(src4(addr), &b);
	if (src_key_eq(b.src, src4(addr)))
		c.pending = b.ban_hits;
	return c;
}

/* n SYNs of addr, each dropped. */
static void drop_syns(const char *addr, int n)
{
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(
			verdict_of(SYN_FROM(.src = addr, .seq = 2 + i)),
			XDP_DROP);
}

/* addr's ban counts drops SYNs (its hits and those pending). */
static struct ban_count ban_counted4(const char *addr, __u64 drops)
{
	struct ban_count c = ban_count4(addr);

	assert_int_equal(c.hits + c.pending, drops);
	return c;
}

/* A banned source's SYN stamps the banned mark on its bucket; its next
 * SYNs are dropped on the mark and counted for the ban. */
static void test_ban_mark_drops_on_mark(void **state)
{
	struct epoch_run r = { 0 };
	struct rg_bucket b;

	(void)state;
	while (epoch_run_again(&r)) {
		mark_banned(0);
		assert_int_equal(verdict_of(SYN_FROM(.seq = 3)), XDP_DROP);
	}
	bucket_get(src4(CLEAN4), &b);
	assert_int_equal(b.ban_hits, 1);
	assert_int_equal(stats_now().acl_cached, 1);
	assert_int_equal(stats_now().drop_ban, 2);
}

/* The SYNs dropped on the mark wait in the bucket: the ban's hits stay at
 * its one lookup. The next lookup (the mark aged, or a bump) adds them to
 * the ban's hits: each dropped SYN is counted once, exactly. */
static void test_ban_mark_hits_reach_ban(void **state)
{
	struct epoch_run r = { 0 };
	struct ban_count first = { 0 }, c;
	__u64 cached = 0;

	(void)state;
	while (epoch_run_again(&r)) {
		mark_banned(0);
		drop_syns(CLEAN4, BAN_SYNS);
		first = ban_counted4(CLEAN4, BAN_SYNS + 1);
		cached = stats_now().acl_cached;
		bucket_marks_age(src4(CLEAN4));
		drop_syns(CLEAN4, 1);
		c = ban_counted4(CLEAN4, BAN_SYNS + 2);
		assert_int_equal(c.pending, 0);
		drop_syns(CLEAN4, BAN_SYNS);
		acl_changed();
		drop_syns(CLEAN4, 1);
	}
	assert_int_equal(first.hits, 1);
	assert_int_equal(cached, BAN_SYNS);
	c = ban_counted4(CLEAN4, 2 * BAN_SYNS + 3);
	assert_int_equal(c.pending, 0);
	assert_int_equal(stats_now().drop_ban, 2 * BAN_SYNS + 3);
	assert_int_equal(stats_now().acl_cached, 2 * BAN_SYNS);
}

/* A ban ending with the mark's epoch is not stamped (a mark would
 * outlive it); one ending just after is. Two sources banned until the
 * epoch's end less 1 ns, and until its end: both SYNs dropped means both
 * were judged in that epoch (else, the clock slipped: again). */
static void test_ban_mark_not_past_expiry(void **state)
{
	struct rg_bucket b;
	__u64 now = 0;
	int try, dropped = 0;

	(void)state;
	assert_int_not_equal(rg_src_slot4(inet_addr(BANNED4), TEST_SEED),
			     rg_src_slot4(inet_addr(CLEAN4), TEST_SEED));
	config_syn_limits(0);
	for (try = 0; try < EPOCH_TRIES && !dropped; try++) {
		now = epoch_room(EPOCH_NS / 8);
		ban4_until(BANNED4, epoch_end(now) - 1);
		ban4_until(CLEAN4, epoch_end(now));
		acl_changed();
		dropped = verdict_of(SYN_FROM(.src = BANNED4)) == XDP_DROP &&
			  verdict_of(SYN_FROM(.src = CLEAN4)) == XDP_DROP;
	}
	assert_true(dropped);
	bucket_get(src4(BANNED4), &b);
	assert_true(src_key_eq(b.src, src4(BANNED4)));
	assert_int_equal(b.banned.epoch, 0);
	bucket_get(src4(CLEAN4), &b);
	assert_int_equal(b.banned.epoch, (now >> RG_ACL_EPOCH_SHIFT) + 1);
}

/* A ban expiring in the middle of an epoch: its SYNs are judged by the
 * lookup until it expires, and the first SYN after passes. */
static void test_ban_mark_expiry_mid_epoch(void **state)
{
	struct rg_stats s0, s;
	struct rg_bucket b;
	__u64 expires = 0;
	int try, dropped = 0;

	(void)state;
	config_syn_limits(0);
	for (try = 0; try < EPOCH_TRIES && !dropped; try++) {
		expires = epoch_room(EPOCH_NS / 2) + EPOCH_NS / 8;
		ban4_until(CLEAN4, expires);
		acl_changed();
		s0 = stats_now();
		dropped = verdict_of(SYN_FROM(.seq = 1)) == XDP_DROP &&
			  verdict_of(SYN_FROM(.seq = 2)) == XDP_DROP;
	}
	assert_true(dropped);
	s = stats_now();
	assert_int_equal(s.drop_ban, s0.drop_ban + 2);
	assert_int_equal(s.acl_cached, s0.acl_cached);
	bucket_get(src4(CLEAN4), &b);
	assert_int_equal(b.banned.epoch, 0);
	wait_past(expires);
	assert_int_equal(verdict_of(SYN_FROM(.seq = 3)), XDP_PASS);
	assert_int_equal(stats_now().ban_expired, s.ban_expired + 1);
}

static void ban4_delete(const char *addr)
{
	uint32_t key;

	assert_int_equal(inet_pton(AF_INET, addr, &key), 1);
	assert_int_equal(bpf_map_delete_elem(map_fd(fx.skel->maps.bans4), &key),
			 0);
}

/* A ban on addr that expires before the current ACL epoch ends (at least
 * 0.1 s from now), so the data plane must not stamp its mark. */
static void ban4_within_epoch(const char *addr)
{
	ban4_until(addr, epoch_end(epoch_room(EPOCH_NS / 10)) - 1);
}

/* A ban removed as relayguard removes it (with a bump): the next SYN
 * passes at once, not dropped on the stale mark. */
static void test_ban_mark_unban_after_bump(void **state)
{
	(void)state;
	mark_banned(0);
	ban4_delete(CLEAN4);
	acl_changed();
	assert_int_equal(verdict_of(SYN_FROM(.seq = 2)), XDP_PASS);
	assert_int_equal(stats_now().drop_ban, 1);
	assert_int_equal(stats_now().acl_cached, 0);
}

/* A ban removed without a bump (bpftool) still drops on the mark until
 * the mark's epoch ends (made to end here by ageing the mark). */
static void test_ban_mark_epoch_bounds_raw_unban(void **state)
{
	struct epoch_run r = { 0 };
	int verdict = XDP_PASS;

	(void)state;
	while (epoch_run_again(&r)) {
		mark_banned(0);
		ban4_delete(CLEAN4);
		verdict = verdict_of(SYN_FROM(.seq = 2));
	}
	assert_int_equal(verdict, XDP_DROP);
	assert_int_equal(stats_now().acl_cached, 1);
	bucket_marks_age(src4(CLEAN4));
	assert_int_equal(verdict_of(SYN_FROM(.seq = 3)), XDP_PASS);
	assert_int_equal(stats_now().drop_ban, 2);
	assert_int_equal(stats_now().acl_cached, 1);
}

/* An allow entry written with a bump lets the next SYN of a source
 * marked banned pass. */
static void test_ban_mark_allow_after_bump(void **state)
{
	(void)state;
	mark_banned(0);
	allow(CLEAN4 "/32");
	acl_changed();
	assert_int_equal(verdict_of(SYN_FROM(.seq = 2)), XDP_PASS);
	assert_int_equal(stats_now().pass_allow, 1);
	assert_int_equal(stats_now().drop_ban, 1);
}

/* Monitor mode: a SYN on the banned mark is counted as monitor_ban and
 * passes. */
static void test_ban_mark_monitor(void **state)
{
	struct epoch_run r = { 0 };
	struct rg_stats s;

	(void)state;
	while (epoch_run_again(&r)) {
		mark_banned(RG_CFG_MONITOR);
		assert_int_equal(verdict_of(SYN_FROM(.seq = 2)), XDP_PASS);
	}
	s = stats_now();
	assert_int_equal(s.acl_cached, 1);
	assert_int_equal(s.monitor_ban, 2);
	assert_int_equal(s.pass_monitor, 2);
	assert_int_equal(s.drop_ban, 0);
}

/* A first fragment is judged by the lookup, never by the banned mark
 * (its flow's state decides it first), and stamps nothing. */
static void test_ban_mark_not_for_first_fragment(void **state)
{
	struct epoch_run r = { 0 };
	struct ban_count c;

	(void)state;
	while (epoch_run_again(&r)) {
		mark_banned(0);
		assert_int_equal(verdict_of(SYN_FROM(.seq = 2)), XDP_DROP);
		assert_int_equal(verdict_of(SYN_FROM(.seq = 3, .frag = 0x2000,
						     .payload = "x")),
				 XDP_DROP);
	}
	assert_int_equal(stats_now().acl_cached, 1);
	assert_int_equal(stats_now().drop_ban, 3);
	c = ban_count4(CLEAN4);
	assert_int_equal(c.hits, 2);
	assert_int_equal(c.pending, 1);
}

/* Without a per-source rate there is no bucket and no mark: the ban's
 * lookup drops every SYN. */
static void test_ban_mark_none_without_syn_rate(void **state)
{
	struct rg_bucket b;

	(void)state;
	config_put((struct rg_config){ 0 });
	ban4(CLEAN4, 3600);
	drop_syns(CLEAN4, BAN_SYNS);
	assert_int_equal(stats_now().drop_ban, BAN_SYNS);
	assert_int_equal(stats_now().acl_cached, 0);
	assert_int_equal(ban4_get(CLEAN4).hits, BAN_SYNS);
	bucket_get(src4(CLEAN4), &b);
	assert_int_equal(b.src.family, 0);
	assert_int_equal(b.banned.epoch, 0);
}

/* Another IPv4 source whose bucket has addr's slot (into buf). */
static const char *slot_twin4(const char *addr, char *buf)
{
	struct rg_src_key k = src4(addr), t = { .family = AF_INET };
	uint32_t slot = rg_src_slot(&k, TEST_SEED), a;

	for (a = 0x0a000001; a < 0x0b000000; a++) {
		t.addr[0] = a >> 24;
		t.addr[1] = a >> 16;
		t.addr[2] = a >> 8;
		t.addr[3] = a;
		if (rg_src_slot(&t, TEST_SEED) == slot)
			return inet_ntop(AF_INET, t.addr, buf, INET_ADDRSTRLEN);
	}
	fail_msg("no source in 10/8 shares %s's bucket slot", addr);
	return NULL;
}

/* CLEAN4 marked banned, BAN_SYNS SYNs dropped on the mark; another
 * source of its slot into mate (INET_ADDRSTRLEN bytes). */
static void banned_slot_with_mate(char *mate)
{
	slot_twin4(CLEAN4, mate);
	mark_banned(0);
	drop_syns(CLEAN4, BAN_SYNS);
	ban_counted4(CLEAN4, BAN_SYNS + 1);
}

/* A clean source taking a banned source's slot first adds the SYNs the
 * mark dropped to the banned source's ban: its hits are exact. */
static void test_ban_mark_slot_taken_by_clean(void **state)
{
	char mate[INET_ADDRSTRLEN];
	struct rg_bucket b;

	(void)state;
	banned_slot_with_mate(mate);
	assert_int_equal(verdict_of(SYN_FROM(.src = mate, .seq = 1)), XDP_PASS);
	bucket_get(src4(mate), &b);
	assert_true(src_key_eq(b.src, src4(mate)));
	assert_int_equal(b.ban_hits, 0);
	assert_int_equal(ban4_get(CLEAN4).hits, BAN_SYNS + 1);
}

/* A source taking over the slot of a source marked banned starts without
 * that mark: its SYNs pass. */
static void test_ban_mark_not_taken_by_slot_twin(void **state)
{
	char twin[INET_ADDRSTRLEN];

	(void)state;
	banned_slot_with_mate(twin);
	assert_int_equal(verdict_of(SYN_FROM(.src = twin, .seq = 3)), XDP_PASS);
	assert_int_equal(verdict_of(SYN_FROM(.src = twin, .seq = 4)), XDP_PASS);
	assert_int_equal(stats_now().pass_smtp, 2);
}

/* A banned source taking over the slot of a source marked clean starts
 * without that mark: a ban too short to be marked still drops its every
 * SYN. */
static void test_clean_mark_not_taken_by_banned_twin(void **state)
{
	char twin[INET_ADDRSTRLEN];

	(void)state;
	config_syn_limits(0);
	slot_twin4(CLEAN4, twin);
	ban4_within_epoch(CLEAN4);
	assert_int_equal(verdict_of(SYN_FROM(.src = twin, .seq = 2)), XDP_PASS);
	assert_int_equal(verdict_of(SYN_FROM(.seq = 3)), XDP_DROP);
	assert_int_equal(verdict_of(SYN_FROM(.seq = 4)), XDP_DROP);
	assert_int_equal(stats_now().drop_ban, 2);
}

/* A banned source taking a banned source's slot: the first's pending hits
 * go to its ban first; the slot's mark then drops the second's SYNs. */
static void test_ban_mark_slot_taken_by_banned(void **state)
{
	struct epoch_run r = { 0 };
	char mate[INET_ADDRSTRLEN];
	struct rg_bucket b;

	(void)state;
	while (epoch_run_again(&r)) {
		banned_slot_with_mate(mate);
		ban4(mate, 3600);
		drop_syns(mate, 3);
	}
	assert_int_equal(ban4_get(CLEAN4).hits, BAN_SYNS + 1);
	ban_counted4(mate, 3);
	bucket_get(src4(mate), &b);
	assert_true(src_key_eq(b.src, src4(mate)));
	assert_int_equal(b.ban_hits, 2);
	assert_int_equal(stats_now().acl_cached, BAN_SYNS + 2);
}

/* SYNs dropped on the mark of a ban removed since (with a bump) are not
 * counted for a later ban of the same source: its hits are its drops. */
static void test_ban_mark_pending_hits_not_for_next_ban(void **state)
{
	(void)state;
	mark_banned(0);
	drop_syns(CLEAN4, BAN_SYNS);
	ban4_delete(CLEAN4);
	acl_changed();
	assert_int_equal(verdict_of(SYN_FROM(.seq = 100)), XDP_PASS);
	ban4(CLEAN4, 3600);
	acl_changed();
	assert_int_equal(verdict_of(SYN_FROM(.seq = 101)), XDP_DROP);
	ban_counted4(CLEAN4, 1);
}

/* A source of an IPv6 /64 banned (the default ipv6_prefix): its group's
 * bucket is marked, and SYNs of two addresses of the group are dropped
 * on the mark, counted for the group's ban. */
static void test_ban_mark_ipv6_group(void **state)
{
	struct rg_src_key k = { .family = AF_INET6 };
	struct epoch_run r = { 0 };
	struct rg_ip6 key;
	struct rg_bucket b;
	struct rg_ban ban;

	(void)state;
	while (epoch_run_again(&r)) {
		config_syn_limits(0);
		ban6("2001:db8:1:2::", 3600);
		assert_int_equal(
			verdict_of(SYN_FROM(.family = 6, .src = V6SRC)),
			XDP_DROP);
		assert_int_equal(
			verdict_of(SYN_FROM(.family = 6, .src = V6SRC)),
			XDP_DROP);
		assert_int_equal(
			verdict_of(SYN_FROM(.family = 6,
					    .src = "2001:db8:1:2:ff::99")),
			XDP_DROP);
	}
	assert_int_equal(stats_now().acl_cached, 2);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2::", k.addr), 1);
	bucket_get(k, &b);
	assert_true(src_key_eq(b.src, k));
	assert_int_not_equal(b.banned.epoch, 0);
	assert_int_equal(b.ban_hits, 2);
	memcpy(key.addr, k.addr, sizeof(key.addr));
	assert_int_equal(
		bpf_map_lookup_elem(map_fd(fx.skel->maps.bans6), &key, &ban),
		0);
	assert_int_equal(ban.hits, 1);
}

/* A marked bucket does not let a SYN carrying data in a first fragment
 * past the fragment rule (the daemon would read only part of it). */
static void test_mark_bucket_not_for_first_fragment(void **state)
{
	(void)state;
	mark_bucket();
	assert_int_equal(verdict_of(SYN_FROM(.seq = 2)), XDP_PASS);
	assert_int_equal(verdict_of(SYN_FROM(.seq = 3, .frag = 0x2000,
					     .payload = "RCPT TO:<v@x.example>")),
			 XDP_DROP);
	assert_int_equal(stats_now().drop_frag_payload, 1);
}

/* A SYN whose first fragment carries data on a 4-tuple whose flow is
 * stopped (the fragment rule lets it by) is still held to its source's
 * bucket. */
static void test_fragmented_syn_rate_limited(void **state)
{
	struct pkt_spec syn = SYN_FROM(.frag = 0x2000, .payload = "x");

	(void)state;
	config_put((struct rg_config){ .syn_rate = 1, .syn_burst = 1 });
	setup_stop();
	assert_int_equal(verdict_of(syn), XDP_PASS);
	assert_int_equal(verdict_of(syn), XDP_DROP);
	assert_int_equal(stats_now().drop_syn_rate, 1);
}

/* ---- the global SYN cap, taken by each CPU in lots (bpf/ratelimit.h) ---- */

/* The nth CPU this test may run on (n counted in its affinity mask), or
 * -1: none. */
static int allowed_cpu(int n)
{
	cpu_set_t set;
	int cpu;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && n-- == 0)
			return cpu;
	return -1;
}

static void run_on(int cpu)
{
	assert_int_equal(cpu_pin(cpu), 0);
}

static struct rg_bucket gsyn_get(void)
{
	struct rg_bucket b;
	uint32_t zero = 0;

	assert_int_equal(
		bpf_map_lookup_elem(map_fd(fx.skel->maps.rg_gsyn), &zero, &b),
		0);
	return b;
}

/* A SYN from the nth of many sources (the per-source bucket is off in
 * these tests, so only the global cap judges them). */
static int syn_from_nth(int n)
{
	char addr[INET_ADDRSTRLEN];

	snprintf(addr, sizeof(addr), "198.18.%d.%d", n / 250, 1 + n % 250);
	return verdict_of(SYN_FROM(.src = addr));
}

#define GSYN_BURST 160 /* a lot of 8 (RG_GSYN_LOT): burst / 16 is more */
#define GSYN_LOT   8

static void gsyn_setup(__u32 rate)
{
	config_put((struct rg_config){ .global_syn_rate = rate,
				       .global_syn_burst = GSYN_BURST });
}

/* The first SYN takes a whole lot from the shared bucket in one swap:
 * the bucket's time moves GSYN_LOT intervals (1 s each) at once, and the
 * lot's other tokens are spent on this CPU without touching it. */
static void test_gsyn_lot_taken_at_once(void **state)
{
	uint64_t before;
	__u64 tat;
	int i;

	(void)state;
	run_on(allowed_cpu(0));
	gsyn_setup(1);
	before = boot_ns();
	assert_int_equal(syn_from_nth(0), XDP_PASS);
	tat = gsyn_get().tat_ns;
	assert_true(tat >= before + (GSYN_LOT - 1) * 1000000000ULL);
	for (i = 1; i < GSYN_LOT; i++)
		assert_int_equal(syn_from_nth(i), XDP_PASS);
	assert_int_equal(gsyn_get().tat_ns, tat);
	assert_int_equal(syn_from_nth(GSYN_LOT), XDP_PASS);
	assert_true(gsyn_get().tat_ns >= tat + GSYN_LOT * 1000000000ULL);
}

/* Whatever CPU a SYN lands on, no more pass than the cap: lots left on
 * one CPU are not taken twice, and few tokens lie idle in them. */
static void test_gsyn_lots_hold_cap_across_cpus(void **state)
{
	int cpus[2] = { allowed_cpu(0), allowed_cpu(1) }, n_cpus, i, passed = 0;

	(void)state;
	n_cpus = cpus[1] < 0 ? 1 : 2;
	gsyn_setup(1);
	for (i = 0; i < GSYN_BURST + 40; i++) {
		if (i % 3 == 0)
			run_on(cpus[(i / 3) % n_cpus]);
		passed += syn_from_nth(i) == XDP_PASS;
	}
	assert_true(passed <= GSYN_BURST);
	assert_true(passed >= GSYN_BURST - n_cpus * (GSYN_LOT - 1));
	assert_int_equal(stats_now().drop_syn_global, GSYN_BURST + 40 - passed);
}

/* A lot lapses once the time of its last token has come: its unspent
 * tokens are not kept for later (1000/s: a lot of 8 lasts 8 ms). */
static void test_gsyn_lot_lapses(void **state)
{
	struct timespec pause = { .tv_nsec = 30 * 1000000L };
	uint64_t resumed;

	(void)state;
	run_on(allowed_cpu(0));
	gsyn_setup(1000);
	assert_int_equal(syn_from_nth(0), XDP_PASS);
	nanosleep(&pause, NULL);
	resumed = boot_ns();
	assert_int_equal(syn_from_nth(1), XDP_PASS);
	assert_true(gsyn_get().tat_ns > resumed);
}

#define MARK_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

static const struct CMUnitTest mark_tests[] = {
	MARK_TEST(test_mark_flow_ban_after_bump),
	MARK_TEST(test_mark_flow_epoch_bounds_raw_write),
	MARK_TEST(test_mark_flow_not_for_syn),
	MARK_TEST(test_mark_not_inherited_by_new_flow),
	MARK_TEST(test_mark_ban_allow_after_bump),
	MARK_TEST(test_mark_bucket_deny_after_bump),
	MARK_TEST(test_mark_bucket_ban_after_bump),
	MARK_TEST(test_mark_bucket_epoch_bounds_raw_ban),
	MARK_TEST(test_mark_bucket_not_for_first_fragment),
	MARK_TEST(test_ban_mark_drops_on_mark),
	MARK_TEST(test_ban_mark_hits_reach_ban),
	MARK_TEST(test_ban_mark_not_past_expiry),
	MARK_TEST(test_ban_mark_expiry_mid_epoch),
	MARK_TEST(test_ban_mark_unban_after_bump),
	MARK_TEST(test_ban_mark_epoch_bounds_raw_unban),
	MARK_TEST(test_ban_mark_allow_after_bump),
	MARK_TEST(test_ban_mark_monitor),
	MARK_TEST(test_ban_mark_not_for_first_fragment),
	MARK_TEST(test_ban_mark_none_without_syn_rate),
	MARK_TEST(test_ban_mark_slot_taken_by_clean),
	MARK_TEST(test_ban_mark_not_taken_by_slot_twin),
	MARK_TEST(test_clean_mark_not_taken_by_banned_twin),
	MARK_TEST(test_ban_mark_slot_taken_by_banned),
	MARK_TEST(test_ban_mark_pending_hits_not_for_next_ban),
	MARK_TEST(test_ban_mark_ipv6_group),
	MARK_TEST(test_fragmented_syn_rate_limited),
	MARK_TEST(test_gsyn_lot_taken_at_once),
	MARK_TEST(test_gsyn_lots_hold_cap_across_cpus),
	MARK_TEST(test_gsyn_lot_lapses),
};

int main(void)
{
	static struct CMUnitTest tests[N_CASES];
	size_t i;

	if (geteuid() != 0) {
		printf("SKIP: BPF_PROG_TEST_RUN needs root\n");
		return 77;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	/* e.g. TEST_FILTER='test_ban_mark_*': only the tests so named */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	for (i = 0; i < N_CASES; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].setup_func = fx_setup;
		tests[i].teardown_func = fx_teardown;
		tests[i].initial_state = (void *)&cases[i];
	}
	return cmocka_run_group_tests_name("bpf_verdicts", tests, NULL, NULL) |
	       cmocka_run_group_tests_name("bpf_marks", mark_tests, NULL, NULL);
}
