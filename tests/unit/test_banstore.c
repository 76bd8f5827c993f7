// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The ban store, the allow-list guard and the stats module against real
 * (small) BPF maps: put/get/del, IPv6 grouping, batched puts that undo
 * themselves on a full map, batched walks across chunk boundaries, flush;
 * overlap checks; per-CPU sums and the Prometheus text. Needs root. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "banstore.h"
#include "ctl.h"
#include "stats.h"
#include "maptests.h"
#include "testmaps.h"

static struct rg_maps maps;

static int setup(void **state)
{
	struct rg_config cfg = {.ipv6_prefix = 56, .hash_seed = 0x5eed1234};
	__u32 key = 0;

	(void)state;
	memset(&maps, 0xff, sizeof(maps));
	maps.config = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(cfg), 1, 0);
	assert_int_equal(bpf_map_update_elem(maps.config, &key, &cfg, 0), 0);
	maps.bans4 = mkmap(BPF_MAP_TYPE_HASH, 4, sizeof(struct rg_ban), 20000,
			   BPF_F_NO_PREALLOC);
	maps.bans6 = mkmap(BPF_MAP_TYPE_HASH, 16, sizeof(struct rg_ban), 8,
			   BPF_F_NO_PREALLOC);
	maps.allow4 = mkmap(BPF_MAP_TYPE_LPM_TRIE, 8, 1, 64, BPF_F_NO_PREALLOC);
	maps.allow6 =
		mkmap(BPF_MAP_TYPE_LPM_TRIE, 20, 1, 64, BPF_F_NO_PREALLOC);
	maps.acl_gen = testmaps_acl_gen();
	assert_true(maps.acl_gen >= 0);
	maps.ratelimit = testmaps_ratelimit();
	assert_true(maps.ratelimit >= 0);
	return 0;
}

static __u64 acl_gen(void)
{
	__u64 gen = 0;
	__u32 key = 0;

	assert_int_equal(bpf_map_lookup_elem(maps.acl_gen, &key, &gen), 0);
	return gen;
}

static int teardown(void **state)
{
	(void)state;
	maps_close(&maps);
	return 0;
}

static struct ban_entry entry(const char *addr, unsigned int reason)
{
	struct ban_entry e = {0};
	struct prefix p;

	assert_int_equal(parse_prefix(addr, &p), 0);
	assert_int_equal(banstore_source(&maps, &p, &e.source), 0);
	e.ban.reason = reason;
	return e;
}

/* A ban written one at a time or in a batch tells the data plane that
 * its marks are stale (struct rg_acl_mark). */
static void test_put_bumps_acl_gen(void **state)
{
	struct ban_entry e[2];
	__u64 gen0;

	(void)state;
	e[0] = entry("192.0.2.1", RG_REASON_MANUAL);
	e[1] = entry("2001:db8::1", RG_REASON_MANUAL);
	gen0 = acl_gen();
	assert_int_equal(banstore_put(&maps, &e[0]), 0);
	assert_int_equal(acl_gen(), gen0 + 1);
	assert_int_equal(banstore_put_batch(&maps, e, 2), 0);
	assert_int_equal(acl_gen(), gen0 + 2);
	assert_int_equal(banstore_del(&maps, &e[0].source), 0);
	assert_int_equal(banstore_del(&maps, &e[1].source), 0);
}

static void test_put_get_del(void **state)
{
	struct ban_entry e = entry("192.0.2.9", RG_REASON_PREGREET);
	struct rg_ban got;

	(void)state;
	assert_int_equal(banstore_put(&maps, &e), 0);
	assert_int_equal(banstore_get(&maps, &e.source, &got), 0);
	assert_int_equal(got.reason, RG_REASON_PREGREET);
	assert_int_equal(banstore_del(&maps, &e.source), 0);
	assert_int_equal(banstore_get(&maps, &e.source, &got), -ENOENT);
	assert_int_equal(banstore_del(&maps, &e.source), -ENOENT);
}

