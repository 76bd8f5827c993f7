// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The ban snapshot: a round trip keeps every field; truncated, damaged or
 * foreign files are refused whole (-EBADMSG) and can be set aside. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "snapshot.h"

static char dir[] = "/tmp/rg-test-snapshot-XXXXXX";
static char path[256];

static void make_snapshot(struct snapshot *s, size_t n)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->written_wall_ns = 1700000000ULL * 1000000000ULL;
	snapshot_boot_id(s->boot_id);
	s->bans = calloc(n, sizeof(*s->bans));
	s->offences = calloc(n, sizeof(*s->offences));
	s->n_bans = s->n_offences = n;
	for (i = 0; i < n; i++) {
		struct snap_ban *b = &s->bans[i];
		struct snap_offence *f = &s->offences[i];

		b->source.family = i % 3 ? AF_INET : AF_INET6;
		b->source.len = b->source.family == AF_INET ? 32 : 64;
		b->source.addr[0] = 10;
		b->source.addr[2] = i >> 8;
		b->source.addr[3] = i;
		b->expires_wall_ns = i ? s->written_wall_ns + i * 1000 : 0;
		b->created_wall_ns = s->written_wall_ns - i;
		b->hits = i * 7;
		b->reason = 1 + i % 11;
		b->offences = 1 + i % 5;
		b->origin = i % RG_ORIGIN_MAX;
		if (b->origin == RG_ORIGIN_CS_LISTS)
			memcpy(b->origin_tag, "firehol", 7);
		f->source = b->source;
		f->offences = b->offences;
		f->last_wall_ns = b->created_wall_ns;
	}
}

static void write_raw_gz(const void *buf, size_t len)
{
	gzFile gz = gzopen(path, "wb");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, buf, len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
}

static void read_file(const char *p, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(p, "rb");

	assert_non_null(f);
	*buf = malloc(1 << 24);
	*len = fread(*buf, 1, 1 << 24, f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	struct snapshot s, r;
	char err[256];
	struct stat st;
	char tmp[300];

	(void)state;
	make_snapshot(&s, 1000);
	assert_int_equal(snapshot_write(path, &s), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(stat(tmp, &st), 0); /* renamed away */
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_bans, 1000);
	assert_int_equal(r.n_offences, 1000);
	assert_int_equal(r.written_wall_ns, s.written_wall_ns);
	assert_int_equal(strlen(r.boot_id), 36);
	assert_string_equal(r.boot_id, s.boot_id);
	assert_memory_equal(r.bans, s.bans, 1000 * sizeof(*s.bans));
	assert_memory_equal(r.offences, s.offences,
			    1000 * sizeof(*s.offences));
	snapshot_free(&r);
	snapshot_free(&s);
}

static void test_empty(void **state)
{
	struct snapshot s = { 0 }, r;
	char err[256];

	(void)state;
	assert_int_equal(snapshot_write(path, &s), 0);
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_bans, 0);
	snapshot_free(&r);
}

static void test_missing(void **state)
{
	struct snapshot r;
	char err[256];

	(void)state;
	unlink(path);
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), -ENOENT);
}

/* Every cut of the compressed file is refused, never half-loaded. */
static void test_truncated_gzip(void **state)
{
	unsigned char *buf;
	struct snapshot s, r;
	char err[256];
	size_t len, cut;
	FILE *f;

	(void)state;
	make_snapshot(&s, 200);
	assert_int_equal(snapshot_write(path, &s), 0);
	read_file(path, &buf, &len);
	for (cut = 0; cut < len; cut += 1 + cut / 8) {
		f = fopen(path, "wb");
		fwrite(buf, 1, cut, f);
		fclose(f);
		assert_int_equal(snapshot_read(path, &r, err, sizeof(err)),
				 -EBADMSG);
		assert_null(r.bans);
	}
	free(buf);
	snapshot_free(&s);
}

