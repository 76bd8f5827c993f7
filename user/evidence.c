// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libpcap writes the pcap format; its FILE is a cookie stream over zlib's
 * gzwrite, so the file on disk is a .pcap.gz that tcpdump and tshark read
 * directly. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "evidence.h"
#include "fsutil.h"
#include "log.h"

#define EV_SNAPLEN 65535
#define IP4_HLEN   20
#define IP6_HLEN   40
#define TCP_HLEN   20

struct evidence {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	gzFile gz;
	int gz_err; /* set by the cookie stream */
	char path[4096];
	unsigned char pkt[IP6_HLEN + TCP_HLEN + RG_SAMPLE_PAYLOAD_MAX];
};

static ssize_t gz_cookie_write(void *cookie, const char *buf, size_t len)
{
	struct evidence *e = cookie;

	if (!len)
		return 0;
	if (gzwrite(e->gz, buf, len) != (int)len) {
		e->gz_err = -EIO;
		return -1;
	}
	return len;
}

static int gz_cookie_close(void *cookie)
{
	struct evidence *e = cookie;

	if (gzclose_w(e->gz) != Z_OK && !e->gz_err)
		e->gz_err = -EIO;
	e->gz = NULL;
	return e->gz_err ? EOF : 0;
}

/* <dir>/20261128T190312.123Z-192.0.2.7.pcap.gz; ':' of IPv6 kept. */
/* dir/<UTC time>-<source>.pcap.gz; the nth file of one millisecond (n >
 * 0: an alert and the ban before it, a ban of each of two flows) adds
 * .<n> to the source. */
/* now: one time for every attempt of one open, so that a ".n" name
 * always shares its millisecond with the file it steps aside for. */
