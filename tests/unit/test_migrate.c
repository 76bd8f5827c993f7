// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The ABI steps of the migration: every field of an ABI-3 ban, bucket,
 * flow, counter set and config carried into this build's layout, the
 * fields ABI 4 added zeroed; every ABI-4 ban, flow and counter carried
 * whole; which ABIs can be migrated; the SYN buckets never carried from
 * ABI <= 4 (ABI 5 moved their slots); and migrate_map() on real maps of
 * ABI 3's and 4's layouts (hash, array with free slots, per-CPU array, LPM
 * trie, ring buffer) and the catch-up after the swap, which needs root. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi3.h"
#include "abi4.h"
#include "maptests.h"
#include "migrate.h"
#include "names.h"
#include "unit.h"

static const struct rg_acl_mark zero_mark;

/* An ABI-`from` value of map name converted into n (size bytes), n
 * poisoned first so that a field a step forgets shows. */
static void convert(unsigned int from, const char *name, const void *old,
		    void *n, size_t size)
{
	memset(n, 0xaa, size);
	migrate_convert(from, name, old, n, size);
}

static struct rg3_ban old_ban(unsigned int i)
{
	struct rg3_ban b = {
		.expires_ns = 1000000000000ULL + i,
		.hits = 77 + i,
		.created_ns = 400000000000ULL + i,
		.first_hit_ns = 400000000500ULL + i,
		.reason = RG_REASON_RELAY_ATTEMPT,
		.offences = 3 + i,
		.origin = RG_ORIGIN_CS_LISTS,
		.origin_tag = "tor-ex",
	};

	return b;
}

/* A number field an ABI-3 value shares with this build's, by name:
 * carried over as it was (named when not). */
static void assert_carried(const char *field, uint64_t now, uint64_t was)
{
	if (now != was)
		fail_msg("%s: %llu after the conversion, %llu before", field,
			 (unsigned long long)now, (unsigned long long)was);
}

#define ASSERT_CARRIED(f) assert_carried(#f, n->f, o->f);

/* The number fields of an ABI-3 ban and flow, for ASSERT_CARRIED. */
#define BAN3_NUMBERS(X)                                                        \
	X(expires_ns)                                                          \
	X(hits) X(created_ns) X(first_hit_ns) X(reason) X(offences) X(origin)
#define FLOW3_NUMBERS(X)                                                       \
	X(sampled_in) X(sampled_out) X(flags) X(win_in) X(last_ns) X(srv_ack)
/* And of an ABI-4 ban, flow and bucket (ABI 4 added the marks). */
#define BAN4_NUMBERS(X)	   BAN3_NUMBERS(X) X(not_allowed.gen) X(not_allowed.epoch)
#define FLOW4_NUMBERS(X)   FLOW3_NUMBERS(X) X(clean.gen) X(clean.epoch) X(pad)
#define BUCKET4_NUMBERS(X) X(tat_ns) X(drops) X(clean.gen) X(clean.epoch)

static void assert_ban(const struct rg_ban *n, const struct rg3_ban *o)
{
	BAN3_NUMBERS(ASSERT_CARRIED)
	assert_memory_equal(n->origin_tag, o->origin_tag, RG_ORIGIN_TAG_LEN);
	assert_memory_equal(&n->not_allowed, &zero_mark, sizeof(zero_mark));
}

static struct rg_ban old_ban4(unsigned int i)
{
	struct rg3_ban b3 = old_ban(i);
	struct rg_ban b;

	memset(&b, 0, sizeof(b));
	memcpy(&b, &b3, sizeof(b3));
	b.not_allowed = (struct rg_acl_mark){ .gen = 9 + i, .epoch = 4000 + i };
	return b;
}

/* ABI 5 left the ban as ABI 4 had it: every field carried. */
static void assert_ban4(const struct rg_ban *n, const struct rg_ban *o)
{
	BAN4_NUMBERS(ASSERT_CARRIED)
	assert_memory_equal(n->origin_tag, o->origin_tag, RG_ORIGIN_TAG_LEN);
	assert_memory_equal(n, o, sizeof(*o));
}

