// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ns/packet of relayguard's rg_xdp against four baselines, through
 * BPF_PROG_TEST_RUN, on the same packets, alternated in one run; medians
 * over rounds and their ratios:
 * - bare: `return XDP_PASS` (bpf/bare.bpf.c);
 * - ref: ../shared/bench/xdp_ref.bpf.c, the smallest useful filter (parse,
 *   one hash lookup, drop), its src_v4 holding the same 1,000,000 bans
 *   ($RG_XDP_REF, built by `make bench`);
 * - ref+sample: the same source built with -DWITH_SAMPLE, the smallest
 *   useful sampling filter (one flow lookup and one 112-byte ring record
 *   per TCP segment with payload to port 25), same bans
 *   ($RG_XDP_REF_SAMPLE); built with relayguard's sampling budget here
 *   (REF_SAMPLE_BUDGET in the Makefile), so that, like relayguard, it
 *   samples every repeat of the "in budget" packet, and its "past budget"
 *   flow starts spent, as relayguard's does;
 * - xdp-filter 1.3.1 (Debian xdp-tools, its BPF object from libxdp1,
 *   $RG_XDP_FILTER: xdpfilt_alw_all, policy allow, all features) with the
 *   1,000,000 banned sources as "src" rules in
 *   filter_ipv4: it cannot AND a source with a port, so it drops them on
 *   every port and has no port rule (a port-25 rule would drop all SMTP).
 * relayguard's state: 1,000,000 bans (batched updates) and 1,000 allow
 * prefixes. Targets (issue 21): banned drop <= 1.3x ref, non-SMTP <= 0.8x
 * ref, clean SMTP data within the budget <= 1.3x ref+sample; and every
 * row no dearer than xdp-filter. A second relayguard instance whose ban
 * tables are preallocated is measured on the banned-source drop, with its
 * memory and load time, to back the choice of BPF_F_NO_PREALLOC.
 * $RG_XDP_ALT="NAME=OBJ[,NAME=OBJ...]" adds other builds of relayguard's
 * object as columns (same state, same drain), for ablation.
 *
 * The SYN rows send from another of SOURCES sources each round: how long
 * one address's hash chain is in a table of 1,000,000 is luck, and so
 * would be a ratio built on one address. Ratios are medians of each round's ratio
 * of the two programs, which ran back to back on the same CPU.
 *
 * Placements: the kernel puts each JIT image at a random offset
 * (bpf_jit_binary_pack_alloc), and where the code falls on the CPU's
 * fetch and uop-cache lines moves a whole program's time: two loads of
 * one object in one run differed by up to 15%, so a ratio of two single
 * loads is luck. Every program is loaded PLACEMENTS times, its object's
 * own load and copies of the object whose maps are the first load's (the
 * same state, the same ring), and round r runs load r % PLACEMENTS of
 * each. Whole objects are copied: rg_xdp's instructions loaded alone
 * with bpf_prog_load hit the verifier's 1M-instruction limit.
 *
 * Time is the thread's CPU time around each BPF_PROG_TEST_RUN divided by
 * its repeat count: the kernel's own figure is whole nanoseconds, too
 * coarse for packets of 10-20 ns; the CPU time of one call includes its
 * setup (a few microseconds, under 0.1 ns a packet) and excludes the time
 * the thread waits for the CPU on a busy machine.
 *
 * The ring buffers (relayguard's and ref+sample's) are drained after
 * every packet kind, so every "within budget" run really writes its
 * records; the ring-full counter is checked and printed, and ref+sample
 * must have written one record per repeat of the packets it samples.
 * Exit non-zero only on errors, never on ratios. Needs root (exit 77
 * otherwise). */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bare.skel.h"
#include "bpf/pkt.h"
#include "cpupin.h"
#include "procfs.h"
#include "relayguard.h"
#include "relayguard.skel.h"

#define N_BANS 1000000
#define N_ALLOW 1000
#ifdef EXP_ROUNDS
#define ROUNDS EXP_ROUNDS
#else
#define ROUNDS 21
#endif
#define BATCH 10000
#define MAX_ALT 6
/* Loads of every program (placements, see the top) */
#ifdef EXP_PLACEMENTS
#define PLACEMENTS EXP_PLACEMENTS
#else
#define PLACEMENTS 7
#endif

