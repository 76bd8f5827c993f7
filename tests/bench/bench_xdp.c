// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ns/packet of relayguard's rg_xdp against three baselines, through
 * BPF_PROG_TEST_RUN, on the same packets, alternated in one run; medians
 * over rounds and their ratios:
 * - bare: `return XDP_PASS` (bpf/bare.bpf.c);
 * - ref: ../shared/bench/xdp_ref.bpf.c, the smallest useful filter (parse,
 *   one hash lookup, drop), its src_v4 holding the same 1,000,000 bans
 *   ($RG_XDP_REF, built by `make bench`);
 * - xdp-filter 1.3.1 (Debian xdp-tools, its BPF object from libxdp1,
 *   $RG_XDP_FILTER: xdpfilt_alw_all, policy allow, all features) with the
 *   1,000,000 banned sources as "src" rules in
 *   filter_ipv4: it cannot AND a source with a port, so it drops them on
 *   every port and has no port rule (a port-25 rule would drop all SMTP).
 * relayguard's state: 1,000,000 bans (batched updates) and 1,000 allow
 * prefixes. Targets (issue 12), against ref: banned drop <= 1.3x, clean
 * SMTP data within the budget <= 2.0x, non-SMTP <= 0.8x; and every path no
 * dearer than xdp-filter. A second relayguard instance whose ban tables are
 * preallocated is measured on the banned-source drop, with its memory and
 * load time, to back the choice of BPF_F_NO_PREALLOC.
 *
 * Records written to the ring buffer are drained between runs, so every
 * "within budget" run really writes its records; the ring-full counter is
 * checked and printed. Exit non-zero only on errors, never on ratios.
 * Needs root (exit 77 otherwise). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bare.skel.h"
#include "bpf/pkt.h"
#include "relayguard.h"
#include "relayguard.skel.h"

#define N_BANS 1000000
#define N_ALLOW 1000
#ifdef EXP_ROUNDS
#define ROUNDS EXP_ROUNDS
#else
#define ROUNDS 15
#endif
#define BATCH 10000

#define BANNED "100.1.2.3" /* inside the loaded bans (100.0.0.0 + i) */
#define CLEAN "192.0.2.10"
#define PAST "192.0.2.20" /* its flow has spent its budget */

/* The programs measured, in the order of the table's columns. */
enum prog { P_BARE, P_REF, P_XF, P_RG, N_PROGS };
static const char *const prog_names[N_PROGS] = { "bare", "ref", "xdp-filter",
						 "relayguard" };

struct kind {
	const char *name;
	const char *group; /* which target it is held to */
	double target; /* rg / ref at most; 0: none */
	struct pkt_spec pkt;
	int repeat;
	int expect; /* rg_xdp's verdict */
	int banned; /* the baselines drop it too */
	double ns[N_PROGS][ROUNDS], rg_pre[ROUNDS];
};

#define KIND(n, g, t, rep, v, ...) { .name = (n), .group = (g), .target = (t), \
	.repeat = (rep), .expect = (v), .banned = (v) == XDP_DROP, \
	.pkt = { __VA_ARGS__ } }

static struct kind kinds[] = {
	KIND("TCP 443", "non-SMTP", 0.8, 1000000, XDP_PASS,
	     .dport = 443, .flags = TH_ACK, .payload_len = 100),
	KIND("UDP 53", "non-SMTP", 0.8, 1000000, XDP_PASS,
	     .proto = IPPROTO_UDP, .dport = 53, .payload_len = 40),
	KIND("ARP", "non-SMTP", 0, 1000000, XDP_PASS, .ethertype = ETH_P_ARP),
	KIND("SYN :25 banned (drop)", "banned drop", 1.3, 1000000, XDP_DROP,
	     .src = BANNED, .flags = TH_SYN),
	KIND("SYN :25 clean", "clean SMTP", 0, 100000, XDP_PASS,
	     .src = CLEAN, .flags = TH_SYN, .sport = 40001),
	KIND("data :25 in budget", "clean SMTP", 2.0, 50000, XDP_PASS,
	     .src = CLEAN, .flags = TH_ACK | TH_PSH,
	     .payload = "RCPT TO:<a@b.c>\r\n"),
	KIND("data :25 past budget", "clean SMTP", 0, 1000000, XDP_PASS,
	     .src = PAST, .flags = TH_ACK | TH_PSH,
	     .payload = "RCPT TO:<a@b.c>\r\n"),
};
#define BANNED_KIND 3

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct rg_inst {
	struct relayguard_bpf *skel;
	struct ring_buffer *rb;
	unsigned long long records;
	double load_s; /* time to load the bans */
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

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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

/* A baseline program from an object file: maps unpinned, max_entries of
 * map src_map raised to hold the bans, then filled with them (value: flag
 * per CPU for per-CPU maps). Returns the program's fd or -errno. */
static int baseline_open(const char *path, const char *prog,
			 const char *src_map, uint64_t flag,
			 struct bpf_object **objp)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	struct bpf_map *m, *src;
	int ncpu = libbpf_num_possible_cpus(), err;
	uint64_t *val;
	size_t n;

	*objp = NULL;
	if (!obj) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	*objp = obj;
	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
	src = bpf_object__find_map_by_name(obj, src_map);
	p = bpf_object__find_program_by_name(obj, prog);
	if (!src || !p) {
		fprintf(stderr, "%s: no map %s or program %s\n", path, src_map,
			prog);
		return -ENOENT;
	}
	if (bpf_map__max_entries(src) < N_BANS + N_BANS / 10)
		bpf_map__set_max_entries(src, N_BANS + N_BANS / 10);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "cannot load %s: %s\n", path, strerror(-err));
		return err;
	}
	n = bpf_map__type(src) == BPF_MAP_TYPE_PERCPU_HASH ? ncpu : 1;
	val = calloc(n, sizeof(*val));
	if (!val)
		return -ENOMEM;
	while (n--)
		val[n] = flag;
	err = load_src_map(bpf_map__fd(src),
			   val, bpf_map__value_size(src) *
			   (bpf_map__type(src) == BPF_MAP_TYPE_PERCPU_HASH ? ncpu : 1));
	free(val);
	return err ? err : bpf_program__fd(p);
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
	inet_pton(AF_INET, "198.51.100.1", f.key.server);
	f.key.client_port = htons(40000);
	f.key.server_port = htons(25);
	slot = rg_flow_set_first(&f.key, seed);
	return bpf_map_update_elem(fd, &slot, &f, BPF_ANY);
}