static void test_ban(void **state)
{
	static const char *const maps[] = { RG_MAP_BANS4, RG_MAP_BANS6 };
	struct rg3_ban o = old_ban(0);
	struct rg_ban o4 = old_ban4(0), n;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		convert(3, maps[i], &o, &n, sizeof(n));
		assert_ban(&n, &o);
		convert(4, maps[i], &o4, &n, sizeof(n));
		assert_ban4(&n, &o4);
	}
}

static void test_bucket(void **state)
{
	struct rg3_bucket o = {
		.tat_ns = 123456789012ULL,
		.drops = 42,
		.src = { .family = AF_INET6, .addr = { 0xfd, 0x77, 0, 1 } },
	};
	struct rg_bucket n;

	(void)state;
	convert(3, RG_MAP_RATELIMIT, &o, &n, sizeof(n));
	assert_int_equal(n.tat_ns, o.tat_ns);
	assert_int_equal(n.drops, o.drops);
	assert_memory_equal(&n.src, &o.src, sizeof(o.src));
	assert_memory_equal(&n.clean, &zero_mark, sizeof(zero_mark));
}

static struct rg3_flow old_flow(unsigned int i)
{
	struct rg3_flow f = {
		.key = { .client = { 10, 77, 0, 10 },
			 .server = { 10, 77, 0, 1 },
			 .client_port = htons(40000 + i),
			 .server_port = htons(25),
			 .family = AF_INET },
		.sampled_in = 310 + i,
		.sampled_out = 620 + i,
		.flags = RG_FLOW_PAUSE_IN | RG_FLOW_WIN_IN | RG_FLOW_SRV_ACK |
			 RG_FLOW_SEEN_IN,
		.win_in = 0x12345678 + i,
		.last_ns = 500000000000ULL + i,
		.srv_ack = 0x12345700 + i,
	};

	return f;
}

static void assert_flow(const struct rg_flow *n, const struct rg3_flow *o)
{
	assert_memory_equal(&n->key, &o->key, sizeof(o->key));
	FLOW3_NUMBERS(ASSERT_CARRIED)
	assert_memory_equal(&n->clean, &zero_mark, sizeof(zero_mark));
	assert_int_equal(n->pad, 0);
}

static void test_flow(void **state)
{
	struct rg3_flow o = old_flow(0);
	struct rg_flow n;

	(void)state;
	convert(3, RG_MAP_FLOWS, &o, &n, sizeof(n));
	assert_flow(&n, &o);
}

/* Every ABI-3 counter keeps its name's value. */
static void test_stats(void **state)
{
	struct rg3_stats o;
	struct rg_stats n;
	__u64 *ov = (__u64 *)&o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(o) / 8; i++)
		ov[i] = 1000 + i;
	convert(3, RG_MAP_STATS, &o, &n, sizeof(n));
	assert_int_equal(n.packets, o.packets);
	assert_int_equal(n.drop_ban, o.drop_ban);
	assert_int_equal(n.egress_flow_full, o.egress_flow_full);
	assert_int_equal(n.sample_retrans, o.sample_retrans);
	assert_int_equal(n.monitor_frag_payload, o.monitor_frag_payload);
	assert_memory_equal(&n, &o, sizeof(o));
	assert_int_equal(n.acl_cached, 0);
}

static void test_config(void **state)
{
	struct rg_config o = {
		.abi_version = 3,
		.flags = RG_CFG_MONITOR,
		.smtp_ports = { htons(25), htons(587) },
		.n_smtp_ports = 2,
		.ipv6_prefix = 56,
		.syn_rate = 20,
		.syn_burst = 40,
		.global_syn_rate = 1000,
		.global_syn_burst = 2000,
		.sample_bytes = 8192,
		.hash_seed = 0xdeadbeef,
	};
	struct rg_config n, want = o;

	(void)state;
	want.abi_version = RG_ABI_VERSION;
	migrate_convert(3, RG_MAP_CONFIG, &o, &n, sizeof(n));
	assert_memory_equal(&n, &want, sizeof(n));
}

static void test_unchanged(void **state)
{
	__u8 o = RG_ALLOW_TRUSTED, n = 0;
	__u32 d = 0xabcd, dn = 0;

	(void)state;
	migrate_convert(3, RG_MAP_ALLOW4, &o, &n, 1);
	assert_int_equal(n, RG_ALLOW_TRUSTED);
	migrate_convert(3, RG_MAP_DENY6, &d, &dn, sizeof(dn));
	assert_int_equal(dn, 0xabcd);
	assert_int_equal(migrate_old_value_size(3, RG_MAP_ALLOW6, 1), 1);
	assert_int_equal(migrate_old_value_size(3, RG_MAP_CONFIG,
						sizeof(struct rg_config)),
			 sizeof(struct rg_config));
}

