// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loading, pinning and attaching relayguard's BPF programs. XDP is attached
 * through netlink and TC through a clsact filter, so both stay attached
 * after the process exits; maps stay pinned under the pin dir. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "dpconfig.h"
#include "fsutil.h"
#include "loader.h"
#include "log.h"
#include "migrate.h"
#include "names.h"
#include "relayguard.skel.h"

#define RG_PROG_XDP "rg_xdp"
#define RG_PROG_TC  "rg_tc_egress"
/* More than the maps a relayguard program uses. */
#define RG_PROG_MAX_MAPS 32
/* Our TC filter's place on clsact egress: fixed, so re-attach replaces. */
#define RG_TC_HANDLE   0x7267 /* "rg" */
#define RG_TC_PRIORITY 0x7267
/* Under the pin dir: the new maps of an upgrade until they replace the
 * old pins (bpffs allows no dot in a name). */
#define RG_UPGRADE_DIR "upgrading"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

struct loader {
	struct relayguard_bpf *skel;
	struct rg_maps maps;
	/* After an upgrade: the ring the replaced programs wrote, when this
	 * build reads its records; else -1. */
	int old_samples;
	char pin_dir[PATH_MAX];
};

/* Every map relayguard pins, where its fd lives in struct rg_maps, and
 * the layout this build expects (0: not checked without the object). */
static const struct map_desc {
	const char *name;
	size_t off;
	enum bpf_map_type type;
	unsigned int key_size, value_size;
} map_descs[] = {
	{ RG_MAP_STATS, offsetof(struct rg_maps, stats),
	  BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct rg_stats) },
	{ RG_MAP_CONFIG, offsetof(struct rg_maps, config), BPF_MAP_TYPE_ARRAY,
	  4, sizeof(struct rg_config) },
	{ RG_MAP_BANS4, offsetof(struct rg_maps, bans4), 0, 4,
	  sizeof(struct rg_ban) },
	{ RG_MAP_BANS6, offsetof(struct rg_maps, bans6), 0,
	  sizeof(struct rg_ip6), sizeof(struct rg_ban) },
	{ RG_MAP_ALLOW4, offsetof(struct rg_maps, allow4),
	  BPF_MAP_TYPE_LPM_TRIE, sizeof(struct rg_lpm4_key), 0 },
	{ RG_MAP_ALLOW6, offsetof(struct rg_maps, allow6),
	  BPF_MAP_TYPE_LPM_TRIE, sizeof(struct rg_lpm6_key), 0 },
	{ RG_MAP_DENY4, offsetof(struct rg_maps, deny4), BPF_MAP_TYPE_LPM_TRIE,
	  sizeof(struct rg_lpm4_key), 0 },
	{ RG_MAP_DENY6, offsetof(struct rg_maps, deny6), BPF_MAP_TYPE_LPM_TRIE,
	  sizeof(struct rg_lpm6_key), 0 },
	{ RG_MAP_RATELIMIT, offsetof(struct rg_maps, ratelimit),
	  BPF_MAP_TYPE_ARRAY, 4, sizeof(struct rg_bucket) },
	{ RG_MAP_FLOWS, offsetof(struct rg_maps, flows), BPF_MAP_TYPE_ARRAY, 4,
	  sizeof(struct rg_flow) },
	{ RG_MAP_SAMPLES, offsetof(struct rg_maps, samples),
	  BPF_MAP_TYPE_RINGBUF, 0, 0 },
	{ RG_MAP_ACL_GEN, offsetof(struct rg_maps, acl_gen), BPF_MAP_TYPE_ARRAY,
	  4, sizeof(__u64) },
};

#define N_MAPS (ARRAY_LEN(map_descs))

static const struct map_desc *map_desc_of(const char *name)
{
	int i = name_index_by(map_descs, N_MAPS, name, name);

	return i < 0 ? NULL : &map_descs[i];
}

static int *map_fd_slot(struct rg_maps *maps, const struct map_desc *d)
{
	return (int *)((char *)maps + d->off);
}

static void maps_init(struct rg_maps *maps)
{
	size_t i;

	for (i = 0; i < N_MAPS; i++)
		*map_fd_slot(maps, &map_descs[i]) = -1;
}

void maps_close(struct rg_maps *maps)
{
	size_t i;
	int *fd;

	for (i = 0; i < N_MAPS; i++) {
		fd = map_fd_slot(maps, &map_descs[i]);
		fs_close(*fd);
		*fd = -1;
	}
}