static int make_path(const char *dir, const struct prefix *source, uint64_t now,
		     unsigned int n, char *out, size_t outlen)
{
	time_t secs = now / NSEC_PER_SEC;
	char when[32], src[PREFIX_STRLEN], *c;
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	format_prefix(source, src, sizeof(src));
	for (c = src; *c; c++)
		if (*c == '/')
			*c = '_';
	if (n)
		snprintf(src + strlen(src), sizeof(src) - strlen(src), ".%u",
			 n);
	if (snprintf(out, outlen, "%s/%s.%03lluZ-%s.pcap.gz", dir, when,
		     (unsigned long long)(now % NSEC_PER_SEC / 1000000),
		     src) >= (int)outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* Files of one source tried within a millisecond before giving up. */
#define EVIDENCE_SAME_MS_MAX 16

static int open_stream(struct evidence *e)
{
	cookie_io_functions_t io = {
		.write = gz_cookie_write,
		.close = gz_cookie_close,
	};
	int fd;
	FILE *f;

	fd = open(e->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	e->gz = gzdopen(fd, "wb6");
	if (!e->gz) {
		close(fd);
		return -ENOMEM;
	}
	f = fopencookie(e, "w", io);
	if (!f) {
		gzclose_w(e->gz);
		return -ENOMEM;
	}
	e->pcap = pcap_open_dead(DLT_RAW, EV_SNAPLEN);
	if (e->pcap)
		e->dumper = pcap_dump_fopen(e->pcap, f);
	if (!e->dumper) {
		fclose(f);
		return -ENOMEM;
	}
	return 0;
}

int evidence_open(const char *dir, const struct prefix *source,
		  struct evidence **out, char *path, size_t pathlen)
{
	uint64_t now = clock_ns(CLOCK_REALTIME);
	struct evidence *e;
	unsigned int n;
	int err;

	err = fs_mkdirs(dir, 0750);
	if (err) {
		log_err("cannot create evidence dir %s: %s", dir,
			log_strerror(err));
		return err;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (n = 0, err = -EEXIST; err == -EEXIST && n < EVIDENCE_SAME_MS_MAX;
	     n++) {
		err = make_path(dir, source, now, n, e->path, sizeof(e->path));
		if (!err)
			err = open_stream(e);
	}
	if (err) {
		log_err("cannot create evidence file %s: %s", e->path,
			log_strerror(err));
		if (e->pcap)
			pcap_close(e->pcap);
		if (err != -EEXIST) /* another's file: not ours to remove */
			unlink(e->path);
		free(e);
		return err;
	}
	snprintf(path, pathlen, "%s", e->path);
	*out = e;
	return 0;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* The IP header at pkt; returns its length. src/dst by direction. */
static size_t build_ip(uint8_t *pkt, const struct rg_sample *s, size_t tcp_len)
{
	const uint8_t *src =
		s->dir == RG_DIR_IN ? s->flow.client : s->flow.server;
	const uint8_t *dst =
		s->dir == RG_DIR_IN ? s->flow.server : s->flow.client;

	if (s->flow.family == AF_INET6) {
		memset(pkt, 0, IP6_HLEN);
		pkt[0] = 0x60;
		put16(pkt + 4, tcp_len);
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;
		memcpy(pkt + 8, src, 16);
		memcpy(pkt + 24, dst, 16);
		return IP6_HLEN;
	}
	memset(pkt, 0, IP4_HLEN);
	pkt[0] = 0x45;
	put16(pkt + 2, IP4_HLEN + tcp_len);
	put16(pkt + 6, 0x4000); /* DF */
	pkt[8] = 64;
	pkt[9] = IPPROTO_TCP;
	memcpy(pkt + 12, src, 4);
	memcpy(pkt + 16, dst, 4);
	put16(pkt + 10, csum_fold(csum_add(0, pkt, IP4_HLEN)));
	return IP4_HLEN;
}

static uint16_t tcp_csum(const uint8_t *ip, int family, const uint8_t *tcp,
			 size_t tcp_len)
{
	uint32_t sum;

	if (family == AF_INET6)
		sum = csum_add(0, ip + 8, 32);
	else
		sum = csum_add(0, ip + 12, 8);
	sum += IPPROTO_TCP + tcp_len;
	return csum_fold(csum_add(sum, tcp, tcp_len));
}

int evidence_add(struct evidence *e, const struct rg_sample *s)
{
	size_t plen = s->payload_len, tcp_len = TCP_HLEN + plen, ip_len;
	uint64_t wall = boot_to_wall_ns(s->ts_ns);
	struct pcap_pkthdr h = { 0 };
	uint16_t sport, dport;
	uint8_t *tcp;

	if (plen > RG_SAMPLE_PAYLOAD_MAX ||
	    (s->flow.family != AF_INET && s->flow.family != AF_INET6))
		return -EINVAL;
	ip_len = build_ip(e->pkt, s, tcp_len);
	tcp = e->pkt + ip_len;
	sport = s->dir == RG_DIR_IN ? s->flow.client_port : s->flow.server_port;
	dport = s->dir == RG_DIR_IN ? s->flow.server_port : s->flow.client_port;
	memset(tcp, 0, TCP_HLEN);
	memcpy(tcp, &sport, 2); /* ports, seq and ack: already network order */
	memcpy(tcp + 2, &dport, 2);
	memcpy(tcp + 4, &s->seq, 4);
	memcpy(tcp + 8, &s->ack, 4);
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = s->tcp_flags;
	put16(tcp + 14, 65535);
	memcpy(tcp + TCP_HLEN, s->payload, plen);
	put16(tcp + 16, tcp_csum(e->pkt, s->flow.family, tcp, tcp_len));
	h.ts.tv_sec = wall / NSEC_PER_SEC;
	h.ts.tv_usec = wall % NSEC_PER_SEC / 1000;
	h.caplen = h.len = ip_len + tcp_len;
	pcap_dump((u_char *)e->dumper, &h, e->pkt);
	return e->gz_err;
}

int evidence_close(struct evidence *e)
{
	int err;

	if (pcap_dump_flush(e->dumper) && !e->gz_err)
		e->gz_err = -EIO;
	pcap_dump_close(e->dumper); /* fclose: gz_cookie_close */
	pcap_close(e->pcap);
	err = e->gz_err;
	if (err) {
		log_err("cannot write evidence file %s: %s", e->path,
			log_strerror(err));
		unlink(e->path);
	}
	free(e);
	return err;
}

struct ev_file {
	char name[256];
	off_t size;
	time_t mtime;
};

static int ev_older(const void *a, const void *b)
{
	const struct ev_file *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name); /* names start with the time */
}

static bool is_evidence(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && !strcmp(name + n - 8, ".pcap.gz");
}

/* Every evidence file in dir with its size, and their total. */
static int list_files(DIR *d, int dfd, struct ev_file **out, size_t *count,
		      uint64_t *total)
{
	struct ev_file *files = NULL, *nf;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;

	*total = 0;
	while ((de = readdir(d))) {
		if (!is_evidence(de->d_name) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nf = realloc(files, cap * sizeof(*files));
			if (!nf) {
				free(files);
				return -ENOMEM;
			}
			files = nf;
		}
		snprintf(files[n].name, sizeof(files[n].name), "%s",
			 de->d_name);
		files[n].size = st.st_size;
		files[n].mtime = st.st_mtime;
		*total += st.st_size;
		n++;
	}
	*out = files;
	*count = n;
	return 0;
}

int evidence_prune(const char *dir, uint64_t max_bytes, uint64_t keep_bytes,
		   uint64_t *left)
{
	struct ev_file *files = NULL;
	size_t n = 0, i;
	uint64_t total = 0;
	int removed = 0, err;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		*left = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	err = list_files(d, dirfd(d), &files, &n, &total);
	if (err)
		goto out;
	qsort(files, n, sizeof(*files), ev_older);
	if (total <= max_bytes)
		keep_bytes = total;
	for (i = 0; i < n && total > keep_bytes; i++) {
		if (unlinkat(dirfd(d), files[i].name, 0)) {
			log_warn("cannot remove old evidence %s/%s: %s", dir,
				 files[i].name, strerror(errno));
			continue;
		}
		total -= files[i].size;
		removed++;
	}
	err = removed;
out:
	*left = total;
	free(files);
	closedir(d);
	return err;
}

int evidence_account(struct evidence_dir *ed, const char *dir, uint64_t size,
		     uint64_t max_bytes)
{
	int removed;

	if (ed->known && ed->total + size <= max_bytes) {
		ed->total += size;
		return 0;
	}
	removed = evidence_prune(dir, max_bytes, max_bytes - max_bytes / 8,
				 &ed->total);
	ed->known = removed >= 0;
	return removed;
}
