// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* On-disk layout (inside the gzip stream, host byte order: the file never
 * leaves the machine that wrote it):
 *   header   struct snap_hdr
 *   n_bans   struct snap_ban_rec
 *   n_offs   struct snap_off_rec
 *   trailer  uint32 CRC32 of everything before it
 * Nothing may follow the trailer. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fsutil.h"
#include "log.h"
#include "snapshot.h"

#define SNAP_MAGIC "RGSNAP\0\0"
/* 2: ban records end with the ban's origin. Version 1 is still read. */
#define SNAP_VERSION	       2
#define SNAP_VERSION_NO_ORIGIN 1
/* More than the ban maps can hold, less than a runaway allocation. */
#define SNAP_MAX_RECORDS (16U << 20)

struct snap_hdr {
	char magic[8];
	uint32_t version;
	uint32_t ban_rec_size;
	uint32_t off_rec_size;
	uint32_t pad;
	uint64_t written_wall_ns;
	char boot_id[SNAP_BOOT_ID_LEN];
	uint64_t n_bans;
	uint64_t n_offs;
};

struct snap_ban_rec {
	uint8_t family; /* 4 or 6 */
	uint8_t len;
	uint8_t pad[2];
	uint32_t reason;
	uint32_t offences;
	uint32_t pad2;
	uint8_t addr[16];
	uint64_t expires_wall_ns;
	uint64_t created_wall_ns;
	uint64_t hits;
	uint8_t origin; /* version 2 on */
	char origin_tag[RG_ORIGIN_TAG_LEN];
};

/* What a version 1 ban record holds: the same without the origin. */
#define SNAP_BAN_REC_V1_SIZE offsetof(struct snap_ban_rec, origin)

struct snap_off_rec {
	uint8_t family;
	uint8_t len;
	uint8_t pad[2];
	uint32_t offences;
	uint8_t addr[16];
	uint64_t last_wall_ns;
};

struct gz_out {
	gzFile gz;
	uLong crc;
};

static int gz_put(struct gz_out *o, const void *buf, size_t len)
{
	o->crc = crc32(o->crc, buf, len);
	if (gzwrite(o->gz, buf, len) != (int)len)
		return -EIO;
	return 0;
}

static uint8_t family_code(int family)
{
	return family == AF_INET6 ? 6 : 4;
}

static int family_from_code(uint8_t code)
{
	return code == 6 ? AF_INET6 : code == 4 ? AF_INET : -1;
}

/* A prefix as a record holds it: the mirror of fill_prefix. */
static void rec_prefix(const struct prefix *p, uint8_t *family, uint8_t *len,
		       uint8_t *addr)
{
	*family = family_code(p->family);
	*len = p->len;
	memcpy(addr, p->addr, sizeof(p->addr));
}

static int put_ban(struct gz_out *o, const struct snap_ban *b)
{
	struct snap_ban_rec r = {
		.reason = b->reason,
		.offences = b->offences,
		.expires_wall_ns = b->expires_wall_ns,
		.created_wall_ns = b->created_wall_ns,
		.hits = b->hits,
		.origin = b->origin,
	};

	rec_prefix(&b->source, &r.family, &r.len, r.addr);
	memcpy(r.origin_tag, b->origin_tag, sizeof(r.origin_tag));
	return gz_put(o, &r, sizeof(r));
}

static int put_offence(struct gz_out *o, const struct snap_offence *f)
{
	struct snap_off_rec r = {
		.offences = f->offences,
		.last_wall_ns = f->last_wall_ns,
	};

	rec_prefix(&f->source, &r.family, &r.len, r.addr);
	return gz_put(o, &r, sizeof(r));
}