static int pin_path(char *buf, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size) {
		log_err("pin path %s/%s is too long", dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int check_info(const struct bpf_map_info *info, const char *path,
		      enum bpf_map_type type, unsigned int key_size,
		      unsigned int value_size, unsigned int max_entries)
{
	const char *what = NULL;

	if (type && info->type != type)
		what = "type";
	else if (key_size && info->key_size != key_size)
		what = "key size";
	else if (value_size && info->value_size != value_size)
		what = "value size";
	else if (max_entries && info->max_entries != max_entries)
		what = "max_entries";
	if (!what)
		return 0;
	log_err("pinned map %s does not match this build (%s: type %u key %u "
		"value %u max %u, expected type %u key %u value %u max %u); "
		"remove it with 'relayguardctl detach IFACE --purge'",
		path, what, info->type, info->key_size, info->value_size,
		info->max_entries, type, key_size, value_size, max_entries);
	return -EINVAL;
}

/* Open one pinned map and check its layout. -ENOENT if not pinned. */
static int open_pinned_map(const char *path, enum bpf_map_type type,
			   unsigned int key_size, unsigned int value_size,
			   unsigned int max_entries, int *out)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err) {
		err = -errno;
		log_err("cannot read map info of %s: %s", path,
			log_strerror(err));
		goto fail;
	}
	err = check_info(&info, path, type, key_size, value_size, max_entries);
	if (err)
		goto fail;
	*out = fd;
	return 0;
fail:
	close(fd);
	return err;
}

/* Why maps of ABI abi are not used as they are, and what to do. */
static void log_abi_refusal(const char *pin_dir, unsigned int abi)
{
	if (migrate_supported(abi))
		log_err("the maps under %s are of ABI version %u, this build "
			"uses %u; start relayguardd of this build (or "
			"'relayguardctl attach'): it migrates them",
			pin_dir, abi, RG_ABI_VERSION);
	else
		log_err("the maps under %s are of ABI version %u, which this "
			"build (ABI %u) cannot migrate; purge them first "
			"('relayguardctl detach IFACE --purge')",
			pin_dir, abi, RG_ABI_VERSION);
}

/* Maps of another ABI: named before any layout check refuses them. */
static int check_pinned_abi(const char *pin_dir)
{
	unsigned int abi;
	int err = loader_pinned_abi(pin_dir, &abi);

	if (err || !abi || abi == RG_ABI_VERSION)
		return err;
	log_abi_refusal(pin_dir, abi);
	return -EPROTO;
}

/* Map d of the pinned set under pin_dir into its slot of maps. */
static int open_pinned_desc(const char *pin_dir, const struct map_desc *d,
			    struct rg_maps *maps)
{
	char path[PATH_MAX];
	int err;

	err = pin_path(path, sizeof(path), pin_dir, d->name);
	if (err)
		return err;
	err = open_pinned_map(path, d->type, d->key_size, d->value_size, 0,
			      map_fd_slot(maps, d));
	if (err == -ENOENT)
		log_err("no relayguard maps pinned under %s (%s missing); run "
			"'relayguardctl attach IFACE' first",
			pin_dir, d->name);
	else if (err && err != -EINVAL)
		log_err("cannot open pinned map %s: %s", path,
			log_strerror(err));
	return err;
}

int maps_open_pinned(const char *pin_dir, struct rg_maps *maps)
{
	size_t i;
	int err;

	maps_init(maps);
	err = check_pinned_abi(pin_dir);
	for (i = 0; !err && i < N_MAPS; i++)
		err = open_pinned_desc(pin_dir, &map_descs[i], maps);
	if (err)
		maps_close(maps);
	return err;
}

/* An atomic add through a shared mapping: two writers never undo each
 * other's bump (a read and an update by syscall could). */
int maps_acl_changed(const struct rg_maps *maps)
{
	long page = sysconf(_SC_PAGESIZE);
	__u64 *gen;

	gen = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
		   maps->acl_gen, 0);
	if (gen == MAP_FAILED) {
		log_err("cannot map %s: %s", RG_MAP_ACL_GEN,
			log_strerror(-errno));
		return -errno;
	}
	__atomic_add_fetch(gen, 1, __ATOMIC_SEQ_CST);
	munmap(gen, page);
	return 0;
}

int loader_pin_dir_create(const char *pin_dir)
{
	struct statfs fs;
	char parent[PATH_MAX];
	char *slash;

	if (statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type != BPF_FS_MAGIC &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
		log_err("cannot mount bpffs at /sys/fs/bpf: %s",
			log_strerror(-errno));
		return -errno;
	}
	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) && errno != EEXIST) {
			log_err("cannot create %s: %s", parent,
				log_strerror(-errno));
			return -errno;
		}
	}
	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		log_err("cannot create pin dir %s: %s", pin_dir,
			log_strerror(-errno));
		return -errno;
	}
	return 0;
}