#define BANNED "100.1.2.3" /* inside the loaded bans (100.0.0.0 + i) */
#define CLEAN "192.0.2.10"
#define CLEAN_SYN "192.0.2.100" /* and the SOURCES - 1 after it */
#define PAST "192.0.2.20" /* its flow has spent its budget */
#define SERVER "198.51.100.1" /* pkt.h's default destination */

/* The programs measured, in the order of the table's columns; builds
 * named in $RG_XDP_ALT follow. */
enum prog { P_BARE, P_REF, P_REFS, P_XF, P_RG, N_BASE };
#define N_PROGS_MAX (N_BASE + MAX_ALT)
static const char *prog_names[N_PROGS_MAX] = { "bare", "ref", "ref+sample",
					       "xdp-filter", "relayguard" };
static int n_progs = N_BASE;

/* MAP_FLAG_SRC of xdp-filter's maps (xdp-filter/common_kern_user.h). */
#define XF_FLAG_SRC 1

/* The baselines loaded from object files: $env names the object (else
 * path); src_map holds the banned sources, flag as each one's value. */
struct baseline {
	const char *env, *path, *prog, *src_map;
	uint64_t flag;
};

static const struct baseline baselines[N_BASE] = {
	[P_REF] = { "RG_XDP_REF", "build/bench/xdp_ref_hash.bpf.o", "xdp_ref",
		    "src_v4", 1 },
	[P_REFS] = { "RG_XDP_REF_SAMPLE", "build/bench/xdp_ref_sample.bpf.o",
		     "xdp_ref", "src_v4", 1 },
	[P_XF] = { "RG_XDP_FILTER",
		   "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o",
		   "xdpfilt_alw_all", "filter_ipv4", XF_FLAG_SRC },
};

struct kind {
	const char *name;
	const char *group; /* which target it is held to */
	int base;	   /* the baseline of its target: P_REF or P_REFS */
	double target;	   /* rg / base at most; 0: none */
	struct pkt_spec pkt;
	int repeat;
	int expect;  /* rg_xdp's verdict */
	int banned;  /* the baselines drop it too */
	int sampled; /* ref+sample writes a record per repeat */
	/* round r sends from the (r % sources)th address after pkt.src (0:
	 * pkt.src in every round): how long one address's chain is in a
	 * hash table is luck, of every filter's table */
	int sources;
	double ns[N_PROGS_MAX][ROUNDS], rg_pre[ROUNDS];
};

#define KIND(n, g, b, t, rep, v, smp, ...) KIND_N(n, g, b, t, rep, v, smp, 0, \
					      __VA_ARGS__)
#define KIND_N(n, g, b, t, rep, v, smp, srcs, ...) { .name = (n), \
	.group = (g), .base = (b), .target = (t), .repeat = (rep), \
	.expect = (v), .banned = (v) == XDP_DROP, .sampled = (smp), \
	.sources = (srcs), .pkt = { __VA_ARGS__ } }
#define SOURCES 16

static struct kind kinds[] = {
	KIND("TCP 443", "non-SMTP", P_REF, 0.8, 1000000, XDP_PASS, 0,
	     .dport = 443, .flags = TH_ACK, .payload_len = 100),
	KIND("UDP 53", "non-SMTP", P_REF, 0.8, 1000000, XDP_PASS, 0,
	     .proto = IPPROTO_UDP, .dport = 53, .payload_len = 40),
	KIND("ARP", "non-SMTP", P_REF, 0, 1000000, XDP_PASS, 0,
	     .ethertype = ETH_P_ARP),
	KIND_N("SYN :25 banned (drop)", "banned drop", P_REF, 1.3, 1000000,
	       XDP_DROP, 0, SOURCES, .src = BANNED, .flags = TH_SYN),
	/* ref+sample takes the SYN's Ethernet padding for payload */
	KIND_N("SYN :25 clean", "clean SMTP", P_REF, 0, 100000, XDP_PASS, 1,
	       SOURCES, .src = CLEAN_SYN, .flags = TH_SYN, .sport = 40001),
	KIND("data :25 in budget", "clean SMTP", P_REFS, 1.3, 50000, XDP_PASS,
	     1, .src = CLEAN, .flags = TH_ACK | TH_PSH,
	     .payload = "RCPT TO:<a@b.c>\r\n"),
	KIND("data :25 past budget", "clean SMTP", P_REFS, 0, 1000000,
	     XDP_PASS, 0, .src = PAST, .flags = TH_ACK | TH_PSH,
	     .payload = "RCPT TO:<a@b.c>\r\n"),
};
#define BANNED_KIND 3

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