static int write_records(struct gz_out *o, const struct snapshot *s)
{
	struct snap_hdr h = {
		.version = SNAP_VERSION,
		.ban_rec_size = sizeof(struct snap_ban_rec),
		.off_rec_size = sizeof(struct snap_off_rec),
		.written_wall_ns = s->written_wall_ns,
		.n_bans = s->n_bans,
		.n_offs = s->n_offences,
	};
	size_t i;
	int err;

	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	memcpy(h.boot_id, s->boot_id, sizeof(h.boot_id));
	h.boot_id[sizeof(h.boot_id) - 1] = '\0';
	err = gz_put(o, &h, sizeof(h));
	for (i = 0; !err && i < s->n_bans; i++)
		err = put_ban(o, &s->bans[i]);
	for (i = 0; !err && i < s->n_offences; i++)
		err = put_offence(o, &s->offences[i]);
	if (!err) {
		uint32_t crc = o->crc;

		if (gzwrite(o->gz, &crc, sizeof(crc)) != sizeof(crc))
			err = -EIO;
	}
	return err;
}

/* The gzip stream on its own descriptor: the FILE stays empty. */
static int fill_snapshot(FILE *f, void *s)
{
	struct gz_out o = { .crc = crc32(0, NULL, 0) };
	int err;

	o.gz = gzdopen(dup(fileno(f)), "wb6");
	if (!o.gz)
		return -ENOMEM;
	err = write_records(&o, s);
	if (gzclose_w(o.gz) != Z_OK && !err)
		err = -EIO;
	return err;
}

int snapshot_write(const char *path, const struct snapshot *s)
{
	int err;

	/* per writer: a periodic snapshot's child may still be writing */
	err = fs_replace(path, FS_PRIVATE | FS_DURABLE | FS_TMP_PER_PID,
			 fill_snapshot, (void *)s);
	if (err)
		log_err("cannot write snapshot %s: %s", path,
			log_strerror(err));
	return err;
}