/* Before libbpf reuses pinned maps, compare each with the object's. */
static int check_pinned_layouts(struct bpf_object *obj, const char *pin_dir)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int fd, err;

	bpf_object__for_each_map(map, obj)
	{
		if (!bpf_map__pin_path(map))
			continue;
		err = pin_path(path, sizeof(path), pin_dir, bpf_map__name(map));
		if (err)
			return err;
		err = open_pinned_map(path, bpf_map__type(map),
				      bpf_map__key_size(map),
				      bpf_map__value_size(map),
				      bpf_map__max_entries(map), &fd);
		if (err == -ENOENT)
			continue;
		if (err) {
			if (err != -EINVAL)
				log_err("cannot open pinned map %s: %s", path,
					log_strerror(err));
			return err;
		}
		close(fd);
	}
	return 0;
}

static int init_config(int config_fd)
{
	static const struct rg_config zero;
	struct rg_config cfg;
	__u32 key = 0;

	if (bpf_map_lookup_elem(config_fd, &key, &cfg))
		return -errno;
	if (memcmp(&cfg, &zero, sizeof(cfg)))
		return 0;
	dpconfig_defaults(&cfg);
	return dpconfig_store(config_fd, &cfg);
}

static void fill_maps(struct loader *l)
{
	const struct map_desc *d;
	struct bpf_map *map;

	maps_init(&l->maps);
	bpf_object__for_each_map(map, l->skel->obj)
	{
		d = map_desc_of(bpf_map__name(map));
		if (d)
			*map_fd_slot(&l->maps, d) = bpf_map__fd(map);
	}
}

static int upgrade_load(struct loader *l, unsigned int from);

/* Reuse the pinned maps of this ABI, or migrate those of an older one. */
static int load_or_upgrade(struct loader *l)
{
	unsigned int abi;
	int err;

	err = loader_pinned_abi(l->pin_dir, &abi);
	if (err)
		return err;
	if (abi && abi != RG_ABI_VERSION) {
		if (migrate_supported(abi))
			return upgrade_load(l, abi);
		log_abi_refusal(l->pin_dir, abi);
		return -EPROTO;
	}
	err = check_pinned_layouts(l->skel->obj, l->pin_dir);
	if (err)
		return err;
	err = relayguard_bpf__load(l->skel);
	if (err)
		log_err("cannot load BPF programs (maps under %s): %s",
			l->pin_dir, log_strerror(err));
	return err;
}

int loader_load(const char *pin_dir, struct loader **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct loader *l;
	int err;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->old_samples = -1;
	snprintf(l->pin_dir, sizeof(l->pin_dir), "%s", pin_dir);
	err = loader_pin_dir_create(pin_dir);
	if (err)
		goto fail;
	l->skel = relayguard_bpf__open_opts(&opts);
	if (!l->skel) {
		err = -errno;
		log_err("cannot open BPF object: %s", log_strerror(err));
		goto fail;
	}
	err = load_or_upgrade(l);
	if (err)
		goto fail;
	fill_maps(l);
	err = init_config(l->maps.config);
	if (err) {
		log_err("cannot write default config under %s: %s", pin_dir,
			log_strerror(err));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	loader_free(l);
	return err;
}

void loader_free(struct loader *l)
{
	if (!l)
		return;
	fs_close(l->old_samples);
	relayguard_bpf__destroy(l->skel);
	free(l);
}

const struct rg_maps *loader_maps(const struct loader *l)
{
	return &l->maps;
}

int loader_take_old_samples(struct loader *l)
{
	int fd = l->old_samples;

	l->old_samples = -1;
	return fd;
}

/* The name of program id, "" if it cannot be read. */
static void prog_name(unsigned int id, char *buf, size_t size)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd;

	buf[0] = '\0';
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(buf, size, "%s", info.name);
	close(fd);
}

static bool prog_is(unsigned int id, const char *name)
{
	char buf[BPF_OBJ_NAME_LEN];

	prog_name(id, buf, sizeof(buf));
	return !strcmp(buf, name);
}

static int iface_index(const char *ifname)
{
	unsigned int idx = if_nametoindex(ifname);

	if (!idx) {
		log_err("no interface %s: %s", ifname, log_strerror(-errno));
		return -ENODEV;
	}
	return idx;
}

static const __u32 mode_flags[] = {
	[XDP_ATTACH_NATIVE] = XDP_FLAGS_DRV_MODE,
	[XDP_ATTACH_GENERIC] = XDP_FLAGS_SKB_MODE,
};

static __u32 other_mode_flags(enum xdp_attach_mode mode)
{
	return mode == XDP_ATTACH_NATIVE ? XDP_FLAGS_SKB_MODE
					 : XDP_FLAGS_DRV_MODE;
}

/* Detach our program `id` from the mode other than `mode`, keeping a
 * reference to it: its fd, or -errno. */
