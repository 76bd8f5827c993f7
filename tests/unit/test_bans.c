// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bans.c on real (unpinned) BPF maps: escalation from the offence history,
 * trusted and allow-listed sources never banned, IPv6 grouping, the expiry
 * sweep, and a snapshot restored with its remaining times. Needs root. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "bans.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "snapshot.h"
#include "maptests.h"
#include "testmaps.h"

#define SEC NSEC_PER_SEC

static struct rg_maps maps;
static struct rg_conf conf;
static char dir[] = "/tmp/rg-test-bans-XXXXXX";
static char snap[256];

static int setup(void **state)
{
	(void)state;
	log_init("test_bans", false, LOG_LVL_WARN);
	memset(&maps, -1, sizeof(maps));
	maps.bans4 = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4,
				    sizeof(struct rg_ban), 65536, NULL);
	maps.bans6 = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 16,
				    sizeof(struct rg_ban), 4096, NULL);
	maps.allow4 = testmaps_lpm(sizeof(struct rg_lpm4_key), 1024);
	maps.allow6 = testmaps_lpm(sizeof(struct rg_lpm6_key), 1024);
	maps.acl_gen = testmaps_acl_gen();
	if (maps.bans4 < 0 || maps.bans6 < 0 || maps.allow4 < 0 ||
	    maps.allow6 < 0 || maps.acl_gen < 0)
		return -1;
	conf_defaults(&conf);
	conf.ban_time = 100;
	conf.ban_time_factor = 3;
	conf.ban_time_max = 1000;
	parse_prefix("192.0.2.0/24", &conf.trusted[0]);
	conf.n_trusted = 1;
	if (!mkdtemp(dir))
		return -1;
	snprintf(snap, sizeof(snap), "%s/bans.gz", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void clear_maps(void)
{
	__u8 key[16], next[16];
	int fds[2] = { maps.bans4, maps.bans6 };
	int i;

	for (i = 0; i < 2; i++)
		while (!bpf_map_get_next_key(fds[i], NULL, next)) {
			memcpy(key, next, sizeof(key));
			bpf_map_delete_elem(fds[i], key);
		}
}

static struct prefix addr(const char *s)
{
	struct prefix p;

	assert_int_equal(parse_prefix(s, &p), 0);
	return p;
}

static void test_escalation(void **state)
{
	struct prefix a = addr("198.51.100.1");
	struct bans *b = bans_new(&maps);
	uint64_t now = boot_ns();
	struct ban_result r;
	struct rg_ban ban;
	int i;
	uint64_t expect[] = { 100, 300, 900, 1000, 1000 };

	(void)state;
	clear_maps();
	for (i = 0; i < 5; i++) {
		assert_int_equal(bans_ban(b, &conf, &a, RG_REASON_RELAY_ATTEMPT,
					  now, &r), 0);
		assert_int_equal(r.outcome, BAN_ADDED);
		assert_int_equal(r.offences, i + 1);
		assert_int_equal(r.duration_s, expect[i]);
		assert_int_equal(banstore_get(&maps, &r.source, &ban), 0);
		assert_int_equal(ban.expires_ns, now + expect[i] * SEC);
		assert_int_equal(ban.reason, RG_REASON_RELAY_ATTEMPT);
		assert_int_equal(ban.offences, i + 1);
		/* While it lasts, another decision changes nothing. */
		assert_int_equal(bans_ban(b, &conf, &a, RG_REASON_PREGREET,
					  now + SEC, &r), 0);
		assert_int_equal(r.outcome, BAN_EXISTS);
		now += expect[i] * SEC;
		assert_int_equal(bans_sweep(b, &conf, now, NULL, NULL, NULL),
				 1);
		assert_int_equal(banstore_get(&maps, &a, &ban), -ENOENT);
	}
	assert_int_equal(bans_offences(b, &a), 5);
	bans_free(b);
}

static void test_never_banned(void **state)
{
	struct rg_lpm4_key k = { .prefixlen = 24 };
	struct prefix t = addr("192.0.2.77"), al = addr("203.0.113.9");
	struct bans *b = bans_new(&maps);
	struct ban_result r;
	struct rg_ban ban;
	__u8 one = 1;

	(void)state;
	clear_maps();
	inet_pton(AF_INET, "203.0.113.0", &k.addr);
	assert_int_equal(bpf_map_update_elem(maps.allow4, &k, &one, 0), 0);
	assert_int_equal(bans_ban(b, &conf, &t, RG_REASON_RELAY_ACCEPTED,
				  boot_ns(), &r), 0);
	assert_int_equal(r.outcome, BAN_TRUSTED);
	assert_int_equal(banstore_get(&maps, &t, &ban), -ENOENT);
	assert_int_equal(bans_ban(b, &conf, &al, RG_REASON_RELAY_ACCEPTED,
				  boot_ns(), &r), 0);
	assert_int_equal(r.outcome, BAN_ALLOWED);
	assert_int_equal(banstore_get(&maps, &al, &ban), -ENOENT);
	assert_int_equal(bans_offences(b, &al), 0);
	bpf_map_delete_elem(maps.allow4, &k);
	bans_free(b);
}

static void test_ipv6_grouped(void **state)
{
	struct prefix a = addr("2001:db8:1:2:aaaa::1");
	struct prefix other = addr("2001:db8:1:2:bbbb::7");
	struct bans *b = bans_new(&maps);
	struct ban_result r;
	char buf[PREFIX_STRLEN];

	(void)state;
	clear_maps();
	assert_int_equal(bans_ban(b, &conf, &a, RG_REASON_RELAY_PROBE,
				  boot_ns(), &r), 0);
	assert_int_equal(r.outcome, BAN_ADDED);
	format_prefix(&r.source, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1:2::/64");
	/* Another host of the same /64 is the same source. */
	assert_int_equal(bans_ban(b, &conf, &other, RG_REASON_RELAY_PROBE,
				  boot_ns(), &r), 0);
	assert_int_equal(r.outcome, BAN_EXISTS);
	bans_free(b);
}

static void test_sweep_counts(void **state)
{
	uint64_t by_reason[RG_REASON_MAX], now = boot_ns(), v4, v6;
	struct bans *b = bans_new(&maps);
	struct ban_entry e = { 0 };
	struct ban_result r;
	char buf[32];
	int i;

	(void)state;
	clear_maps();
	bans_in_maps(b, &v4, &v6);
	assert_true(v4 == 0 && v6 == 0); /* before the first sweep */
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "10.0.0.%d", i + 1);
		e.source = addr(buf);
		e.ban.reason = i < 4 ? RG_REASON_MANUAL : RG_REASON_PREGREET;
		e.ban.expires_ns = i < 3 ? now - 1 : i == 3 ? 0 : now + SEC;
		assert_int_equal(banstore_put(&maps, &e), 0);
	}
	for (i = 0; i < 2; i++) { /* and in bans6: one in force, one not */
		snprintf(buf, sizeof(buf), "2001:db8:%d::/64", i + 1);
		e.source = addr(buf);
		e.ban.expires_ns = i ? now - 1 : now + SEC;
		assert_int_equal(banstore_put(&maps, &e), 0);
	}
	assert_int_equal(bans_sweep(b, &conf, now, by_reason, NULL, NULL), 4);
	assert_int_equal(by_reason[RG_REASON_MANUAL], 1); /* permanent */
	assert_int_equal(by_reason[RG_REASON_PREGREET], 7);
	bans_in_maps(b, &v4, &v6);
	assert_int_equal(v4, 7); /* what the metrics' ban-map fill reads */
	assert_int_equal(v6, 1);
	(void)r;
	bans_free(b);
}