static void test_sizes_and_support(void **state)
{
	(void)state;
	assert_int_equal(
		migrate_old_value_size(3, RG_MAP_BANS4, sizeof(struct rg_ban)),
		sizeof(struct rg3_ban));
	assert_int_equal(
		migrate_old_value_size(3, RG_MAP_FLOWS, sizeof(struct rg_flow)),
		sizeof(struct rg3_flow));
	assert_int_equal(migrate_old_value_size(3, RG_MAP_RATELIMIT,
						sizeof(struct rg_bucket)),
			 sizeof(struct rg3_bucket));
	assert_int_equal(migrate_old_value_size(3, RG_MAP_STATS,
						sizeof(struct rg_stats)),
			 sizeof(struct rg3_stats));
	assert_int_equal(migrate_old_value_size(4, RG_MAP_RATELIMIT,
						sizeof(struct rg_bucket)),
			 sizeof(struct rg4_bucket));
	assert_int_equal(
		migrate_old_value_size(4, RG_MAP_BANS4, sizeof(struct rg_ban)),
		sizeof(struct rg_ban));
	assert_true(migrate_supported(3));
	assert_true(migrate_supported(4));
	assert_false(migrate_supported(0));
	assert_false(migrate_supported(2)); /* no step from 2 */
	assert_false(migrate_supported(RG_ABI_VERSION));
	assert_false(migrate_supported(RG_ABI_VERSION + 1)); /* a downgrade */
}

/* ---- ABI 4 -> 5 -------------------------------------------------------- */

static void test_flow4(void **state)
{
	struct rg3_flow f3 = old_flow(0);
	struct rg_flow ov, nv, *o = &ov, *n = &nv;

	(void)state;
	memset(o, 0, sizeof(*o));
	memcpy(o, &f3, sizeof(f3));
	o->clean = (struct rg_acl_mark){ .gen = 3, .epoch = 77 };
	convert(4, RG_MAP_FLOWS, o, n, sizeof(*n));
	assert_memory_equal(&n->key, &o->key, sizeof(o->key));
	FLOW4_NUMBERS(ASSERT_CARRIED)
	assert_memory_equal(n, o, sizeof(*o));
}

/* Every ABI-4 counter keeps its name's value. */
static void test_stats4(void **state)
{
	struct rg_stats o, n;
	__u64 *ov = (__u64 *)&o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(o) / 8; i++)
		ov[i] = 2000 + i;
	convert(4, RG_MAP_STATS, &o, &n, sizeof(n));
	assert_int_equal(n.acl_cached, o.acl_cached);
	assert_int_equal(n.drop_ban, o.drop_ban);
	assert_memory_equal(&n, &o, sizeof(o));
}

/* An ABI-4 bucket read as one of ABI 5 (what a map pinned by an upgrade
 * cut short holds): its fields kept, the banned mark and pending hits
 * zeroed. */
static void test_bucket4(void **state)
{
	struct rg4_bucket ov = {
		.tat_ns = 223456789012ULL,
		.drops = 43,
		.src = { .family = AF_INET, .addr = { 10, 77, 0, 9 } },
		.clean = { .gen = 5, .epoch = 6 },
	}, *o = &ov;
	struct rg_bucket nv, *n = &nv;

	(void)state;
	convert(4, RG_MAP_RATELIMIT, o, n, sizeof(*n));
	BUCKET4_NUMBERS(ASSERT_CARRIED)
	assert_memory_equal(&n->src, &o->src, sizeof(o->src));
	assert_memory_equal(&n->banned, &zero_mark, sizeof(zero_mark));
	assert_int_equal(n->ban_hits, 0);
}