static int inst_open(struct rg_inst *in, int prealloc)
{
	struct rg_config cfg = {
		.abi_version = RG_ABI_VERSION,
		/* high enough that no SYN of the run is over either bucket */
		.syn_rate = 1000000000, .syn_burst = 1000000,
		.global_syn_rate = 1000000000, .global_syn_burst = 1000000,
		.sample_bytes = 1U << 30,
		.hash_seed = 0x2545f491,
	};
	struct bpf_map *m;
	uint32_t zero = 0;
	double t;
	int err;

	in->skel = relayguard_bpf__open();
	if (!in->skel)
		return -errno;
	bpf_object__for_each_map(m, in->skel->obj)
		bpf_map__set_pin_path(m, NULL);
	if (prealloc) {
		bpf_map__set_map_flags(in->skel->maps.bans4, 0);
		bpf_map__set_map_flags(in->skel->maps.bans6, 0);
	}
	err = relayguard_bpf__load(in->skel);
	if (err) {
		fprintf(stderr, "cannot load relayguard: %s\n", strerror(-err));
		return err;
	}
	err = bpf_map_update_elem(bpf_map__fd(in->skel->maps.config), &zero,
				  &cfg, BPF_ANY);
	if (err)
		return err;
	t = now_s();
	err = load_bans(bpf_map__fd(in->skel->maps.bans4));
	in->load_s = now_s() - t;
	if (err)
		return err;
	err = load_allow(bpf_map__fd(in->skel->maps.allow4));
	if (err)
		return err;
	err = spend_budget(bpf_map__fd(in->skel->maps.flows), cfg.hash_seed,
			   cfg.sample_bytes);
	if (err)
		return err;
	in->rb = ring_buffer__new(bpf_map__fd(in->skel->maps.samples),
				  count_record, &in->records, NULL);
	return in->rb ? 0 : -errno;
}

static void inst_close(struct rg_inst *in)
{
	ring_buffer__free(in->rb);
	relayguard_bpf__destroy(in->skel);
}

/* ns/packet of prog on k's packet; checks the verdict. */
static int run(int prog, struct kind *k, int expect, double *ns)
{
	static uint8_t buf[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .repeat = k->repeat);
	int err;

	opts.data_size_in = pkt_build(&k->pkt, buf);
	err = bpf_prog_test_run_opts(prog, &opts);
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
	*ns = opts.duration;
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

static int stats_get(struct relayguard_bpf *skel, struct rg_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus(), i, j, err;
	struct rg_stats *per = calloc(ncpu, sizeof(*per));
	uint32_t zero = 0;

	if (!per)
		return -ENOMEM;
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &zero, per);
	memset(sum, 0, sizeof(*sum));
	for (i = 0; !err && i < ncpu; i++)
		for (j = 0; j < (int)(sizeof(*sum) / 8); j++)
			((__u64 *)sum)[j] += ((__u64 *)&per[i])[j];
	free(per);
	return err;
}

static long memlock_kb(int fd)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &v) == 1)
			break;
	fclose(f);
	return v < 0 ? -1 : v / 1024;
}

static int expect_of(const struct kind *k, int prog)
{
	if (prog == P_RG)
		return k->expect;
	if (prog == P_BARE)
		return XDP_PASS;
	return k->banned ? XDP_DROP : XDP_PASS;
}