static int count_entry(const struct ban_entry *e, void *ctx)
{
	(void)e;
	++*(int *)ctx;
	return 0;
}

static void on_unban_count(const struct ban_entry *e, void *ctx)
{
	count_entry(e, ctx);
}

/* 10,000 bans, every other one expired, swept in the smallest steps (one
 * batch, at most 4,096 bans, each): no step removes them all, the steps
 * together remove exactly the expired ones, and the counts by reason
 * appear only when the sweep has gone round. */
static void test_sweep_steps(void **state)
{
	uint64_t by_reason[RG_REASON_MAX] = { 0 }, now = boot_ns();
	struct ban_entry *e = calloc(10000, sizeof(*e));
	struct bans *b = bans_new(&maps);
	int i, steps = 0, removed = 0, unbanned = 0, rc;
	bool done = false;
	char buf[32];

	(void)state;
	assert_non_null(e);
	clear_maps();
	for (i = 0; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "10.1.%d.%d", i / 250, i % 250 + 1);
		e[i].source = addr(buf);
		e[i].ban.reason = RG_REASON_RELAY_ATTEMPT;
		e[i].ban.expires_ns = i % 2 ? now + SEC : now - 1;
	}
	assert_int_equal(banstore_put_batch(&maps, e, 10000), 0);
	while (!done) {
		rc = bans_sweep_step(b, &conf, now, 1, by_reason,
				     on_unban_count, &unbanned, &done);
		assert_true(rc >= 0);
		assert_true(rc < 5000);
		if (!done)
			assert_int_equal(by_reason[RG_REASON_RELAY_ATTEMPT], 0);
		removed += rc;
		steps++;
	}
	assert_true(steps >= 3);
	assert_int_equal(removed, 5000);
	assert_int_equal(unbanned, 5000);
	assert_int_equal(by_reason[RG_REASON_RELAY_ATTEMPT], 5000);
	unbanned = 0;
	assert_int_equal(banstore_for_each(&maps, count_entry, &unbanned), 0);
	assert_int_equal(unbanned, 5000);
	free(e);
	bans_free(b);
}