static void test_ipv6_group(void **state)
{
	struct ban_entry a = entry("2001:db8:0:12::1", RG_REASON_MANUAL);
	struct ban_entry b = entry("2001:db8:0:34::2", RG_REASON_MANUAL);
	struct prefix p, src;
	char buf[PREFIX_STRLEN];

	(void)state;
	/* config says /56: both addresses are the same source. */
	assert_int_equal(banstore_ipv6_prefix(&maps), 56);
	assert_memory_equal(a.source.addr, b.source.addr, 16);
	format_prefix(&a.source, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::/56");
	assert_int_equal(parse_prefix("2001:db8::/40", &p), 0);
	assert_int_equal(banstore_source(&maps, &p, &src), -EINVAL);
	assert_int_equal(parse_prefix("10.0.0.0/24", &p), 0);
	assert_int_equal(banstore_source(&maps, &p, &src), -EINVAL);
}

static int find_wide_cb(const struct ban_entry *e, void *arg)
{
	char buf[PREFIX_STRLEN];

	format_prefix(&e->source, buf, sizeof(buf));
	if (!strcmp(buf, "2001:db8:77::/48"))
		*(unsigned int *)arg = e->ban.reason;
	return 0;
}

/* A wide /48 (ipv6_escalate) beside the /56 groups: a source of its own,
 * keyed as the data plane looks it up, walked back as the /48, apart
 * from the group key of its first /56. */
static void test_wide(void **state)
{
	struct ban_entry w = entry("2001:db8:77::/48", RG_REASON_IPV6_ROTATION);
	struct ban_entry g = entry("2001:db8:77::1", RG_REASON_MANUAL);
	struct rg_ip6 key = { 0 };
	unsigned int found = 0;
	struct rg_ban got;

	(void)state;
	assert_int_equal(w.source.len, 48);
	assert_int_equal(g.source.len, 56);
	assert_int_equal(banstore_put(&maps, &w), 0);
	assert_int_equal(banstore_get(&maps, &g.source, &got), -ENOENT);
	memcpy(key.addr, w.source.addr, 8);
	memset(key.addr + 8, 0xff, 8);
	assert_int_equal(bpf_map_lookup_elem(maps.bans6, &key, &got), 0);
	assert_int_equal(got.reason, RG_REASON_IPV6_ROTATION);
	assert_int_equal(banstore_for_each(&maps, find_wide_cb, &found), 0);
	assert_int_equal(found, RG_REASON_IPV6_ROTATION);
	assert_int_equal(banstore_put(&maps, &g), 0);
	assert_int_equal(banstore_get(&maps, &w.source, &got), 0);
	assert_int_equal(got.reason, RG_REASON_IPV6_ROTATION);
	assert_int_equal(banstore_del(&maps, &w.source), 0);
	assert_int_equal(banstore_get(&maps, &g.source, &got), 0);
	assert_int_equal(banstore_del(&maps, &g.source), 0);
}

/* e's SYN bucket (held by holder when not NULL) with pending hits. */
static void put_bucket(const struct ban_entry *e, const struct ban_entry *holder,
		       __u64 pending)
{
	assert_int_equal(testmaps_bucket(maps.ratelimit, 0x5eed1234, &e->source,
					 holder ? &holder->source : NULL,
					 pending),
			 0);
}

static int shown_cb(const struct ban_entry *e, void *arg)
{
	uint64_t *hits = arg;

	hits[e->source.family == AF_INET6] = e->ban.hits;
	return 0;
}

/* banstore_hits() of e, against the buckets as they are now. */
static uint64_t hits_now(const struct ban_entry *e)
{
	struct banstore_hits h;
	uint64_t hits;

	banstore_hits_init(&maps, &h);
	hits = banstore_hits(&h, e);
	banstore_hits_free(&h);
	return hits;
}

/* A ban's hits as shown add what its own bucket dropped on the banned
 * mark and has not handed over; another source's bucket in the slot, or
 * a wide /48 (no bucket of its own), adds nothing; the map is not
 * written. */
static void test_pending_hits(void **state)
{
	struct ban_entry v4 = entry("10.77.1.2", RG_REASON_MANUAL),
			 v6 = entry("fd77:1:2:300::9", RG_REASON_MANUAL),
			 other = entry("10.77.1.3", RG_REASON_MANUAL),
			 wide = entry("fd77:1:2::/48", RG_REASON_MANUAL);
	uint64_t shown[2];
	struct rg_ban got;

	(void)state;
	v4.ban.hits = 5;
	v6.ban.hits = 40;
	wide.ban.hits = 3;
	assert_int_equal(banstore_put(&maps, &v4), 0);
	assert_int_equal(banstore_put(&maps, &v6), 0);
	assert_int_equal(hits_now(&v4), 5);
	put_bucket(&v4, NULL, 7);
	put_bucket(&v6, NULL, 2);
	assert_int_equal(hits_now(&v4), 12);
	assert_int_equal(hits_now(&v6), 42);
	assert_int_equal(banstore_for_each_shown(&maps, shown_cb, shown), 0);
	assert_int_equal(shown[0], 12);
	assert_int_equal(shown[1], 42);
	assert_int_equal(banstore_get(&maps, &v4.source, &got), 0);
	assert_int_equal(got.hits, 5);
	put_bucket(&v4, &other, 7);
	assert_int_equal(hits_now(&v4), 5);
	assert_int_equal(hits_now(&other), 7);
	/* the /48's address is that of its first /56 group */
	put_bucket(&wide, NULL, 9);
	assert_int_equal(hits_now(&wide), 3);
	assert_int_equal(banstore_del(&maps, &v4.source), 0);
	assert_int_equal(banstore_del(&maps, &v6.source), 0);
}

static int count_sources(const struct prefix *p, void *arg)
{
	unsigned int *n = arg;

	*n += p->len == 48 ? 1000000 : 1;
	return 0;
}

/* A /48 is one wide source (ban add, CrowdSec Ranges); a /49 is still
 * its /64s. */
static void test_expand_wide(void **state)
{
	struct prefix p;
	unsigned int n = 0;

	(void)state;
	assert_int_equal(parse_prefix("2001:db8:77::/48", &p), 0);
	assert_int_equal(banstore_expand(64, &p, count_sources, &n), 0);
	assert_int_equal(n, 1000000);
	n = 0;
	assert_int_equal(parse_prefix("2001:db8:77::/49", &p), 0);
	assert_int_equal(banstore_expand(64, &p, count_sources, &n), 0);
	assert_int_equal(n, 32768);
	n = 0;
	assert_int_equal(parse_prefix("2001:db8:77::/48", &p), 0);
	assert_int_equal(banstore_expand(48, &p, count_sources, &n), 0);
	assert_int_equal(n, 1000000); /* the group itself */
	n = 0;
	assert_int_equal(banstore_expand(128, &p, count_sources, &n), -E2BIG);
}

struct count_ctx {
	size_t v4, v6;
	unsigned int reason_sum;
};

static int count_cb(const struct ban_entry *e, void *arg)
{
	struct count_ctx *c = arg;

	if (e->source.family == AF_INET)
		c->v4++;
	else
		c->v6++;
	c->reason_sum += e->ban.reason;
	return 0;
}

/* 10000 entries: more than one BATCH_CHUNK of the walk. */
static void test_batch_walk_flush(void **state)
{
	struct ban_entry *e = calloc(10000, sizeof(*e));
	struct count_ctx c = {0};
	size_t i, n = 0;

	(void)state;
	assert_non_null(e);
	for (i = 0; i < 10000; i++) {
		e[i].source.family = AF_INET;
		e[i].source.len = 32;
		e[i].source.addr[0] = 10;
		e[i].source.addr[2] = i >> 8;
		e[i].source.addr[3] = i & 0xff;
		e[i].ban.reason = RG_REASON_IMPORTED;
	}
	assert_int_equal(banstore_put_batch(&maps, e, 10000), 0);
	assert_int_equal(banstore_for_each(&maps, count_cb, &c), 0);
	assert_int_equal(c.v4, 10000);
	assert_int_equal(c.reason_sum, 10000 * RG_REASON_IMPORTED);
	assert_int_equal(banstore_flush(&maps, &n), 0);
	assert_int_equal(n, 10000);
	memset(&c, 0, sizeof(c));
	assert_int_equal(banstore_for_each(&maps, count_cb, &c), 0);
	assert_int_equal(c.v4 + c.v6, 0);
	free(e);
}

/* bans6 holds 8: a batch of 10 fails with -ENOSPC and leaves the map as
 * it was, the overwritten entry included. */
static void test_batch_full_undo(void **state)
{
	struct ban_entry keep = entry("2001:db8:0:100::", RG_REASON_PREGREET);
	struct ban_entry e[11];
	struct count_ctx c = {0};
	struct rg_ban got;
	char addr[64];
	int i;

	(void)state;
	assert_int_equal(banstore_put(&maps, &keep), 0);
	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:0:%x00::", i + 1);
		e[i] = entry(addr, RG_REASON_IMPORTED);
	}
	e[10] = entry("192.0.2.200", RG_REASON_IMPORTED);
	assert_int_equal(banstore_put_batch(&maps, e, 11), -ENOSPC);
	assert_int_equal(banstore_for_each(&maps, count_cb, &c), 0);
	assert_int_equal(c.v6, 1);
	assert_int_equal(c.v4, 0);
	assert_int_equal(banstore_get(&maps, &keep.source, &got), 0);
	assert_int_equal(got.reason, RG_REASON_PREGREET);
	assert_int_equal(banstore_del(&maps, &keep.source), 0);
}