/* The whole decompressed file, or an error saying why not. */
static int slurp(const char *path, unsigned char **out, size_t *outlen,
		 char *err, size_t errlen)
{
	size_t cap = 1 << 16, len = 0;
	unsigned char *buf = NULL, *nb;
	gzFile gz;
	int n, rc = 0, zerr;

	gz = gzopen(path, "rb");
	if (!gz)
		return errno == ENOENT ? -ENOENT : -errno;
	for (;;) {
		if (!buf || len == cap) {
			if (buf)
				cap *= 2;
			if (cap > (size_t)SNAP_MAX_RECORDS * 64) {
				snprintf(err, errlen, "larger than %u records",
					 SNAP_MAX_RECORDS);
				rc = -EBADMSG;
				break;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = gzread(gz, buf + len, cap - len);
		if (n < 0) {
			snprintf(err, errlen, "gzip: %s", gzerror(gz, &zerr));
			rc = -EBADMSG;
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	/* A truncated gzip stream reads as a short file without error;
	 * gzclose_r reports it. */
	zerr = gzclose_r(gz);
	if (!rc && zerr != Z_OK) {
		snprintf(err, errlen, "gzip stream truncated or damaged");
		rc = -EBADMSG;
	}
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* The ban record size of a snapshot version; 0 for an unknown one. */
static size_t ban_rec_size(uint32_t version)
{
	if (version == SNAP_VERSION)
		return sizeof(struct snap_ban_rec);
	if (version == SNAP_VERSION_NO_ORIGIN)
		return SNAP_BAN_REC_V1_SIZE;
	return 0;
}

static int check_layout(const unsigned char *buf, size_t len,
			const struct snap_hdr *h, char *err, size_t errlen)
{
	size_t rec = ban_rec_size(h->version);
	uint32_t crc;

	if (memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic)) || !rec) {
		snprintf(err, errlen, "not a relayguard snapshot (version %u)",
			 SNAP_VERSION);
		return -EBADMSG;
	}
	if (h->ban_rec_size != rec ||
	    h->off_rec_size != sizeof(struct snap_off_rec) ||
	    h->n_bans > SNAP_MAX_RECORDS || h->n_offs > SNAP_MAX_RECORDS) {
		snprintf(err, errlen, "bad record sizes or counts");
		return -EBADMSG;
	}
	if (len != sizeof(*h) + h->n_bans * rec +
			   h->n_offs * sizeof(struct snap_off_rec) +
			   sizeof(crc)) {
		snprintf(
			err, errlen,
			"%zu bytes, header announces %llu bans and %llu offence records",
			len, (unsigned long long)h->n_bans,
			(unsigned long long)h->n_offs);
		return -EBADMSG;
	}
	memcpy(&crc, buf + len - sizeof(crc), sizeof(crc));
	if (crc != crc32(crc32(0, NULL, 0), buf, len - sizeof(crc))) {
		snprintf(err, errlen, "CRC mismatch");
		return -EBADMSG;
	}
	return 0;
}

static int fill_prefix(struct prefix *p, uint8_t family, uint8_t len,
		       const uint8_t *addr)
{
	p->family = family_from_code(family);
	p->len = len;
	memcpy(p->addr, addr, sizeof(p->addr));
	if (p->family < 0 || len > prefix_host_len(p->family))
		return -EBADMSG;
	return 0;
}

static int decode(const unsigned char *buf, const struct snap_hdr *h,
		  struct snapshot *s, char *err, size_t errlen)
{
	const unsigned char *p = buf + sizeof(*h);
	size_t i, rec = ban_rec_size(h->version);

	s->written_wall_ns = h->written_wall_ns;
	memcpy(s->boot_id, h->boot_id, sizeof(s->boot_id));
	s->boot_id[sizeof(s->boot_id) - 1] = '\0';
	s->n_bans = h->n_bans;
	s->n_offences = h->n_offs;
	s->bans = calloc(h->n_bans ? h->n_bans : 1, sizeof(*s->bans));
	s->offences = calloc(h->n_offs ? h->n_offs : 1, sizeof(*s->offences));
	if (!s->bans || !s->offences)
		return -ENOMEM;
	for (i = 0; i < s->n_bans; i++, p += rec) {
		struct snap_ban_rec r = { 0 }; /* version 1: local */
		struct snap_ban *b = &s->bans[i];

		memcpy(&r, p, rec);
		if (fill_prefix(&b->source, r.family, r.len, r.addr))
			goto bad;
		b->expires_wall_ns = r.expires_wall_ns;
		b->created_wall_ns = r.created_wall_ns;
		b->hits = r.hits;
		b->reason = r.reason;
		b->offences = r.offences;
		b->origin = r.origin < RG_ORIGIN_MAX ? r.origin
						     : RG_ORIGIN_CS_OTHER;
		memcpy(b->origin_tag, r.origin_tag, sizeof(b->origin_tag));
	}
	for (i = 0; i < s->n_offences; i++, p += sizeof(struct snap_off_rec)) {
		struct snap_off_rec r;
		struct snap_offence *f = &s->offences[i];

		memcpy(&r, p, sizeof(r));
		if (fill_prefix(&f->source, r.family, r.len, r.addr))
			goto bad;
		f->offences = r.offences;
		f->last_wall_ns = r.last_wall_ns;
	}
	return 0;
bad:
	snprintf(err, errlen, "record with a bad address family or length");
	return -EBADMSG;
}

int snapshot_read(const char *path, struct snapshot *s, char *err,
		  size_t errlen)
{
	unsigned char *buf = NULL;
	struct snap_hdr h;
	size_t len = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	snprintf(err, errlen, "unreadable");
	rc = slurp(path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	if (len < sizeof(h) + sizeof(uint32_t)) {
		snprintf(err, errlen, "truncated: %zu bytes", len);
		rc = -EBADMSG;
		goto out;
	}
	memcpy(&h, buf, sizeof(h));
	rc = check_layout(buf, len, &h, err, errlen);
	if (!rc)
		rc = decode(buf, &h, s, err, errlen);
	if (rc)
		snapshot_free(s);
out:
	free(buf);
	return rc;
}

int snapshot_set_aside(const char *path, char *out, size_t outlen)
{
	if (snprintf(out, outlen, "%s.corrupt-%lld", path,
		     (long long)time(NULL)) >= (int)outlen)
		return -ENAMETOOLONG;
	if (rename(path, out))
		return -errno;
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	free(s->bans);
	free(s->offences);
	s->bans = NULL;
	s->offences = NULL;
	s->n_bans = s->n_offences = 0;
}

void snapshot_boot_id(char *buf)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, SNAP_BOOT_ID_LEN - 1, f);
		fclose(f);
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
}