static int detach_other_mode(int ifindex, __u32 id, enum xdp_attach_mode mode)
{
	int fd = bpf_prog_get_fd_by_id(id), err;

	if (fd < 0)
		return -errno;
	err = bpf_xdp_detach(ifindex, other_mode_flags(mode), NULL);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* The attach in `mode` failed after our program left the other mode: put
 * it back, so that a failed mode switch never leaves the interface
 * unprotected. */
static void restore_other_mode(int ifindex, const char *ifname, int prog_fd,
			       enum xdp_attach_mode mode)
{
	if (bpf_xdp_attach(ifindex, prog_fd,
			   other_mode_flags(mode) | XDP_FLAGS_UPDATE_IF_NOEXIST,
			   NULL))
		log_err("%s: the XDP program could not be put back in its "
			"previous mode: the interface is unprotected",
			ifname);
	else
		log_info("%s: kept the XDP program in its previous mode",
			 ifname);
}

/* Attach in one mode: replace our own program there, refuse another. A
 * failed switch from the other mode leaves the program where it was. */
static int xdp_attach_mode(int ifindex, const char *ifname, int prog_fd,
			   enum xdp_attach_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	__u32 cur, other, flags = mode_flags[mode];
	int old_fd = -1, other_fd = -1, err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	cur = mode == XDP_ATTACH_NATIVE ? q.drv_prog_id : q.skb_prog_id;
	other = mode == XDP_ATTACH_NATIVE ? q.skb_prog_id : q.drv_prog_id;
	if ((cur && !prog_is(cur, RG_PROG_XDP)) ||
	    (other && !prog_is(other, RG_PROG_XDP)) || q.hw_prog_id) {
		log_err("cannot attach XDP to %s: another XDP program (id %u) "
			"is attached; remove it first",
			ifname,
			cur	? cur
			: other ? other
				: q.hw_prog_id);
		return -EBUSY;
	}
	/* Ours in the other mode: the kernel allows one mode at a time. */
	if (other) {
		other_fd = detach_other_mode(ifindex, other, mode);
		if (other_fd < 0)
			return other_fd;
	}
	if (cur) {
		old_fd = bpf_prog_get_fd_by_id(cur);
		if (old_fd < 0) {
			err = -errno;
			goto out;
		}
		a.old_prog_fd = old_fd;
		flags |= XDP_FLAGS_REPLACE;
	} else {
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	err = bpf_xdp_attach(ifindex, prog_fd, flags, &a);
	fs_close(old_fd);
out:
	if (other_fd >= 0) {
		if (err)
			restore_other_mode(ifindex, ifname, other_fd, mode);
		close(other_fd);
	}
	return err;
}

static int attach_xdp(struct loader *l, int ifindex, const char *ifname,
		      enum xdp_attach_mode mode, enum xdp_attach_mode *used)
{
	int prog_fd = bpf_program__fd(l->skel->progs.rg_xdp);
	int err;

	if (mode == XDP_ATTACH_AUTO) {
		err = xdp_attach_mode(ifindex, ifname, prog_fd,
				      XDP_ATTACH_NATIVE);
		if (!err) {
			*used = XDP_ATTACH_NATIVE;
			return 0;
		}
		if (err == -EBUSY)
			return err;
		log_info("native XDP on %s failed (%s), trying generic", ifname,
			 log_strerror(err));
		mode = XDP_ATTACH_GENERIC;
	}
	err = xdp_attach_mode(ifindex, ifname, prog_fd, mode);
	if (err) {
		if (err != -EBUSY)
			log_err("cannot attach XDP to %s (%s mode): %s (%d)",
				ifname, xdp_attach_mode_name(mode),
				log_strerror(err), err);
		return err;
	}
	*used = mode;
	return 0;
}

/* The query fails, and the kernel says why, whenever no clsact qdisc or no
 * filter is there: an answer, not an error worth printing. */
static int tc_query(struct bpf_tc_hook *hook, struct bpf_tc_opts *opts)
{
	int err;

	log_mute_libbpf(true);
	err = bpf_tc_query(hook, opts);
	log_mute_libbpf(false);
	return err;
}

static int attach_tc(struct loader *l, int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = RG_TC_HANDLE,
		    .priority = RG_TC_PRIORITY);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = RG_TC_HANDLE,
		    .priority = RG_TC_PRIORITY, .flags = BPF_TC_F_REPLACE);
	int err;

	log_mute_libbpf(true); /* an existing clsact is fine: -EEXIST */
	err = bpf_tc_hook_create(&hook);
	log_mute_libbpf(false);
	if (err && err != -EEXIST) {
		log_err("cannot create clsact qdisc on %s: %s (%d)", ifname,
			log_strerror(err), err);
		return err;
	}
	if (!tc_query(&hook, &q) && !prog_is(q.prog_id, RG_PROG_TC)) {
		log_err("cannot attach TC egress to %s: another filter (prog "
			"id %u) holds handle %#x priority %#x",
			ifname, q.prog_id, RG_TC_HANDLE, RG_TC_PRIORITY);
		return -EBUSY;
	}
	opts.prog_fd = bpf_program__fd(l->skel->progs.rg_tc_egress);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		log_err("cannot attach TC egress to %s: %s (%d)", ifname,
			log_strerror(err), err);
	return err;
}