/* The same with single-element operations: the fallback for kernels or
 * maps without batch ops. */
static void test_no_batch(void **state)
{
	banstore_use_batch(false);
	test_batch_walk_flush(state);
	test_batch_full_undo(state);
	banstore_use_batch(true);
}

static void add_allow(int fd, unsigned int len, const char *addr, int family)
{
	struct rg_lpm6_key k = {.prefixlen = len};
	__u8 one = 1;

	assert_int_equal(inet_pton(family, addr, k.addr), 1);
	assert_int_equal(bpf_map_update_elem(fd, &k, &one, 0), 0);
}

static bool overlaps(const struct allow_guard *g, const char *s)
{
	struct prefix p, hit;

	assert_int_equal(parse_prefix(s, &p), 0);
	return allow_guard_overlaps(g, &p, &hit);
}

static void test_allow_guard(void **state)
{
	struct allow_guard g;

	(void)state;
	add_allow(maps.allow4, 24, "198.51.100.0", AF_INET);
	add_allow(maps.allow4, 32, "203.0.113.77", AF_INET);
	add_allow(maps.allow6, 64, "2001:db8:1:2::", AF_INET6);
	add_allow(maps.allow6, 128, "2001:db8:9::5", AF_INET6);
	assert_int_equal(allow_guard_init(&g, &maps), 0);
	assert_true(overlaps(&g, "198.51.100.5"));   /* inside an allow /24 */
	assert_true(overlaps(&g, "198.51.0.0/16"));  /* covers it */
	assert_true(overlaps(&g, "203.0.113.0/24")); /* covers a /32 */
	assert_true(overlaps(&g, "203.0.113.77"));
	assert_false(overlaps(&g, "203.0.113.78"));
	assert_false(overlaps(&g, "198.51.101.0/24"));
	assert_false(overlaps(&g, "192.0.2.1"));
	assert_true(overlaps(&g, "2001:db8:1:2::/64"));
	assert_true(overlaps(&g, "2001:db8:9::/64")); /* holds the /128 */
	assert_false(overlaps(&g, "2001:db8:1:3::/64"));
	assert_true(overlaps(&g, "::/0"));
	allow_guard_free(&g);
}