/* Only the SYN buckets start empty, from any ABI before 5. */
static void test_fresh(void **state)
{
	static const char *const kept[] = { RG_MAP_BANS4,  RG_MAP_BANS6,
					    RG_MAP_FLOWS,  RG_MAP_STATS,
					    RG_MAP_CONFIG, RG_MAP_ALLOW4,
					    RG_MAP_DENY6,  RG_MAP_ACL_GEN };
	unsigned int from;
	size_t i;

	(void)state;
	for (from = 3; from < RG_ABI_VERSION; from++) {
		assert_true(migrate_fresh(from, RG_MAP_RATELIMIT));
		for (i = 0; i < ARRAY_LEN(kept); i++)
			if (migrate_fresh(from, kept[i]))
				fail_msg("%s starts empty from ABI %u", kept[i],
					 from);
	}
	assert_false(migrate_fresh(RG_ABI_VERSION, RG_MAP_RATELIMIT));
}

/* ---- real maps (root) ------------------------------------------------ */

/* More bans than one batch of the copy, so chunks are crossed. */
#define N_BANS 5000

static void test_map_bans(void **state)
{
	int old, new;
	struct rg3_ban o;
	struct rg_ban n;
	__u32 k, key;

	(void)state;
	if (geteuid())
		skip();
	old = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(o), 8192, BPF_F_NO_PREALLOC);
	new = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(n), 8192, BPF_F_NO_PREALLOC);
	for (k = 0; k < N_BANS; k++) {
		o = old_ban(k);
		key = htonl(0x0a000000 + k);
		assert_int_equal(bpf_map_update_elem(old, &key, &o, 0), 0);
	}
	assert_int_equal(migrate_map(3, RG_MAP_BANS4, old, new), 0);
	for (k = 0; k < N_BANS; k++) {
		o = old_ban(k);
		key = htonl(0x0a000000 + k);
		assert_int_equal(bpf_map_lookup_elem(new, &key, &n), 0);
		assert_ban(&n, &o);
	}
	key = htonl(0x0a000000 + N_BANS);
	assert_int_not_equal(bpf_map_lookup_elem(new, &key, &n), 0);
	close(old);
	close(new);
}

/* ABI-4 bans carried whole by the copy. */
static void test_map_bans4(void **state)
{
	struct rg_ban o, n;
	int old, new;
	__u32 k;

	(void)state;
	if (geteuid())
		skip();
	old = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(o), 64, BPF_F_NO_PREALLOC);
	new = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(n), 64, BPF_F_NO_PREALLOC);
	for (k = 1; k <= 3; k++) {
		o = old_ban4(k);
		assert_int_equal(bpf_map_update_elem(old, &k, &o, 0), 0);
	}
	assert_int_equal(migrate_map(4, RG_MAP_BANS4, old, new), 0);
	for (k = 1; k <= 3; k++) {
		o = old_ban4(k);
		assert_int_equal(bpf_map_lookup_elem(new, &k, &n), 0);
		assert_ban4(&n, &o);
	}
	close(old);
	close(new);
}

#define N_SLOTS 64

/* A ratelimit map of ABI `from` holding bucket b (size bytes) in a slot:
 * neither the copy nor the catch-up puts anything in the new map. */
static void assert_buckets_not_carried(unsigned int from, const void *b,
				       size_t size)
{
	const struct rg_bucket none = { 0 };
	struct rg_bucket n;
	int old, new;
	__u32 k = 17;

	old = mkmap(BPF_MAP_TYPE_ARRAY, 4, size, N_SLOTS, 0);
	new = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(n), N_SLOTS, 0);
	assert_int_equal(bpf_map_update_elem(old, &k, b, 0), 0);
	assert_int_equal(migrate_map(from, RG_MAP_RATELIMIT, old, new), 0);
	assert_int_equal(migrate_map_missing(from, RG_MAP_RATELIMIT, old, new),
			 0);
	for (k = 0; k < N_SLOTS; k++) {
		assert_int_equal(bpf_map_lookup_elem(new, &k, &n), 0);
		if (memcmp(&n, &none, sizeof(n)))
			fail_msg("slot %u of the ratelimit map from ABI %u "
				 "holds a bucket",
				 k, from);
	}
	close(old);
	close(new);
}

/* The SYN buckets of ABI 3 and 4 sit in slots ABI 5 no longer uses for
 * their sources: the new map starts empty. A map already at this build's
 * layout (pinned by an upgrade cut short) is carried. */