int loader_attach(struct loader *l, const char *ifname,
		  enum xdp_attach_mode mode, enum xdp_attach_mode *used)
{
	enum xdp_attach_mode got;
	int ifindex, err;

	ifindex = iface_index(ifname);
	if (ifindex < 0)
		return ifindex;
	err = attach_xdp(l, ifindex, ifname, mode, &got);
	if (err)
		return err;
	err = attach_tc(l, ifindex, ifname);
	if (err) {
		/* Nothing half-applied: take XDP off again. */
		bpf_xdp_detach(ifindex, mode_flags[got], NULL);
		return err;
	}
	if (used)
		*used = got;
	return 0;
}

static int detach_xdp(int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err) {
		log_err("cannot query XDP on %s: %s", ifname,
			log_strerror(err));
		return err;
	}
	if (q.drv_prog_id && prog_is(q.drv_prog_id, RG_PROG_XDP)) {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			goto fail;
	}
	if (q.skb_prog_id && prog_is(q.skb_prog_id, RG_PROG_XDP)) {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
		if (err)
			goto fail;
	}
	return 0;
fail:
	log_err("cannot detach XDP from %s: %s (%d)", ifname, log_strerror(err),
		err);
	return err;
}

static int detach_tc(int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = RG_TC_HANDLE,
		    .priority = RG_TC_PRIORITY);
	LIBBPF_OPTS(bpf_tc_opts, d, .handle = RG_TC_HANDLE,
		    .priority = RG_TC_PRIORITY);
	int err;

	if (tc_query(&hook, &q) || !prog_is(q.prog_id, RG_PROG_TC))
		return 0;
	err = bpf_tc_detach(&hook, &d);
	if (err)
		log_err("cannot detach TC egress from %s: %s (%d)", ifname,
			log_strerror(err), err);
	return err;
}

int loader_detach(const char *ifname)
{
	int ifindex, err, err2;

	ifindex = iface_index(ifname);
	if (ifindex < 0)
		return ifindex;
	err = detach_xdp(ifindex, ifname);
	err2 = detach_tc(ifindex, ifname);
	return err ? err : err2;
}

static void stage_clean(const char *pin_dir);

int loader_purge(const char *pin_dir)
{
	char path[PATH_MAX];
	size_t i;
	int err = 0;

	stage_clean(pin_dir); /* an upgrade cut short */

	for (i = 0; i < N_MAPS; i++) {
		if (pin_path(path, sizeof(path), pin_dir, map_descs[i].name))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			log_err("cannot remove %s: %s", path,
				log_strerror(err));
		}
	}
	if (rmdir(pin_dir) && errno != ENOENT) {
		if (!err) {
			err = -errno;
			log_err("cannot remove %s: %s", pin_dir,
				log_strerror(err));
		}
	}
	return err;
}

/* Whether program prog_id is named `name` and uses one of the n maps
 * map_ids. */
static bool prog_uses(__u32 prog_id, const char *name, const __u32 *map_ids,
		      unsigned int n)
{
	__u32 ids[RG_PROG_MAX_MAPS], len, i, j;
	struct bpf_prog_info info;
	bool uses = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false; /* gone meanwhile */
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = RG_PROG_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    !strcmp(info.name, name))
		for (i = 0; i < info.nr_map_ids && i < RG_PROG_MAX_MAPS; i++)
			for (j = 0; j < n; j++)
				uses |= ids[i] == map_ids[j];
	close(fd);
	return uses;
}

/* Whether program prog_id is relayguard's XDP program and uses map
 * map_id. Only XDP: the enforcing half, attached wherever relayguard runs
 * and held by a running daemon, and released as soon as it is detached,
 * while a detached TC program lives on until the kernel's deferred filter
 * teardown has run. */
static bool rg_xdp_uses(__u32 prog_id, __u32 map_id)
{
	return prog_uses(prog_id, RG_PROG_XDP, &map_id, 1);
}

long loader_maps_user(const char *pin_dir, unsigned int skip)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), id = 0;
	char path[PATH_MAX];
	int fd, err;

	if (pin_path(path, sizeof(path), pin_dir, RG_MAP_CONFIG))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	while (!bpf_prog_get_next_id(id, &id))
		if (id != skip && rg_xdp_uses(id, info.id))
			return id;
	return 0;
}