static void test_snapshot_restore(void **state)
{
	uint64_t now = boot_ns(), later;
	struct bans *b = bans_new(&maps), *b2;
	struct ban_entry e = { 0 };
	struct ban_result r;
	struct rg_ban ban;
	unsigned long n;
	char buf[32];
	int i;

	(void)state;
	clear_maps();
	for (i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "10.1.%d.%d", i / 250, i % 250 + 1);
		e.source = addr(buf);
		e.ban.reason = RG_REASON_RELAY_ATTEMPT;
		e.ban.expires_ns = now + (100 + i) * SEC;
		e.ban.created_ns = now - SEC;
		e.ban.hits = i;
		e.ban.offences = 1;
		assert_int_equal(banstore_put(&maps, &e), 0);
	}
	e.source = addr("10.9.9.9"); /* permanent, from a CrowdSec list */
	e.ban.expires_ns = 0;
	e.ban.origin = RG_ORIGIN_CS_LISTS;
	memcpy(e.ban.origin_tag, "firehol", 7);
	assert_int_equal(banstore_put(&maps, &e), 0);
	e.ban.origin = RG_ORIGIN_LOCAL;
	memset(e.ban.origin_tag, 0, sizeof(e.ban.origin_tag));
	e.source = addr("10.9.9.10"); /* expires before the restore */
	e.ban.expires_ns = now + SEC / 10;
	assert_int_equal(banstore_put(&maps, &e), 0);
	e.source = addr("2001:db8:5::"); /* a /64 group */
	e.source.len = 64;
	e.ban.expires_ns = now + 500 * SEC;
	assert_int_equal(banstore_put(&maps, &e), 0);
	assert_int_equal(bans_ban(b, &conf, &(struct prefix){ 0 }, 0, now, &r),
			 -EINVAL);
	e.source = addr("198.51.100.200");
	assert_int_equal(bans_ban(b, &conf, &e.source, RG_REASON_PREGREET, now,
				  &r), 0);
	assert_int_equal(bans_snapshot(b, snap), 0);
	bans_free(b);

	usleep(200 * 1000);
	clear_maps();
	b2 = bans_new(&maps);
	assert_int_equal(bans_restore(b2, snap, true, &n), 0);
	assert_int_equal(n, 1000 + 1 + 1 + 1); /* 10.9.9.10 expired */
	later = boot_ns();
	for (i = 0; i < 1000; i += 97) {
		snprintf(buf, sizeof(buf), "10.1.%d.%d", i / 250, i % 250 + 1);
		e.source = addr(buf);
		assert_int_equal(banstore_get(&maps, &e.source, &ban), 0);
		/* Same instant on the boot clock, within 10 ms. */
		assert_true(ban.expires_ns > now + (100 + i) * SEC - SEC / 100);
		assert_true(ban.expires_ns < now + (100 + i) * SEC + SEC / 100);
		assert_int_equal(ban.hits, i);
		assert_int_equal(ban.reason, RG_REASON_RELAY_ATTEMPT);
		assert_int_equal(ban.origin, RG_ORIGIN_LOCAL);
	}
	assert_int_equal(banstore_get(&maps, (e.source = addr("10.9.9.9"), &e.source), &ban), 0);
	assert_int_equal(ban.expires_ns, 0);
	assert_int_equal(ban.origin, RG_ORIGIN_CS_LISTS); /* origin kept */
	assert_memory_equal(ban.origin_tag, "firehol", 7);
	assert_int_equal(banstore_get(&maps, (e.source = addr("10.9.9.10"), &e.source), &ban),
			 -ENOENT);
	e.source = addr("2001:db8:5::");
	e.source.len = 64;
	assert_int_equal(banstore_get(&maps, &e.source, &ban), 0);
	assert_int_equal(bans_offences(b2, (e.source = addr("198.51.100.200"), &e.source)), 1);
	(void)later;
	bans_free(b2);
}

/* A snapshot keeps a ban's hits as shown: with the SYNs its bucket
 * dropped on the banned mark and not yet added (a restore on another
 * boot finds no bucket). */