static void test_map_ratelimit(void **state)
{
	const struct rg_src_key src = { .family = AF_INET,
					.addr = { 10, 77, 0, 5 } };
	struct rg3_bucket b3 = { .tat_ns = 5, .drops = 1, .src = src };
	struct rg4_bucket b4 = { .tat_ns = 6, .drops = 2, .src = src };
	struct rg_bucket b5 = { .tat_ns = 7, .src = src, .ban_hits = 12 }, n;
	int old, new;
	__u32 k = 9;

	(void)state;
	if (geteuid())
		skip();
	b4.clean = (struct rg_acl_mark){ .gen = 1, .epoch = 2 };
	assert_buckets_not_carried(3, &b3, sizeof(b3));
	assert_buckets_not_carried(4, &b4, sizeof(b4));
	old = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(b5), N_SLOTS, 0);
	new = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(b5), N_SLOTS, 0);
	assert_int_equal(bpf_map_update_elem(old, &k, &b5, 0), 0);
	assert_int_equal(migrate_map(4, RG_MAP_RATELIMIT, old, new), 0);
	assert_int_equal(bpf_map_lookup_elem(new, &k, &n), 0);
	assert_memory_equal(&n, &b5, sizeof(n));
	close(old);
	close(new);
}

/* After the swap: only what the new map lacks, the rest left as the new
 * programs made it. */
static void test_map_missing(void **state)
{
	struct rg3_ban o;
	struct rg_ban n, mine = { .hits = 999 };
	int old, new, arr_old, arr_new;
	__u32 k;

	(void)state;
	if (geteuid())
		skip();
	old = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(o), 16, BPF_F_NO_PREALLOC);
	new = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(n), 16, BPF_F_NO_PREALLOC);
	for (k = 1; k <= 3; k++) {
		o = old_ban(k);
		assert_int_equal(bpf_map_update_elem(old, &k, &o, 0), 0);
	}
	k = 1;
	assert_int_equal(bpf_map_update_elem(new, &k, &mine, 0), 0);
	assert_int_equal(migrate_map_missing(3, RG_MAP_BANS4, old, new), 2);
	assert_int_equal(bpf_map_lookup_elem(new, &k, &n), 0);
	assert_int_equal(n.hits, 999);
	for (k = 2; k <= 3; k++) {
		o = old_ban(k);
		assert_int_equal(bpf_map_lookup_elem(new, &k, &n), 0);
		assert_ban(&n, &o);
	}
	arr_old = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct rg3_flow), 4, 0);
	arr_new = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct rg_flow), 4, 0);
	assert_int_equal(migrate_map_missing(3, RG_MAP_FLOWS, arr_old, arr_new),
			 0);
	close(old);
	close(new);
	close(arr_old);
	close(arr_new);
}

/* Flows stay in their slot (the data plane finds them by hash); free
 * slots stay free. */
static void test_map_flows(void **state)
{
	static const __u32 used[] = { 0, 5, 1023 };
	struct rg3_flow o;
	struct rg_flow n;
	int old, new;
	__u32 k, i;

	(void)state;
	if (geteuid())
		skip();
	old = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(o), 1024, 0);
	new = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(n), 1024, 0);
	for (i = 0; i < 3; i++) {
		o = old_flow(i);
		assert_int_equal(bpf_map_update_elem(old, &used[i], &o, 0), 0);
	}
	assert_int_equal(migrate_map(3, RG_MAP_FLOWS, old, new), 0);
	for (i = 0; i < 3; i++) {
		o = old_flow(i);
		assert_int_equal(bpf_map_lookup_elem(new, &used[i], &n), 0);
		assert_flow(&n, &o);
	}
	k = 6;
	assert_int_equal(bpf_map_lookup_elem(new, &k, &n), 0);
	assert_int_equal(n.key.family, 0);
	close(old);
	close(new);
}