/* A loaded relayguard object with the bench's state. */
struct rg_inst {
	struct relayguard_bpf *skel; /* the built-in object, or NULL */
	struct bpf_object *obj;	     /* skel's, or one from $RG_XDP_ALT */
	unsigned long long records;  /* drained from its ring */
	double load_s;		     /* time to load the bans */
};

/* ref+sample's `flows` key (../shared/bench/xdp_ref.bpf.c). */
struct ref_flow_key {
	uint8_t addr[32]; /* source then destination, v4 in the first 4 */
	uint16_t sport, dport;
	uint32_t family;
};

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long long *)ctx)++;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

/* Where more copies of a loaded object come from: its file, or (path
 * NULL) a skeleton's ELF image. */
struct obj_src {
	const char *path;
	const void *elf;
	size_t size;
};

/* Every load of one program (see PLACEMENTS): fd[0] is its object's own,
 * fd[i] that of copy[i], a copy of the object using the object's maps. */
struct placed {
	int fd[PLACEMENTS];
	struct bpf_object *copy[PLACEMENTS]; /* [0] unused */
};

/* copy's maps made obj's: the same state, the same ring. */
static int share_maps(struct bpf_object *copy, struct bpf_object *obj)
{
	struct bpf_map *m, *orig;
	int err;

	bpf_object__for_each_map(m, copy) {
		orig = bpf_object__find_map_by_name(obj, bpf_map__name(m));
		if (!orig) {
			fprintf(stderr, "%s: no map %s in the loaded object\n",
				bpf_object__name(obj), bpf_map__name(m));
			return -ENOENT;
		}
		bpf_map__set_pin_path(m, NULL);
		err = bpf_map__reuse_fd(m, bpf_map__fd(orig));
		if (err) {
			fprintf(stderr, "%s: cannot share map %s: %s\n",
				bpf_object__name(obj), bpf_map__name(m),
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Another load of obj, opened from src, into *copyp (to close even on
 * errors). Named as obj is, so that its internal maps are named alike. */
static int load_copy(struct bpf_object *obj, const struct obj_src *src,
		     struct bpf_object **copyp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .object_name = bpf_object__name(obj));
	struct bpf_object *copy;
	int err;

	copy = src->path ? bpf_object__open_file(src->path, &opts)
			 : bpf_object__open_mem(src->elf, src->size, &opts);
	if (!copy) {
		err = -errno;
		fprintf(stderr, "cannot open a copy of %s: %s\n",
			src->path ?: bpf_object__name(obj), strerror(-err));
		return err;
	}
	*copyp = copy;
	err = share_maps(copy, obj);
	if (err)
		return err;
	err = bpf_object__load(copy);
	if (err)
		fprintf(stderr, "cannot load a copy of %s: %s\n",
			src->path ?: bpf_object__name(obj), strerror(-err));
	return err;
}

/* Program prog of the loaded obj, and of PLACEMENTS - 1 copies of obj
 * from src, into pl. */
static int place(struct placed *pl, struct bpf_object *obj, const char *prog,
		 const struct obj_src *src)
{
	struct bpf_program *p;
	int i, err;

	for (i = 0; i < PLACEMENTS; i++) {
		if (i) {
			err = load_copy(obj, src, &pl->copy[i]);
			if (err)
				return err;
		}
		p = bpf_object__find_program_by_name(i ? pl->copy[i] : obj,
						     prog);
		if (!p) {
			fprintf(stderr, "%s: no program %s\n",
				bpf_object__name(obj), prog);
			return -ENOENT;
		}
		pl->fd[i] = bpf_program__fd(p);
	}
	return 0;
}

static void unplace(struct placed *pl)
{
	int i;

	for (i = 1; i < PLACEMENTS; i++)
		bpf_object__close(pl->copy[i]);
}

/* The N_BANS banned IPv4 sources (100.0.0.0 + i) into the map fd, with
 * val_size bytes at val as every value (a per-CPU map: val holds them all). */
static int load_src_map(int fd, const void *val, size_t val_size)
{
	static uint32_t keys[BATCH];
	uint32_t i, j, n;
	char *vals;
	int err = 0;

	vals = malloc(BATCH * val_size);
	if (!vals)
		return -ENOMEM;
	for (j = 0; j < BATCH; j++)
		memcpy(vals + j * val_size, val, val_size);
	for (i = 0; i < N_BANS && !err; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			keys[j] = htonl(0x64000000 + i + j);
		n = BATCH;
		err = bpf_map_update_batch(fd, keys, vals, &n, NULL);
		if (err)
			fprintf(stderr, "cannot load sources (batch at %u): %s\n",
				i, strerror(-err));
	}
	free(vals);
	return err;
}

static int load_bans(int fd)
{
	uint64_t now = boot_ns();
	struct rg_ban b = {
		.expires_ns = now + 3600ULL * 1000000000ULL,
		.created_ns = now,
		.reason = RG_REASON_RELAY_ATTEMPT,
	};

	return load_src_map(fd, &b, sizeof(b));
}

/* The bans into a baseline's map src: flag as every value, on every CPU
 * for a per-CPU map. */
static int fill_src_map(struct bpf_map *src, uint64_t flag)
{
	int percpu = bpf_map__type(src) == BPF_MAP_TYPE_PERCPU_HASH;
	int n = percpu ? libbpf_num_possible_cpus() : 1, i, err;
	uint64_t *val = calloc(n, sizeof(*val));

	if (!val)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		val[i] = flag;
	err = load_src_map(bpf_map__fd(src), val, bpf_map__value_size(src) * n);
	free(val);
	return err;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* Baseline b from its object file into *objp (to close even on errors):
 * maps unpinned, its source map raised to hold the bans and filled with
 * them; its program placed into pl. */
static int baseline_open(const struct baseline *b, struct bpf_object **objp,
			 struct placed *pl)
{
	struct obj_src from = { .path = env_or(b->env, b->path) };
	struct bpf_object *obj;
	struct bpf_map *m, *src;
	int err;

	*objp = obj = bpf_object__open_file(from.path, NULL);
	if (!obj) {
		err = -errno;
		fprintf(stderr, "cannot open %s (%s): %s\n", from.path, b->env,
			strerror(-err));
		return err;
	}
	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
	src = bpf_object__find_map_by_name(obj, b->src_map);
	if (!src) {
		fprintf(stderr, "%s: no map %s\n", from.path, b->src_map);
		return -ENOENT;
	}
	if (bpf_map__max_entries(src) < N_BANS + N_BANS / 10)
		bpf_map__set_max_entries(src, N_BANS + N_BANS / 10);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "cannot load %s: %s\n", from.path,
			strerror(-err));
		return err;
	}
	return fill_src_map(src, b->flag) ?: place(pl, obj, b->prog, &from);
}

/* ref+sample's flow of kind PAST starts spent, as relayguard's does: the
 * most any budget it was built with allows. */
static int ref_spend_budget(struct bpf_object *obj)
{
	struct ref_flow_key k = { .family = 4 };
	uint32_t spent = UINT32_MAX;
	int fd = map_fd(obj, "flows");

	if (fd < 0) {
		fprintf(stderr, "ref+sample: no map flows (built without "
				"-DWITH_SAMPLE?)\n");
		return fd;
	}
	inet_pton(AF_INET, PAST, k.addr);
	inet_pton(AF_INET, SERVER, k.addr + 16);
	k.sport = htons(40000);
	k.dport = htons(25);
	return bpf_map_update_elem(fd, &k, &spent, BPF_ANY);
}

static int load_allow(int fd)
{
	struct rg_lpm4_key k = { .prefixlen = 24 };
	uint8_t one = 1;
	int i, err;

	for (i = 0; i < N_ALLOW; i++) {
		k.addr = htonl(0xac100000 + (i << 8)); /* 172.16.0.0/24 + */
		err = bpf_map_update_elem(fd, &k, &one, BPF_ANY);
		if (err) {
			fprintf(stderr, "cannot add allow prefix %d: %s\n", i,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The flow of kind PAST starts with its budget spent: its window ends at
 * the packet's seq (0). */
static int spend_budget(int fd, uint32_t seed, uint32_t budget)
{
	struct rg_flow f = { .key.family = AF_INET, .sampled_in = budget,
			     .flags = RG_FLOW_WIN_IN, .win_in = 0U - budget,
			     .last_ns = boot_ns() };
	uint32_t slot;

	inet_pton(AF_INET, PAST, f.key.client);
	inet_pton(AF_INET, SERVER, f.key.server);
	f.key.client_port = htons(40000);
	f.key.server_port = htons(25);
	slot = rg_flow_set_first(&f.key, seed);
	return bpf_map_update_elem(fd, &slot, &f, BPF_ANY);
}

/* Opens relayguard's object: the built-in one (path NULL), or another
 * build of it; maps unpinned, the bans preallocated if asked. */
static int inst_obj(struct rg_inst *in, const char *path, int prealloc)
{
	struct bpf_map *m;
	int err;

	if (path) {
		in->obj = bpf_object__open_file(path, NULL);
	} else {
		in->skel = relayguard_bpf__open();
		in->obj = in->skel ? in->skel->obj : NULL;
	}
	if (!in->obj) {
		err = -errno;
		fprintf(stderr, "cannot open %s: %s\n",
			path ? path : "relayguard", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(m, in->obj) {
		bpf_map__set_pin_path(m, NULL);
		if (prealloc && (!strcmp(bpf_map__name(m), "bans4") ||
				 !strcmp(bpf_map__name(m), "bans6")))
			bpf_map__set_map_flags(m, 0);
	}
	err = bpf_object__load(in->obj);
	if (err)
		fprintf(stderr, "cannot load %s: %s\n",
			path ? path : "relayguard", strerror(-err));
	return err;
}

/* in's rg_xdp placed into pl, the copies from path or (NULL) from the
 * built-in object. */
static int inst_place(const struct rg_inst *in, const char *path,
		      struct placed *pl)
{
	struct obj_src from = { .path = path };

	if (!path)
		from.elf = relayguard_bpf__elf_bytes(&from.size);
	return place(pl, in->obj, "rg_xdp", &from);
}

/* relayguard's object (see inst_obj()) with the bench's config and
 * state, its program placed into pl. */
static int inst_open(struct rg_inst *in, const char *path, int prealloc,
		     struct placed *pl)
{
	struct rg_config cfg = {
		.abi_version = RG_ABI_VERSION,
		/* high enough that no SYN of the run is over either bucket */
		.syn_rate = 1000000000, .syn_burst = 1000000,
		.global_syn_rate = 1000000000, .global_syn_burst = 1000000,
		.sample_bytes = 1U << 30,
		.hash_seed = 0x2545f491,
	};
	uint32_t zero = 0;
	double t;
	int err;

	err = inst_obj(in, path, prealloc);
	if (err)
		return err;
	err = bpf_map_update_elem(map_fd(in->obj, "config"), &zero, &cfg,
				  BPF_ANY);
	if (err)
		return err;
	t = now_s();
	err = load_bans(map_fd(in->obj, "bans4"));
	in->load_s = now_s() - t;
	if (err)
		return err;
	err = load_allow(map_fd(in->obj, "allow4"));
	if (err)
		return err;
	err = spend_budget(map_fd(in->obj, "flows"), cfg.hash_seed,
			   cfg.sample_bytes);
	return err ?: inst_place(in, path, pl);
}

static void inst_close(struct rg_inst *in)
{
	if (in->skel)
		relayguard_bpf__destroy(in->skel);
	else
		bpf_object__close(in->obj);
}

/* One ring buffer manager drains every ring of the run at once, each
 * record counted in *records. */
static int ring_add(struct ring_buffer **rb, int fd,
		    unsigned long long *records)
{
	if (fd < 0)
		return fd;
	if (*rb)
		return ring_buffer__add(*rb, fd, count_record, records);
	*rb = ring_buffer__new(fd, count_record, records, NULL);
	return *rb ? 0 : -errno;
}

/* The address n after spec's source, in buf. */
static const char *nth_source(const char *src, int n, char *buf)
{
	struct in_addr a;

	if (inet_pton(AF_INET, src, &a) != 1)
		return src;
	a.s_addr = htonl(ntohl(a.s_addr) + n);
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ns/packet of prog on k's packet in round r; checks the verdict. */
static int run(int prog, const struct kind *k, int r, int expect, double *ns)
{
	static uint8_t buf[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .repeat = k->repeat);
	char addr[INET_ADDRSTRLEN];
	struct pkt_spec spec = k->pkt;
	double t;
	int err;

	if (k->sources)
		spec.src = nth_source(k->pkt.src, r % k->sources, addr);
	opts.data_size_in = pkt_build(&spec, buf);
	t = cpu_ns();
	err = bpf_prog_test_run_opts(prog, &opts);
	t = cpu_ns() - t;
	if (err) {
		fprintf(stderr, "test run of %s failed: %s\n", k->name,
			strerror(-err));
		return err;
	}
	if ((int)opts.retval != expect) {
		fprintf(stderr, "%s: verdict %u, expected %d\n", k->name,
			opts.retval, expect);
		return -EINVAL;
	}
	*ns = t / k->repeat;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int stats_get(struct bpf_object *obj, struct rg_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus(), i, j, err;
	struct rg_stats *per = calloc(ncpu, sizeof(*per));
	uint32_t zero = 0;

	if (!per)
		return -ENOMEM;
	err = bpf_map_lookup_elem(map_fd(obj, "stats"), &zero, per);
	memset(sum, 0, sizeof(*sum));
	for (i = 0; !err && i < ncpu; i++)
		for (j = 0; j < (int)(sizeof(*sum) / 8); j++)
			((__u64 *)sum)[j] += ((__u64 *)&per[i])[j];
	free(per);
	return err;
}

static long memlock_kb(int fd)
{
	char path[64];
	long v;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	v = proc_number(path, "memlock: %ld");
	return v < 0 ? -1 : v / 1024;
}

static int expect_of(const struct kind *k, int prog)
{
	if (prog >= P_RG)
		return k->expect;
	if (prog == P_BARE)
		return XDP_PASS;
	return k->banned ? XDP_DROP : XDP_PASS;
}

static int measure(const struct placed *progs, struct ring_buffer *rings,
		   const struct placed *pre)
{
	size_t i;
	int r, j, p, err = 0;

	for (r = 0; r < ROUNDS && !err; r++) {
		for (i = 0; i < N_KINDS && !err; i++) {
			struct kind *k = &kinds[i];

			/* rotate which program goes first */
			for (j = 0; j < n_progs && !err; j++) {
				p = (r + j) % n_progs;
				err = run(progs[p].fd[r % PLACEMENTS], k, r,
					  expect_of(k, p), &k->ns[p][r]);
				if (err)
					fprintf(stderr, "(program %s)\n",
						prog_names[p]);
			}
			ring_buffer__consume(rings);
			if (!err && k->expect == XDP_DROP)
				err = run(pre->fd[r % PLACEMENTS], k, r,
					  k->expect, &k->rg_pre[r]);
		}
	}
	return err;
}

/* The spread of v: (max - min) / median, in percent. */
static double spread(const double *v, int n)
{
	double lo = v[0], hi = v[0];
	int i;

	for (i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return 100 * (hi - lo) / median(v, n);
}

/* The median over rounds of prog's time over base's in the same round:
 * the two ran back to back, so a round that the machine slowed down
 * slows both and leaves their ratio alone. */
static double paired(const struct kind *k, int prog, int base)
{
	double r[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		r[i] = k->ns[prog][i] / k->ns[base][i];
	return median(r, ROUNDS);
}

static int print_row(const struct kind *k)
{
	double ref = paired(k, P_RG, P_REF), refs = paired(k, P_RG, P_REFS);
	double xf = paired(k, P_RG, P_XF);
	int p, bad;

	bad = (k->target && paired(k, P_RG, k->base) > k->target) || xf > 1;
	printf("%-22s", k->name);
	for (p = 0; p < n_progs; p++)
		printf(" %10.1f", median(k->ns[p], ROUNDS));
	printf(" %6.2fx %6.2fx %6.2fx", ref, refs, xf);
	if (k->target)
		printf(" %5.1fx %-6s", k->target, k->base == P_REF ? "ref" :
								    "ref+s");
	else
		printf(" %6s %-6s", "-", "");
	printf(" %4.0f%% %s\n", spread(k->ns[P_RG], ROUNDS), bad ? "OVER" :
								  "ok");
	return bad;
}

static void print_table(void)
{
	size_t i;
	int p, over = 0;

	printf("%-22s", "packet");
	for (p = 0; p < n_progs; p++)
		printf(" %10s", prog_names[p]);
	printf(" %7s %7s %7s %13s %5s\n", "rg/ref", "rg/ref+s", "rg/xf",
	       "target", "sprd");
	for (i = 0; i < N_KINDS; i++)
		over += print_row(&kinds[i]);
	printf("\nns/packet, medians of %d rounds; ratios: medians of the"
	       " rounds' ratios (sprd: relayguard's max-min over its median);"
	       " targets: rg at most the target times its baseline, and rg/xf"
	       " at most 1: %s\n", ROUNDS,
	       over ? "some OVER" : "all met");
}

/* Each build of $RG_XDP_ALT against relayguard and ref, as paired
 * ratios (see paired()). */
static void print_alt_table(void)
{
	size_t i;
	int p;

	if (n_progs == N_BASE)
		return;
	printf("\n%-22s", "build/relayguard, /ref");
	for (p = N_BASE; p < n_progs; p++)
		printf(" %17s", prog_names[p]);
	printf("\n");
	for (i = 0; i < N_KINDS; i++) {
		printf("%-22s", kinds[i].name);
		for (p = N_BASE; p < n_progs; p++)
			printf("     %5.2fx %5.2fx", paired(&kinds[i], p, P_RG),
			       paired(&kinds[i], p, P_REF));
		printf("\n");
	}
}

/* The first line of /proc/cpuinfo starting with key, its value in buf. */
static void cpuinfo(const char *key, char *buf, size_t len)
{
	char line[256], *v;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "?");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)) || !(v = strchr(line, ':')))
			continue;
		v += strspn(v + 1, " \t") + 1;
		v[strcspn(v, "\n")] = 0;
		snprintf(buf, len, "%s", v);
		break;
	}
	if (f)
		fclose(f);
}

/* What makes a kernel call dear or cheap: SRSO and retbleed mitigations. */
static void vuln(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/vulnerabilities/%s",
		 name);
	snprintf(buf, len, "?");
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void print_machine(void)
{
	char model[128], family[16], num[16], srso[128], retbleed[128];
	struct utsname u;

	cpuinfo("model name", model, sizeof(model));
	cpuinfo("cpu family", family, sizeof(family));
	cpuinfo("model\t", num, sizeof(num));
	vuln("spec_rstack_overflow", srso, sizeof(srso));
	vuln("retbleed", retbleed, sizeof(retbleed));
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	printf("CPU: %s (family %s model %s), %d CPUs, kernel %s\n"
	       "SRSO: %s; retbleed: %s\n", model, family, num,
	       libbpf_num_possible_cpus(), u.release, srso, retbleed);
}

/* Every program runs on one CPU, the one the bench starts on: a
 * migration between two runs would compare two CPUs' caches. */
static int pin_cpu(void)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? -errno : cpu_pin(cpu);
}

/* The builds named in $RG_XDP_ALT ("NAME=OBJ,..."), opened into alt[],
 * their names and programs (into pl) after the base columns. */
static int alt_open(struct rg_inst *alt, struct placed *pl,
		    struct ring_buffer **rings)
{
	static char list[1024];
	char *save = NULL, *item, *eq;
	int err;

	snprintf(list, sizeof(list), "%s", env_or("RG_XDP_ALT", ""));
	for (item = strtok_r(list, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (!eq || n_progs == N_PROGS_MAX) {
			fprintf(stderr, "RG_XDP_ALT: '%s' is not NAME=OBJ, or "
					"more than %d builds\n", item, MAX_ALT);
			return -EINVAL;
		}
		*eq = 0;
		err = inst_open(&alt[n_progs - N_BASE], eq + 1, 0,
				&pl[n_progs]);
		if (err)
			return err;
		prog_names[n_progs] = item;
		err = ring_add(rings, map_fd(alt[n_progs - N_BASE].obj,
					     "samples"),
			       &alt[n_progs - N_BASE].records);
		n_progs++;
		if (err)
			return err;
	}
	return 0;
}

/* Records ref+sample must have written: one per repeat of each run of a
 * packet it samples (fewer: a full ring, or a budget it ran out of). */
static int check_ref_records(unsigned long long records)
{
	unsigned long long want = 0;
	size_t i;

	for (i = 0; i < N_KINDS; i++)
		if (kinds[i].sampled)
			want += (unsigned long long)kinds[i].repeat * ROUNDS;
	printf("ref+sample: %llu records drained, %llu expected\n", records,
	       want);
	if (records == want)
		return 0;
	fprintf(stderr, "ref+sample did not sample every packet of its runs:"
			" build it with the Makefile's REF_SAMPLE_BUDGET\n");
	return -EINVAL;
}

static void print_ban_table(struct rg_inst *rg, struct rg_inst *pre)
{
	printf("\nban table (bans4, max %u entries, %d loaded):\n", RG_MAX_BANS4,
	       N_BANS);
	printf("%-14s %12s %14s %16s\n", "flags", "memlock MiB", "load 1M (s)",
	       "banned drop ns");
	printf("%-14s %12.1f %14.2f %16.1f\n", "no-prealloc",
	       memlock_kb(map_fd(rg->obj, "bans4")) / 1024.0, rg->load_s,
	       median(kinds[BANNED_KIND].ns[P_RG], ROUNDS));
	printf("%-14s %12.1f %14.2f %16.1f\n", "prealloc",
	       memlock_kb(map_fd(pre->obj, "bans4")) / 1024.0, pre->load_s,
	       median(kinds[BANNED_KIND].rg_pre, ROUNDS));
}

/* bare's program placed into pl. */
static int bare_place(struct bare_bpf *bare, struct placed *pl)
{
	struct obj_src from = { 0 };

	from.elf = bare_bpf__elf_bytes(&from.size);
	return place(pl, bare->obj, "bare_xdp", &from);
}

/* The baselines' objects into objs[] and their programs into pl[], both
 * by column. */
static int open_baselines(struct bpf_object **objs, struct placed *pl)
{
	int p, err;

	for (p = P_REF; p <= P_XF; p++) {
		err = baseline_open(&baselines[p], &objs[p], &pl[p]);
		if (err)
			return err;
	}
	return ref_spend_budget(objs[P_REFS]);
}

static void print_header(void)
{
	printf("relayguard rg_xdp vs bare XDP_PASS, the reference filter (with"
	       " and without sampling) and xdp-filter, BPF_PROG_TEST_RUN, %d"
	       " rounds (medians) over %d loads of each program, %d bans (in"
	       " every filter), %d allow prefixes\n",
	       ROUNDS, PLACEMENTS, N_BANS, N_ALLOW);
	print_machine();
	printf("\n");
}

static int print_rings(const struct rg_inst *rg, unsigned long long ref_records)
{
	struct rg_stats st;
	int err;

	err = stats_get(rg->obj, &st);
	if (err) {
		fprintf(stderr, "cannot read relayguard's stats: %s\n",
			strerror(-err));
		return err;
	}
	printf("\nring buffer: %llu records drained, sample_records %llu,"
	       " sample_ringbuf_full %llu, sample_budget_done %llu\n",
	       rg->records, (unsigned long long)st.sample_records,
	       (unsigned long long)st.sample_ringbuf_full,
	       (unsigned long long)st.sample_budget_done);
	return check_ref_records(ref_records);
}

int main(void)
{
	struct rg_inst rg = { 0 }, pre = { 0 }, alt[MAX_ALT] = { 0 };
	struct placed pl[N_PROGS_MAX] = { 0 }, pre_pl = { 0 };
	struct bpf_object *base[N_BASE] = { NULL };
	unsigned long long ref_records = 0;
	struct ring_buffer *rings = NULL;
	struct bare_bpf *bare = NULL;
	int err, i;

	if (geteuid() != 0) {
		printf("SKIP: BPF_PROG_TEST_RUN needs root\n");
		return 77;
	}
	bare = bare_bpf__open_and_load();
	if (!bare) {
		fprintf(stderr, "cannot load the bare program: %s\n",
			strerror(errno));
		return 1;
	}
	err = pin_cpu() ?: bare_place(bare, &pl[P_BARE]) ?:
	      inst_open(&rg, NULL, 0, &pl[P_RG]) ?:
	      inst_open(&pre, NULL, 1, &pre_pl) ?: open_baselines(base, pl) ?:
	      ring_add(&rings, map_fd(rg.obj, "samples"), &rg.records) ?:
	      ring_add(&rings, map_fd(base[P_REFS], "samples"), &ref_records) ?:
	      alt_open(alt, pl, &rings);
	if (err)
		goto out;
	print_header();
	err = measure(pl, rings, &pre_pl);
	if (err)
		goto out;
	print_table();
	print_alt_table();
	err = print_rings(&rg, ref_records);
	print_ban_table(&rg, &pre);
out:
	for (i = 0; i < N_PROGS_MAX; i++)
		unplace(&pl[i]);
	unplace(&pre_pl);
	ring_buffer__free(rings);
	for (i = 0; i < N_BASE; i++)
		bpf_object__close(base[i]);
	for (i = 0; i < MAX_ALT; i++)
		inst_close(&alt[i]);
	inst_close(&pre);
	inst_close(&rg);
	bare_bpf__destroy(bare);
	if (err)
		fprintf(stderr, "bench_xdp: failed (%d)\n", err);
	return err ? 1 : 0;
}
