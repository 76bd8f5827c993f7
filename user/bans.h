/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Ban decisions -> the ban store: escalation from the offence history,
 * never a trusted network or an allow-listed source, the expiry sweep,
 * snapshots of bans and history (bans.gz) and their restore. */
#ifndef RG_BANS_H
#define RG_BANS_H

#include <stdbool.h>
#include <stdint.h>

#include "banstore.h"
#include "parse.h"
#include "relayguard.h"

struct rg_conf;
struct bans;

enum ban_outcome {
	BAN_ADDED,
	BAN_EXISTS,  /* already banned and not expired: left as it is */
	BAN_TRUSTED, /* in trusted_networks: never banned */
	BAN_ALLOWED, /* in allow4/allow6: never banned */
};

struct ban_result {
	enum ban_outcome outcome;
	struct prefix source; /* as keyed in the map (v6: grouped) */
	uint64_t duration_s;  /* DURATION_PERMANENT never comes from policy */
	uint64_t expires_ns;  /* boot clock */
	uint32_t offences;    /* this one included */
};

struct bans *bans_new(const struct rg_maps *maps);
void bans_free(struct bans *b);
const struct rg_maps *bans_maps(const struct bans *b);

/* Ban addr (a host address) for reason. Returns 0 with res->outcome, or a
 * negative errno when the map could not be written. */
int bans_ban(struct bans *b, const struct rg_conf *conf,
	     const struct prefix *addr, enum rg_reason reason, uint64_t now_ns,
	     struct ban_result *res);

/* BAN_TRUSTED or BAN_ALLOWED when addr (a host address, or a ban source)
 * may never be banned, else BAN_ADDED. */
enum ban_outcome bans_exempt(const struct bans *b, const struct rg_conf *conf,
			     const struct prefix *addr);

/* Delete every ban whose expiry has passed, calling cb for each; count the
 * remaining ones by reason into by_reason[RG_REASON_MAX] (may be NULL).
 * Offence history older than 2 x ban_time_max is forgotten. Returns the
 * number removed or a negative errno. */
typedef void (*bans_unban_cb)(const struct ban_entry *e, void *ctx);
int bans_sweep(struct bans *b, const struct rg_conf *conf, uint64_t now_ns,
	       uint64_t *by_reason, bans_unban_cb cb, void *ctx);

/* One step of the same sweep over at least max bans (whole batches), from
 * where the last step stopped: a daemon with a million bans (a full walk
 * takes ~300 ms) keeps answering between steps. *done when the sweep went
 * round: by_reason is then filled and old offence history forgotten.
 * Returns the number removed in this step or a negative errno (*done). */
int bans_sweep_step(struct bans *b, const struct rg_conf *conf, uint64_t now_ns,
		    size_t max, uint64_t *by_reason, bans_unban_cb cb,
		    void *ctx, bool *done);

/* The bans in force in bans4 and in bans6 when the last sweep went round
 * (0 before the first): how full the maps are. */
void bans_in_maps(const struct bans *b, uint64_t *v4, uint64_t *v6);

/* Write every ban and the offence history to path (atomically). */
int bans_snapshot(struct bans *b, const char *path);

/* Read path. The offence history is always merged in. Bans are restored
 * (remaining time kept, expired ones dropped, entries already in the map
 * left alone) when restore_bans is set or the snapshot comes from another
 * boot. A corrupt snapshot is reported and set aside, and 0 returned: it
 * never stops the daemon. *restored: bans written (may be NULL). */
int bans_restore(struct bans *b, const char *path, bool restore_bans,
		 unsigned long *restored);

/* Offences recorded for a source (its grouped form); 0 if none. */
uint32_t bans_offences(struct bans *b, const struct prefix *source);

#endif