/* Each CPU's counters are carried over on their own. */
static void test_map_stats(void **state)
{
	int ncpus = libbpf_num_possible_cpus(), old, new, c;
	struct rg3_stats *o;
	struct rg_stats *n;
	__u32 key = 0;

	(void)state;
	if (geteuid())
		skip();
	assert_true(ncpus > 0);
	o = calloc(ncpus, sizeof(*o));
	n = calloc(ncpus, sizeof(*n));
	assert_non_null(o);
	assert_non_null(n);
	for (c = 0; c < ncpus; c++) {
		o[c].packets = 100 + c;
		o[c].drop_ban = 7 * (c + 1);
		o[c].monitor_frag_payload = 3 + c;
	}
	old = mkmap(BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(*o), 1, 0);
	new = mkmap(BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(*n), 1, 0);
	assert_int_equal(bpf_map_update_elem(old, &key, o, 0), 0);
	assert_int_equal(migrate_map(3, RG_MAP_STATS, old, new), 0);
	assert_int_equal(bpf_map_lookup_elem(new, &key, n), 0);
	for (c = 0; c < ncpus; c++) {
		assert_int_equal(n[c].packets, 100 + c);
		assert_int_equal(n[c].drop_ban, 7 * (c + 1));
		assert_int_equal(n[c].monitor_frag_payload, 3 + c);
		assert_int_equal(n[c].acl_cached, 0);
	}
	free(o);
	free(n);
	close(old);
	close(new);
}

/* LPM tries have no batch lookup: copied key by key, origins kept. */
static void test_map_allow(void **state)
{
	struct rg_lpm4_key k1 = { 8, htonl(0x0a000000) },
			   k2 = { 24, htonl(0x0a4d0100) }, k;
	__u8 v1 = RG_ALLOW_OPERATOR, v2 = RG_ALLOW_TRUSTED, v;
	int old, new;

	(void)state;
	if (geteuid())
		skip();
	old = mkmap(BPF_MAP_TYPE_LPM_TRIE, sizeof(k), 1, 64, BPF_F_NO_PREALLOC);
	new = mkmap(BPF_MAP_TYPE_LPM_TRIE, sizeof(k), 1, 64, BPF_F_NO_PREALLOC);
	assert_int_equal(bpf_map_update_elem(old, &k1, &v1, 0), 0);
	assert_int_equal(bpf_map_update_elem(old, &k2, &v2, 0), 0);
	assert_int_equal(migrate_map(3, RG_MAP_ALLOW4, old, new), 0);
	k = k1;
	assert_int_equal(bpf_map_lookup_elem(new, &k, &v), 0);
	assert_int_equal(v, RG_ALLOW_OPERATOR);
	k = k2;
	assert_int_equal(bpf_map_lookup_elem(new, &k, &v), 0);
	assert_int_equal(v, RG_ALLOW_TRUSTED);
	close(old);
	close(new);
}

/* A map whose old layout is not ABI 3's is refused, the new one left
 * empty; a ring buffer has nothing to carry. */
static void test_map_refused(void **state)
{
	int old, new, rb_old, rb_new;
	struct rg_ban n;
	__u32 key = 1;
	char junk[40] = { 1 };

	(void)state;
	if (geteuid())
		skip();
	old = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(junk), 8, BPF_F_NO_PREALLOC);
	new = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(n), 8, BPF_F_NO_PREALLOC);
	assert_int_equal(bpf_map_update_elem(old, &key, junk, 0), 0);
	assert_int_equal(migrate_map(3, RG_MAP_BANS4, old, new), -EINVAL);
	assert_int_not_equal(bpf_map_lookup_elem(new, &key, &n), 0);
	rb_old = mkmap(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
	rb_new = mkmap(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
	assert_int_equal(migrate_map(3, RG_MAP_SAMPLES, rb_old, rb_new), 0);
	close(old);
	close(new);
	close(rb_old);
	close(rb_new);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_ban), cmocka_unit_test(test_bucket),
	       cmocka_unit_test(test_flow), cmocka_unit_test(test_stats),
	       cmocka_unit_test(test_config), cmocka_unit_test(test_unchanged),
	       cmocka_unit_test(test_flow4), cmocka_unit_test(test_stats4),
	       cmocka_unit_test(test_bucket4), cmocka_unit_test(test_fresh),
	       cmocka_unit_test(test_sizes_and_support),
	       cmocka_unit_test(test_map_bans),
	       cmocka_unit_test(test_map_bans4),
	       cmocka_unit_test(test_map_ratelimit),
	       cmocka_unit_test(test_map_missing),
	       cmocka_unit_test(test_map_flows),
	       cmocka_unit_test(test_map_stats),
	       cmocka_unit_test(test_map_allow),
	       cmocka_unit_test(test_map_refused))
