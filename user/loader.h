/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loading, pinning and attaching relayguard's BPF programs, shared by
 * relayguardd and relayguardctl. Kernel-side state outlives the process:
 * maps stay pinned under the pin dir, programs stay attached. */
#ifndef RG_LOADER_H
#define RG_LOADER_H

#include <stdbool.h>

#include "relayguard.h"
#include "xdpmode.h"

/* File descriptors of the pinned maps; -1 where not open. */
struct rg_maps {
	int stats, config, bans4, bans6, allow4, allow6, deny4, deny6,
		ratelimit, flows, samples, acl_gen;
};

struct loader;

/* Open the BPF object, reuse the maps pinned under pin_dir or create and
 * pin them, load the programs. A pinned map whose type, key, value or size
 * differ from this build is refused with a message naming the map. Maps
 * of an older RG_ABI_VERSION are migrated in place (migrate.h): new maps
 * filled from them, the programs using them on every interface replaced
 * atomically, then the new maps pinned over the old. Needs the pin dir to
 * oneself (no relayguardd of the old ABI running on it). Returns 0 or a
 * negative errno. */
int loader_load(const char *pin_dir, struct loader **out);
/* config.abi_version of the maps pinned under pin_dir; 0 when nothing is
 * pinned or no ABI was written. 0 or -errno. */
int loader_pinned_abi(const char *pin_dir, unsigned int *abi);
/* Mount bpffs if needed and create pin_dir (and its parent). */
int loader_pin_dir_create(const char *pin_dir);
/* Frees user-space state only: programs stay attached, maps pinned. */
void loader_free(struct loader *l);
const struct rg_maps *loader_maps(const struct loader *l);
/* After loader_load() migrated maps of an older ABI: the samples ring the
 * replaced programs wrote until the swap, when this build reads their
 * records (they are older than any in the new ring), for the caller to
 * read and close; else -1. */
int loader_take_old_samples(struct loader *l);

/* Attach XDP (mode, with fallback under AUTO; *used says which took) and
 * TC egress (clsact) to ifname. Re-attaching replaces relayguard's own
 * programs atomically; another XDP program on ifname is refused. */
int loader_attach(struct loader *l, const char *ifname,
		  enum xdp_attach_mode mode, enum xdp_attach_mode *used);
/* Detach relayguard's XDP and TC programs from ifname; needs no loaded
 * object. */
int loader_detach(const char *ifname);
/* Unpin every relayguard map under pin_dir and remove the dir. */
int loader_purge(const char *pin_dir);
/* The id of a loaded relayguard XDP program other than skip that uses
 * the maps pinned under pin_dir (attached to another interface, or loaded
 * by a running relayguardd); 0 when there is none, or -errno. */
long loader_maps_user(const char *pin_dir, unsigned int skip);

struct attach_state {
	bool xdp;		   /* relayguard's XDP program is attached */
	enum xdp_attach_mode mode; /* NATIVE or GENERIC when xdp */
	unsigned int xdp_prog_id;
	bool tc; /* relayguard's TC egress program is attached */
	unsigned int tc_prog_id;
};
int loader_query(const char *ifname, struct attach_state *st);

/* Open the maps pinned under pin_dir without loading any program (ctl
 * commands, the daemon reusing what `relayguardctl attach` left). Returns
 * -ENOENT, with a message, when nothing is pinned there. */
int maps_open_pinned(const char *pin_dir, struct rg_maps *maps);
/* After a change of bans, allow, deny or config: the verdicts the data
 * plane remembers (struct rg_acl_mark) stop being current, so its next
 * packet looks the source up again. 0 or -errno (then the change holds
 * within RG_ACL_EPOCH_SHIFT's epoch, ~1 s). */
int maps_acl_changed(const struct rg_maps *maps);
void maps_close(struct rg_maps *maps);

#endif