static void test_stats(void **state)
{
	int ncpu = libbpf_num_possible_cpus(), fd, i;
	struct rg_stats *per = calloc(ncpu, sizeof(*per)), sum;
	char *text = NULL;
	size_t len = 0;
	__u32 key = 0;
	FILE *f;

	(void)state;
	assert_non_null(per);
	fd = mkmap(BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct rg_stats), 1, 0);
	for (i = 0; i < ncpu; i++) {
		per[i].packets = 10 + i;
		per[i].drop_ban = 1;
		per[i].egress_flow_full = 2;
	}
	assert_int_equal(bpf_map_update_elem(fd, &key, per, 0), 0);
	assert_int_equal(stats_read(fd, &sum), 0);
	assert_int_equal(sum.packets, 10 * ncpu + ncpu * (ncpu - 1) / 2);
	assert_int_equal(sum.drop_ban, ncpu);
	assert_int_equal(sum.egress_flow_full, 2 * ncpu);
	assert_int_equal(stats_n_fields, sizeof(struct rg_stats) / 8);
	f = open_memstream(&text, &len);
	stats_print_prometheus(&sum, f);
	fclose(f);
	assert_non_null(
		strstr(text, "# TYPE relayguard_drop_ban_total counter\n"));
	assert_non_null(strstr(text, "# HELP relayguard_packets_total "));
	free(text);
	close(fd);
	free(per);
}