static void test_snapshot_pending_hits(void **state)
{
	struct rg_config cfg = { .hash_seed = 0x0bad5eed };
	struct ban_entry e = { .source = addr("10.5.5.5") };
	struct bans *b = bans_new(&maps);
	struct snapshot s = { 0 };
	char err[256];
	__u32 key = 0;

	(void)state;
	clear_maps();
	maps.config = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, sizeof(cfg),
				     1, NULL);
	maps.ratelimit = testmaps_ratelimit();
	assert_true(maps.config >= 0 && maps.ratelimit >= 0);
	assert_int_equal(bpf_map_update_elem(maps.config, &key, &cfg, 0), 0);
	e.ban.hits = 5;
	e.ban.reason = RG_REASON_RELAY_ATTEMPT;
	assert_int_equal(banstore_put(&maps, &e), 0);
	assert_int_equal(testmaps_bucket(maps.ratelimit, cfg.hash_seed,
					 &e.source, NULL, 7),
			 0);
	assert_int_equal(bans_snapshot(b, snap), 0);
	assert_int_equal(snapshot_read(snap, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_bans, 1);
	assert_int_equal(s.bans[0].hits, 12);
	snapshot_free(&s);
	bans_free(b);
	close(maps.config);
	close(maps.ratelimit);
	maps.config = maps.ratelimit = -1;
	clear_maps();
}

/* A /48 (ipv6_escalate) banned whole: one entry, snapshotted and restored
 * as the /48, with its own offences; the /64 at its start is apart. */
static void test_wide_snapshot(void **state)
{
	struct prefix wide = addr("2001:db8:9::"), first = wide;
	struct rg_ip6 key = { 0 };
	struct bans *b = bans_new(&maps);
	struct ban_result r;
	struct rg_ban ban;
	unsigned long n;

	(void)state;
	clear_maps();
	wide.len = 48;
	first.len = 64;
	assert_int_equal(bans_ban(b, &conf, &wide, RG_REASON_IPV6_ROTATION,
				  boot_ns(), &r),
			 0);
	assert_int_equal(r.outcome, BAN_ADDED);
	assert_int_equal(r.source.len, 48);
	assert_int_equal(r.offences, 1);
	assert_int_equal(banstore_get(&maps, &first, &ban), -ENOENT);
	assert_int_equal(bans_snapshot(b, snap), 0);
	bans_free(b);
	clear_maps();
	b = bans_new(&maps);
	assert_int_equal(bans_restore(b, snap, true, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(banstore_get(&maps, &wide, &ban), 0);
	assert_int_equal(ban.reason, RG_REASON_IPV6_ROTATION);
	memcpy(key.addr, wide.addr, 8);
	memset(key.addr + 8, 0xff, 8);
	assert_int_equal(bpf_map_lookup_elem(maps.bans6, &key, &ban), 0);
	assert_int_equal(bans_offences(b, &wide), 1);
	bans_free(b);
}

/* Same boot, maps kept: the map is the truth, only history is merged. */
static void test_restart_keeps_map(void **state)
{
	struct prefix a = addr("198.51.100.200");
	struct bans *b = bans_new(&maps);
	struct rg_ban ban;
	unsigned long n;

	(void)state;
	clear_maps();
	assert_int_equal(bans_restore(b, snap, false, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(banstore_get(&maps, &a, &ban), -ENOENT);
	assert_int_equal(bans_offences(b, &a), 1);
	bans_free(b);
}

/* Bans that cannot be put back (map too small) are not lost: the snapshot
 * is kept under another name before a new one could overwrite it. */
static void test_unrestored_kept(void **state)
{
	struct rg_maps small = maps;
	struct bans *b;
	unsigned long n = 99;
	char cmd[600];

	(void)state;
	small.bans4 = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4,
				     sizeof(struct rg_ban), 10, NULL);
	assert_true(small.bans4 >= 0);
	b = bans_new(&small);
	assert_int_not_equal(bans_restore(b, snap, true, &n), 0);
	assert_int_equal(n, 0);
	assert_int_not_equal(access(snap, F_OK), 0);
	snprintf(cmd, sizeof(cmd), "ls %s/bans.gz.unrestored-* >/dev/null", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "mv %s/bans.gz.unrestored-* %s", dir, snap);
	assert_int_equal(system(cmd), 0);
	bans_free(b);
	close(small.bans4);
}

static void test_corrupt(void **state)
{
	struct bans *b = bans_new(&maps);
	char aside[300];
	unsigned long n = 99;
	FILE *f;

	(void)state;
	f = fopen(snap, "w");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	assert_int_equal(bans_restore(b, snap, true, &n), 0);
	assert_int_equal(n, 0);
	assert_int_not_equal(access(snap, F_OK), 0);
	snprintf(aside, sizeof(aside), "ls %s/bans.gz.corrupt-* >/dev/null",
		 dir);
	assert_int_equal(system(aside), 0);
	bans_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_never_banned),
		cmocka_unit_test(test_ipv6_grouped),
		cmocka_unit_test(test_sweep_counts),
		cmocka_unit_test(test_sweep_steps),
		cmocka_unit_test(test_snapshot_restore),
		cmocka_unit_test(test_restart_keeps_map),
		cmocka_unit_test(test_unrestored_kept),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_wide_snapshot),
		cmocka_unit_test(test_snapshot_pending_hits),
	};

	return run_map_tests(tests, setup, teardown);
}