int loader_query(const char *ifname, struct attach_state *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_tc_opts, tq, .handle = RG_TC_HANDLE,
		    .priority = RG_TC_PRIORITY);
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	int ifindex, err;

	memset(st, 0, sizeof(*st));
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (q.drv_prog_id && prog_is(q.drv_prog_id, RG_PROG_XDP)) {
		st->xdp = true;
		st->mode = XDP_ATTACH_NATIVE;
		st->xdp_prog_id = q.drv_prog_id;
	} else if (q.skb_prog_id && prog_is(q.skb_prog_id, RG_PROG_XDP)) {
		st->xdp = true;
		st->mode = XDP_ATTACH_GENERIC;
		st->xdp_prog_id = q.skb_prog_id;
	}
	hook.ifindex = ifindex;
	if (!tc_query(&hook, &tq) && prog_is(tq.prog_id, RG_PROG_TC)) {
		st->tc = true;
		st->tc_prog_id = tq.prog_id;
	}
	return 0;
}

/* ---- upgrade: maps pinned by an older ABI --------------------------- */

/* Programs an upgrade can swap: XDP and TC on every interface. */
#define RG_UPGRADE_MAX_SWAPS 256

struct swap {
	int ifindex;
	bool tc;
	__u32 xdp_flags; /* the mode the replaced XDP program ran in */
	int old_fd;	 /* the replaced program, to put back on failure */
	int new_fd;
};

/* Milliseconds from *t to now; *t becomes now. */
static double ms_lap(struct timespec *t)
{
	struct timespec now;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - t->tv_sec) * 1e3 + (now.tv_nsec - t->tv_nsec) / 1e6;
	*t = now;
	return ms;
}

struct upgrade {
	unsigned int from;
	double replace_ms;  /* in the kernel's replace calls themselves */
	struct rg_maps old; /* the old pinned maps, -1 where none */
	__u32 old_ids[N_MAPS];
	unsigned int n_old_ids;
	struct swap swaps[RG_UPGRADE_MAX_SWAPS];
	unsigned int n_swaps;
};

int loader_pinned_abi(const char *pin_dir, unsigned int *abi)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), key = 0;
	char path[PATH_MAX];
	__u64 val[64] = { 0 }; /* config of any ABI: abi_version first */
	int fd, err;

	*abi = 0;
	err = pin_path(path, sizeof(path), pin_dir, RG_MAP_CONFIG);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!err &&
	    (info.value_size < sizeof(__u32) || info.value_size > sizeof(val)))
		err = -EINVAL;
	if (!err && bpf_map_lookup_elem(fd, &key, val))
		err = -errno;
	close(fd);
	if (err)
		log_err("cannot read the ABI version of %s: %s", path,
			log_strerror(err));
	else
		memcpy(abi, val, sizeof(*abi));
	return err;
}

static int open_old_maps(struct upgrade *u, const char *pin_dir)
{
	struct bpf_map_info info;
	char path[PATH_MAX];
	__u32 len;
	size_t i;
	int *fd, err;

	maps_init(&u->old);
	for (i = 0; i < N_MAPS; i++) {
		err = pin_path(path, sizeof(path), pin_dir, map_descs[i].name);
		if (err)
			return err;
		fd = map_fd_slot(&u->old, &map_descs[i]);
		*fd = bpf_obj_get(path);
		if (*fd < 0 && errno == ENOENT)
			continue; /* new in this ABI: starts empty */
		if (*fd < 0) {
			err = -errno;
			log_err("cannot open pinned map %s: %s", path,
				log_strerror(err));
			return err;
		}
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(*fd, &info, &len))
			u->old_ids[u->n_old_ids++] = info.id;
	}
	return 0;
}

/* Where the new maps are pinned until they replace the old pins. */
static int stage_path(char *buf, size_t size, const char *pin_dir,
		      const char *name)
{
	char dir[PATH_MAX];
	int err = pin_path(dir, sizeof(dir), pin_dir, RG_UPGRADE_DIR);

	return err ? err : pin_path(buf, size, dir, name);
}

/* What an upgrade that died before its end left there. */
static void stage_clean(const char *pin_dir)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < N_MAPS; i++)
		if (!stage_path(path, sizeof(path), pin_dir, map_descs[i].name))
			unlink(path);
	if (!pin_path(path, sizeof(path), pin_dir, RG_UPGRADE_DIR))
		rmdir(path);
}

/* The object's maps are created afresh (no pinned map reused). */
static int load_fresh(struct loader *l)
{
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, l->skel->obj)
		bpf_map__set_pin_path(map, NULL);
	err = relayguard_bpf__load(l->skel);
	if (err)
		log_err("cannot load BPF programs: %s", log_strerror(err));
	return err;
}

