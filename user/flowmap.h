/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* User space's side of the data plane's self-hashed arrays: finding a
 * flow in `flows` (the set rg_flow_set_first names, as the programs do),
 * stopping (both sides or the client's), pausing and resuming its sampling,
 * and counting the slots in use of `flows` and `ratelimit` (an array always
 * has max_entries keys). */
#ifndef RG_FLOWMAP_H
#define RG_FLOWMAP_H

#include "relayguard.h"

/* key's slot in the flows map fd, its entry in *out. Returns the slot
 * (>= 0), -ENOENT when it is not there, or -errno. */
long flowmap_find(int fd, __u32 seed, const struct rg_flow_key *key,
		  struct rg_flow *out);

/* Set RG_FLOW_STOP on key's entry. Returns 0, -ENOENT when the entry is
 * gone (nothing left to stop: a new entry starts sampling afresh), or
 * -errno. */
int flowmap_stop(int fd, __u32 seed, const struct rg_flow_key *key);

/* The client is banned: set RG_FLOW_STOP_IN, the data plane samples no
 * more client payload of key's flow, and the server's replies still (an
 * open relay's acceptance is graded after the ban). Returns as
 * flowmap_stop. */
int flowmap_stop_client(int fd, __u32 seed, const struct rg_flow_key *key);

/* A message body follows (after the 354 to DATA, or a BDAT chunk): the
 * data plane samples no client payload of key's flow until resumed.
 * Returns as flowmap_stop. */
int flowmap_pause_client(int fd, __u32 seed, const struct rg_flow_key *key);

/* The next mail transaction starts at client seq (host order, the ack of
 * the server's reply that ended the last one): sampling of client payload
 * resumes there with a fresh budget. Returns as flowmap_stop. */
int flowmap_resume_client(int fd, __u32 seed, const struct rg_flow_key *key,
			  __u32 seq);

/* Slots of an array map (fd) in use: those whose value has a nonzero
 * byte at family_off (the family of the key the slot holds). */
long flowmap_used(int fd, unsigned int family_off);
/* Every value of the array map fd (at least min_size bytes each) to
 * visit(), in slot order, read in batches. 0 or -errno. */
int flowmap_scan(int fd, unsigned int min_size,
		 void (*visit)(const void *val, void *ctx), void *ctx);

/* cb() for every flow entry in the flows map fd (free slots skipped), as
 * the map holds it at the time of the read. 0 or -errno. */
int flowmap_for_each(int fd, void (*cb)(const struct rg_flow *f, void *ctx),
		     void *ctx);

#endif
