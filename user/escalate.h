/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* IPv6 /64 rotation (ipv6_escalate): an attacker holding a /48 gets a new
 * /64 for every ban. The daemon notes each IPv6 group ban here; when
 * ipv6_escalate distinct groups of one /48 were banned within
 * score_window, the /48 is banned whole (RG_REASON_IPV6_ROTATION, a wide
 * ban: banstore.h), unless it overlaps trusted_networks or the allow
 * list. Bounded: at most ESCALATE_MAX_48S /48s are remembered, the least
 * recently banned forgotten first. */
#ifndef RG_ESCALATE_H
#define RG_ESCALATE_H

#include <stdbool.h>
#include <stdint.h>

#include "bans.h"
#include "config.h"
#include "loader.h"
#include "parse.h"

#define ESCALATE_MAX_48S     4096
#define ESCALATE_MAX_MEMBERS 16 /* ipv6_escalate's maximum */

struct escalate;

struct escalate *escalate_new(void);
void escalate_free(struct escalate *e);

/* source (an IPv6 group, longer than /48) was banned at now_ns. True when
 * it makes `need` distinct groups of its /48 banned within window_ns;
 * *wide is then that /48 and its count starts anew. need 0: off. */
bool escalate_note(struct escalate *e, const struct prefix *source,
		   unsigned int need, uint64_t window_ns, uint64_t now_ns,
		   struct prefix *wide);

/* BAN_TRUSTED or BAN_ALLOWED when wide overlaps a trusted network or an
 * allow entry (either way round): it must not be banned; else BAN_ADDED.
 * maps may be NULL. */
enum ban_outcome escalate_exempt(const struct rg_conf *conf,
				 const struct rg_maps *maps,
				 const struct prefix *wide);

#endif