/* The new maps filled from the old ones, before any program of the new
 * build runs. */
static int fill(struct loader *l, struct upgrade *u)
{
	const struct map_desc *d;
	struct bpf_map *map;
	int err, old_fd;

	bpf_object__for_each_map(map, l->skel->obj)
	{
		d = map_desc_of(bpf_map__name(map));
		old_fd = d ? *map_fd_slot(&u->old, d) : -1;
		if (old_fd < 0)
			continue;
		err = migrate_map(u->from, d->name, old_fd, bpf_map__fd(map));
		if (err)
			return err;
	}
	return 0;
}

/* Once the old programs are off: what was written to the old maps while
 * they were copied (relayguardctl ban, allow, deny), added to the new. */
static void catch_up(struct loader *l, struct upgrade *u)
{
	const struct map_desc *d;
	struct bpf_map *map;
	int n, old_fd, added = 0;

	bpf_object__for_each_map(map, l->skel->obj)
	{
		d = map_desc_of(bpf_map__name(map));
		old_fd = d ? *map_fd_slot(&u->old, d) : -1;
		if (old_fd < 0)
			continue;
		n = migrate_map_missing(u->from, d->name, old_fd,
					bpf_map__fd(map));
		if (n < 0)
			log_warn("entries added to the old map %s during the "
				 "migration may be lost",
				 d->name);
		else
			added += n;
	}
	if (added)
		log_info("%d entries written to the old maps during the "
			 "migration carried over",
			 added);
}

static int swap_record(struct upgrade *u, const struct swap *s)
{
	if (u->n_swaps == RG_UPGRADE_MAX_SWAPS) {
		log_err("more than %u programs to swap", RG_UPGRADE_MAX_SWAPS);
		return -E2BIG;
	}
	u->swaps[u->n_swaps++] = *s;
	return 0;
}

static int xdp_replace(int ifindex, int fd, int expected_fd, __u32 flags)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, a, .old_prog_fd = expected_fd);

	return bpf_xdp_attach(ifindex, fd, flags | XDP_FLAGS_REPLACE, &a);
}

static int tc_replace(int ifindex, int fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = RG_TC_HANDLE,
		    .priority = RG_TC_PRIORITY, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = fd);

	return bpf_tc_attach(&hook, &opts);
}

/* Put program fd where s says (XDP only if `expected` is still there). */
static int replace(const struct swap *s, int fd, int expected)
{
	return s->tc ? tc_replace(s->ifindex, fd)
		     : xdp_replace(s->ifindex, fd, expected, s->xdp_flags);
}

/* Program id (the old one, s->ifindex, s->tc) replaced by s->new_fd. */
static int swap_one(struct upgrade *u, struct swap *s, __u32 id)
{
	struct timespec t;
	int err;

	s->old_fd = bpf_prog_get_fd_by_id(id);
	if (s->old_fd < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t);
	err = replace(s, s->new_fd, s->old_fd);
	u->replace_ms += ms_lap(&t);
	if (!err)
		err = swap_record(u, s);
	if (err)
		close(s->old_fd);
	return err;
}

/* Our old XDP program on ifindex, in whichever mode, replaced by the new
 * one only if it is still the program the kernel has there. */
static int swap_xdp(struct upgrade *u, int ifindex, int new_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct swap s = { .ifindex = ifindex, .new_fd = new_fd };
	__u32 id;
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err == -ENODEV ? 0 : err;
	id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	s.xdp_flags = q.drv_prog_id ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	if (!id || !prog_uses(id, RG_PROG_XDP, u->old_ids, u->n_old_ids))
		return 0;
	return swap_one(u, &s, id);
}

static int swap_tc(struct upgrade *u, int ifindex, int new_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = RG_TC_HANDLE,
		    .priority = RG_TC_PRIORITY);
	struct swap s = { .ifindex = ifindex, .tc = true, .new_fd = new_fd };

	if (tc_query(&hook, &q) ||
	    !prog_uses(q.prog_id, RG_PROG_TC, u->old_ids, u->n_old_ids))
		return 0;
	return swap_one(u, &s, q.prog_id);
}

/* Put the old programs back where the new ones went (a swap failed). */
static void swap_back(struct upgrade *u)
{
	struct swap *s;

	while (u->n_swaps) {
		s = &u->swaps[--u->n_swaps];
		if (replace(s, s->old_fd, s->new_fd))
			log_err("interface %d: the old %s program could not be "
				"put back",
				s->ifindex, s->tc ? "TC" : "XDP");
		close(s->old_fd);
	}
}

/* Every interface of this namespace where programs of the old maps run:
 * XDP, then TC, each replaced in place (the interface is never without
 * a program, the new one's maps already hold the old state). */