static int measure(const int *fds, struct rg_inst *rg, struct rg_inst *pre)
{
	int pre_fd = bpf_program__fd(pre->skel->progs.rg_xdp);
	size_t i;
	int r, j, p, err = 0;

	for (r = 0; r < ROUNDS && !err; r++) {
		for (i = 0; i < N_KINDS && !err; i++) {
			struct kind *k = &kinds[i];

			/* rotate which program goes first */
			for (j = 0; j < N_PROGS && !err; j++) {
				p = (r + j) % N_PROGS;
				err = run(fds[p], k, expect_of(k, p),
					  &k->ns[p][r]);
				if (err)
					fprintf(stderr, "(program %s)\n",
						prog_names[p]);
			}
			ring_buffer__consume(rg->rb);
			if (!err && k->expect == XDP_DROP)
				err = run(pre_fd, k, k->expect, &k->rg_pre[r]);
		}
	}
	return err;
}

static void print_table(void)
{
	double m[N_PROGS];
	size_t i;
	int p, over = 0;

	printf("%-22s %-11s", "packet", "group");
	for (p = 0; p < N_PROGS; p++)
		printf(" %10s", prog_names[p]);
	printf(" %7s %7s %7s %7s\n", "rg/bare", "rg/ref", "target", "rg/xf");
	for (i = 0; i < N_KINDS; i++) {
		struct kind *k = &kinds[i];
		int bad;

		for (p = 0; p < N_PROGS; p++)
			m[p] = median(k->ns[p], ROUNDS);
		bad = (k->target && m[P_RG] / m[P_REF] > k->target) ||
		      m[P_RG] > m[P_XF];
		over += bad;
		printf("%-22s %-11s", k->name, k->group);
		for (p = 0; p < N_PROGS; p++)
			printf(" %10.1f", m[p]);
		printf(" %6.2fx %6.2fx", m[P_RG] / m[P_BARE], m[P_RG] / m[P_REF]);
		if (k->target)
			printf(" %6.1fx", k->target);
		else
			printf(" %7s", "-");
		printf(" %6.2fx %s\n", m[P_RG] / m[P_XF], bad ? "OVER" : "ok");
	}
	printf("\nns/packet, medians of %d rounds; targets: rg/ref at most the"
	       " target, rg/xf at most 1: %s\n", ROUNDS,
	       over ? "some OVER" : "all met");
}

/* MAP_FLAG_SRC of xdp-filter's maps (xdp-filter/common_kern_user.h). */
#define XF_FLAG_SRC 1

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

int main(void)
{
	struct rg_inst rg = { 0 }, pre = { 0 };
	struct bpf_object *ref = NULL, *xf = NULL;
	struct rg_stats st;
	struct bare_bpf *bare = NULL;
	int fds[N_PROGS], err;

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
	err = inst_open(&rg, 0) ?: inst_open(&pre, 1);
	if (err)
		goto out;
	fds[P_BARE] = bpf_program__fd(bare->progs.bare_xdp);
	fds[P_RG] = bpf_program__fd(rg.skel->progs.rg_xdp);
	fds[P_REF] = baseline_open(env_or("RG_XDP_REF",
					  "build/bench/xdp_ref_hash.bpf.o"),
				   "xdp_ref", "src_v4", 1, &ref);
	fds[P_XF] = baseline_open(env_or("RG_XDP_FILTER",
					 "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o"),
				  "xdpfilt_alw_all", "filter_ipv4", XF_FLAG_SRC,
				  &xf);
	err = fds[P_REF] < 0 ? fds[P_REF] : fds[P_XF] < 0 ? fds[P_XF] : 0;
	if (err)
		goto out;
	printf("relayguard rg_xdp vs bare XDP_PASS, the reference filter and"
	       " xdp-filter, BPF_PROG_TEST_RUN, %d rounds (medians), %d bans"
	       " (in every filter), %d allow prefixes\n\n", ROUNDS, N_BANS,
	       N_ALLOW);
	err = measure(fds, &rg, &pre);
	if (err)
		goto out;
	print_table();
	err = stats_get(rg.skel, &st);
	if (err)
		goto out;
	printf("\nring buffer: %llu records drained, sample_records %llu,"
	       " sample_ringbuf_full %llu, sample_budget_done %llu\n",
	       rg.records, (unsigned long long)st.sample_records,
	       (unsigned long long)st.sample_ringbuf_full,
	       (unsigned long long)st.sample_budget_done);
	printf("\nban table (bans4, max %u entries, %d loaded):\n", RG_MAX_BANS4,
	       N_BANS);
	printf("%-14s %12s %14s %16s\n", "flags", "memlock MiB", "load 1M (s)",
	       "banned drop ns");
	printf("%-14s %12.1f %14.2f %16.1f\n", "no-prealloc",
	       memlock_kb(bpf_map__fd(rg.skel->maps.bans4)) / 1024.0, rg.load_s,
	       median(kinds[BANNED_KIND].ns[P_RG], ROUNDS));
	printf("%-14s %12.1f %14.2f %16.1f\n", "prealloc",
	       memlock_kb(bpf_map__fd(pre.skel->maps.bans4)) / 1024.0,
	       pre.load_s, median(kinds[BANNED_KIND].rg_pre, ROUNDS));
out:
	bpf_object__close(xf);
	bpf_object__close(ref);
	inst_close(&pre);
	inst_close(&rg);
	bare_bpf__destroy(bare);
	if (err)
		fprintf(stderr, "bench_xdp: failed (%d)\n", err);
	return err ? 1 : 0;
}
