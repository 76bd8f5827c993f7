/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Evidence: the sampled session behind a ban, kept as a gzip-compressed
 * pcap (LINKTYPE_RAW: IPv4/IPv6 + TCP headers rebuilt from each sample with
 * correct checksums, so tcpdump -r and tshark -r show the SMTP dialogue)
 * under state_dir/evidence/<UTC time>-<source>.pcap.gz. The directory is
 * kept under a size bound, oldest files removed first. */
#ifndef RG_EVIDENCE_H
#define RG_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "relayguard.h"

struct evidence;

/* Create dir if needed and open a new pcap for source; its path in path. */
int evidence_open(const char *dir, const struct prefix *source,
		  struct evidence **out, char *path, size_t pathlen);
/* One sample record as one packet (a record without payload, e.g. a SYN,
 * is a bare TCP segment). */
int evidence_add(struct evidence *e, const struct rg_sample *s);
/* Flush and close; a write error removes the file. Returns 0 or -errno. */
int evidence_close(struct evidence *e);

/* When the *.pcap.gz in dir total more than max_bytes, remove the oldest
 * until they total keep_bytes (<= max_bytes) or less; *left: what remains.
 * Returns how many files were removed, or -errno. */
int evidence_prune(const char *dir, uint64_t max_bytes, uint64_t keep_bytes,
		   uint64_t *left);

/* The directory's bound, kept without scanning it for every file: one scan
 * learns its total, new files are counted, and only going over the bound
 * scans again, pruning to 7/8 of it. (A full 64 MB directory holds ~60,000
 * files; scanning it took ~110 ms, once per ban.) */
struct evidence_dir {
	uint64_t total; /* bytes of evidence in the dir, as last counted */
	bool known;	/* total was counted (false: scan at the next file) */
};

/* A file of size bytes was added to dir: keep dir within max_bytes.
 * Returns how many files were removed, or -errno. */
int evidence_account(struct evidence_dir *ed, const char *dir, uint64_t size,
		     uint64_t max_bytes);

#endif