static int swap_all(struct loader *l, struct upgrade *u)
{
	int xdp_fd = bpf_program__fd(l->skel->progs.rg_xdp);
	int tc_fd = bpf_program__fd(l->skel->progs.rg_tc_egress);
	struct if_nameindex *ifs, *i;
	int err = 0;

	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index && !err; i++) {
		err = swap_xdp(u, i->if_index, xdp_fd);
		if (!err)
			err = swap_tc(u, i->if_index, tc_fd);
		if (err)
			log_err("cannot swap relayguard's programs on %s: %s",
				i->if_name, log_strerror(err));
	}
	if_freenameindex(ifs);
	return err;
}

/* Each new map replaces the old pin of its name (rename over it: the
 * name never points at nothing); config last, so that until every map
 * is in place the pin dir still says the old ABI. */
static int repin_one(const char *pin_dir, struct bpf_map *map)
{
	char stage[PATH_MAX], path[PATH_MAX];
	int err;

	err = stage_path(stage, sizeof(stage), pin_dir, bpf_map__name(map));
	if (!err)
		err = pin_path(path, sizeof(path), pin_dir, bpf_map__name(map));
	if (err)
		return err;
	if (bpf_obj_pin(bpf_map__fd(map), stage) || rename(stage, path)) {
		err = -errno;
		log_err("cannot pin the new map %s: %s", path,
			log_strerror(err));
	}
	return err;
}

static int repin(struct loader *l)
{
	struct bpf_map *map, *config = NULL;
	char dir[PATH_MAX];
	int err;

	err = pin_path(dir, sizeof(dir), l->pin_dir, RG_UPGRADE_DIR);
	if (err)
		return err;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		log_err("cannot create %s: %s", dir, log_strerror(-errno));
		return -errno;
	}
	bpf_object__for_each_map(map, l->skel->obj)
	{
		if (!map_desc_of(bpf_map__name(map)))
			continue;
		if (!strcmp(bpf_map__name(map), RG_MAP_CONFIG))
			config = map;
		else if ((err = repin_one(l->pin_dir, map)))
			return err;
	}
	err = config ? repin_one(l->pin_dir, config) : -ENOENT;
	rmdir(dir);
	return err;
}

static void upgrade_free(struct upgrade *u)
{
	unsigned int i;

	for (i = 0; i < u->n_swaps; i++)
		close(u->swaps[i].old_fd);
	maps_close(&u->old);
}

static void upgrade_report(const struct loader *l, const struct upgrade *u,
			   const double ms[4])
{
	log_info("maps under %s migrated from ABI %u to %u: programs loaded "
		 "in %.1f ms, maps filled in %.1f ms, %u program(s) swapped "
		 "in %.3f ms (%.3f ms of it in the replace calls), old pins "
		 "replaced %.1f ms after the start",
		 l->pin_dir, u->from, RG_ABI_VERSION, ms[0], ms[1], u->n_swaps,
		 ms[2], u->replace_ms, ms[3]);
}

/* Maps of ABI u.from under the pin dir: new maps filled from them, the
 * programs swapped, then the new maps pinned in place of the old. */
static int upgrade_load(struct loader *l, unsigned int from)
{
	struct upgrade *u = calloc(1, sizeof(*u));
	struct timespec t;
	double ms[4]; /* load, fill, swap, all */
	int err;

	if (!u)
		return -ENOMEM;
	u->from = from;
	clock_gettime(CLOCK_MONOTONIC, &t);
	log_info("maps under %s are of ABI version %u: migrating them to %u",
		 l->pin_dir, from, RG_ABI_VERSION);
	stage_clean(l->pin_dir);
	err = open_old_maps(u, l->pin_dir);
	if (!err)
		err = load_fresh(l);
	ms[0] = ms_lap(&t);
	if (!err)
		err = fill(l, u);
	ms[1] = ms_lap(&t);
	if (!err) {
		err = swap_all(l, u);
		ms[2] = ms_lap(&t);
		if (err)
			swap_back(u);
	}
	if (err) {
		log_err("migration of the maps under %s failed: %s; the old "
			"programs and maps stay in place",
			l->pin_dir, log_strerror(err));
		goto out;
	}
	catch_up(l, u);
	err = repin(l);
	ms[3] = ms[0] + ms[1] + ms[2] + ms_lap(&t);
	if (err)
		log_err("the new programs run, but their maps could not all be "
			"pinned under %s: start relayguardd again to finish "
			"the upgrade",
			l->pin_dir);
	else
		upgrade_report(l, u, ms);
	if (!err && migrate_samples_readable(from)) {
		l->old_samples = u->old.samples; /* records not read yet */
		u->old.samples = -1;
	}
out:
	upgrade_free(u);
	free(u);
	return err;
}
