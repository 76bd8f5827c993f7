/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The ban snapshot (state_dir/bans.gz): bans with their remaining time and
 * the offence history, so that both survive a reboot. gzip format (zlib);
 * inside, a header with counts, fixed-size records and a CRC32 over all of
 * it. A file is validated whole before anything is returned: a truncated or
 * corrupt snapshot is never half-loaded. Times are wall-clock (CLOCK_REALTIME)
 * nanoseconds, because the boot clock starts again at a reboot. */
#ifndef RG_SNAPSHOT_H
#define RG_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "relayguard.h"

struct snap_ban {
	struct prefix source;
	uint64_t expires_wall_ns; /* 0: permanent */
	uint64_t created_wall_ns;
	uint64_t hits;
	uint32_t reason; /* enum rg_reason */
	uint32_t offences;
	uint8_t origin; /* enum rg_origin */
	char origin_tag[RG_ORIGIN_TAG_LEN];
};

struct snap_offence {
	struct prefix source;
	uint64_t last_wall_ns; /* when the last ban was decided */
	uint32_t offences;
};

#define SNAP_BOOT_ID_LEN 40

struct snapshot {
	uint64_t written_wall_ns;
	/* /proc/sys/kernel/random/boot_id of the boot that wrote it: a
	 * different one on start means the machine rebooted. */
	char boot_id[SNAP_BOOT_ID_LEN];
	struct snap_ban *bans;
	size_t n_bans;
	struct snap_offence *offences;
	size_t n_offences;
};

/* Write s to path atomically: path.tmp, fsync, rename, fsync of the dir. */
int snapshot_write(const char *path, const struct snapshot *s);
/* Read and validate the whole file. 0 and *s filled (free with
 * snapshot_free); -ENOENT when there is none; -EBADMSG when it is corrupt or
 * truncated, with why in err. */
int snapshot_read(const char *path, struct snapshot *s, char *err,
		  size_t errlen);
/* Rename a bad snapshot to path.corrupt-<unix time>; the new name in out. */
int snapshot_set_aside(const char *path, char *out, size_t outlen);
void snapshot_free(struct snapshot *s);
/* This boot's id into buf (SNAP_BOOT_ID_LEN), "" if unknown. */
void snapshot_boot_id(char *buf);

#endif