/* A well-formed gzip stream whose content is short by one record. */
static void test_truncated_content(void **state)
{
	struct snapshot s, r;
	unsigned char *buf;
	char err[256];
	size_t len;

	(void)state;
	make_snapshot(&s, 50);
	assert_int_equal(snapshot_write(path, &s), 0);
	{
		gzFile gz = gzopen(path, "rb");

		buf = malloc(1 << 20);
		len = gzread(gz, buf, 1 << 20);
		gzclose(gz);
	}
	write_raw_gz(buf, len - 60);
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "announces"));
	/* Same length but one flipped bit: the CRC catches it. */
	buf[100] ^= 1;
	write_raw_gz(buf, len);
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "CRC mismatch");
	free(buf);
	snapshot_free(&s);
}

static void test_garbage(void **state)
{
	struct snapshot r;
	char err[256];
	FILE *f;

	(void)state;
	f = fopen(path, "wb");
	fputs("this is not a gzip file at all, just text\n", f);
	fclose(f);
	/* zlib reads a non-gzip file transparently: the magic catches it. */
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), -EBADMSG);
	write_raw_gz("RGSNAP", 6);
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), -EBADMSG);
}

/* A snapshot of format version 1 (before bans had an origin) is still
 * read: its bans are local. */
static void test_version1(void **state)
{
	struct {
		char magic[8];
		uint32_t version, ban_rec_size, off_rec_size, pad;
		uint64_t written_wall_ns;
		char boot_id[SNAP_BOOT_ID_LEN];
		uint64_t n_bans, n_offs;
	} h = { .version = 1, .ban_rec_size = 56, .off_rec_size = 32,
		.written_wall_ns = 1700000000ULL * 1000000000ULL, .n_bans = 1 };
	struct {
		uint8_t family, len, pad[2];
		uint32_t reason, offences, pad2;
		uint8_t addr[16];
		uint64_t expires, created, hits;
	} rec = { .family = 4, .len = 32, .reason = 2, .offences = 3,
		  .addr = { 192, 0, 2, 9 }, .expires = 5, .created = 4,
		  .hits = 77 };
	unsigned char buf[sizeof(h) + sizeof(rec) + 4];
	struct snapshot r;
	char err[256];
	uint32_t crc;

	(void)state;
	assert_int_equal(sizeof(rec), 56);
	memcpy(h.magic, "RGSNAP\0\0", 8);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &rec, sizeof(rec));
	crc = crc32(crc32(0, NULL, 0), buf, sizeof(h) + sizeof(rec));
	memcpy(buf + sizeof(h) + sizeof(rec), &crc, 4);
	write_raw_gz(buf, sizeof(buf));
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_bans, 1);
	assert_int_equal(r.bans[0].source.addr[3], 9);
	assert_int_equal(r.bans[0].reason, 2);
	assert_int_equal(r.bans[0].offences, 3);
	assert_int_equal(r.bans[0].hits, 77);
	assert_int_equal(r.bans[0].origin, RG_ORIGIN_LOCAL);
	snapshot_free(&r);
	/* the same bytes announced as version 2 do not add up: refused */
	h.version = 2;
	memcpy(buf, &h, sizeof(h));
	crc = crc32(crc32(0, NULL, 0), buf, sizeof(h) + sizeof(rec));
	memcpy(buf + sizeof(h) + sizeof(rec), &crc, 4);
	write_raw_gz(buf, sizeof(buf));
	assert_int_equal(snapshot_read(path, &r, err, sizeof(err)), -EBADMSG);
}

static void test_set_aside(void **state)
{
	char aside[512];
	struct stat st;

	(void)state;
	write_raw_gz("junk", 4);
	assert_int_equal(snapshot_set_aside(path, aside, sizeof(aside)), 0);
	assert_non_null(strstr(aside, "bans.gz.corrupt-"));
	assert_int_equal(stat(aside, &st), 0);
	assert_int_not_equal(stat(path, &st), 0);
	unlink(aside);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_truncated_gzip),
		cmocka_unit_test(test_truncated_content),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_version1),
		cmocka_unit_test(test_set_aside),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/bans.gz", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	rmdir(dir);
	return rc;
}