/* Sources of banstore_expand_part, as text, one a line. */
struct expanded {
	char text[4096];
	size_t len;
};

static int add_text(const struct prefix *source, void *ctx)
{
	struct expanded *x = ctx;
	char buf[PREFIX_STRLEN];

	format_prefix(source, buf, sizeof(buf));
	x->len += snprintf(x->text + x->len, sizeof(x->text) - x->len, "%s ",
			   buf);
	return 0;
}

static const char *part(const char *target, unsigned int group,
			uint64_t first, uint64_t n, struct expanded *x)
{
	struct prefix t;

	assert_int_equal(parse_prefix(target, &t), 0);
	x->len = 0;
	x->text[0] = '\0';
	assert_int_equal(banstore_expand_part(group, &t, first, n, add_text, x),
			 0);
	return x->text;
}

/* A range's sources in parts: in address order from any index (carries
 * across bytes), clamped at the end, IPv6 by group; the parts of a range
 * make the whole of it. */
static void test_expand_parts(void **state)
{
	struct expanded x, whole;
	char joined[sizeof(whole.text)];
	struct prefix t;
	uint64_t i;

	(void)state;
	assert_string_equal(part("10.0.0.0/30", 64, 1, 2, &x),
			    "10.0.0.1 10.0.0.2 ");
	assert_string_equal(part("10.0.0.0/30", 64, 3, 5, &x), "10.0.0.3 ");
	assert_string_equal(part("10.0.0.0/30", 64, 4, 1, &x), "");
	assert_string_equal(part("10.0.0.0/23", 64, 255, 2, &x),
			    "10.0.0.255 10.0.1.0 ");
	assert_string_equal(part("2001:db8::/62", 64, 2, 9, &x),
			    "2001:db8:0:2::/64 2001:db8:0:3::/64 ");
	assert_string_equal(part("2001:db8::1:2:3:4/128", 56, 0, 9, &x),
			    "2001:db8::/56 ");
	assert_int_equal(parse_prefix("10.0.0.0/8", &t), 0);
	assert_int_equal(banstore_expand_count(64, &t), -E2BIG);
	assert_int_equal(banstore_expand_part(64, &t, 0, 1, add_text, &x),
			 -E2BIG);
	assert_int_equal(parse_prefix("10.0.0.0/27", &t), 0);
	assert_int_equal(banstore_expand_count(64, &t), 32);
	whole.len = 0;
	assert_int_equal(banstore_expand(64, &t, add_text, &whole), 0);
	joined[0] = '\0';
	for (i = 0; i < 32; i += 5)
		strcat(joined, part("10.0.0.0/27", 64, i, 5, &x));
	assert_string_equal(joined, whole.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_expand_parts),
		cmocka_unit_test(test_put_bumps_acl_gen),
		cmocka_unit_test(test_ipv6_group),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_pending_hits),
		cmocka_unit_test(test_expand_wide),
		cmocka_unit_test(test_batch_walk_flush),
		cmocka_unit_test(test_batch_full_undo),
		cmocka_unit_test(test_no_batch),
		cmocka_unit_test(test_allow_guard),
		cmocka_unit_test(test_stats),
	};

	return run_map_tests(tests, setup, teardown);
}
