/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* relayguard's BPF maps. The ones named in headers/relayguard.h are pinned
 * by name under the pin dir; the two internal ones (rg_gsyn, rg_scratch)
 * are private to a loaded program and start fresh on every load. */
#ifndef RG_BPF_MAPS_H
#define RG_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "relayguard.h"

/* Ban tables are plain hashes, never LRU: a ban must not be evicted to make
 * room. Not preallocated: memory follows the number of bans (a preallocated
 * 2M-entry table costs ~200 MB before the first ban), and lookups cost the
 * same (see the benchmark). */
#ifndef RG_BANS_MAP_FLAGS
#define RG_BANS_MAP_FLAGS BPF_F_NO_PREALLOC
#endif

/* Counters, one struct per CPU; user space sums them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rg_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* Runtime config written by user space; all-zero means defaults. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rg_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

/* Banned IPv4 sources, key: address (network order). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RG_MAX_BANS4);
	__uint(map_flags, RG_BANS_MAP_FLAGS);
	__type(key, __u32);
	__type(value, struct rg_ban);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bans4 SEC(".maps");

/* Banned IPv6 sources, key: address masked to config.ipv6_prefix. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RG_MAX_BANS6);
	__uint(map_flags, RG_BANS_MAP_FLAGS);
	__type(key, struct rg_ip6);
	__type(value, struct rg_ban);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bans6 SEC(".maps");

/* Trusted IPv4 prefixes: never dropped, rate-limited or banned. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RG_MAX_ACL4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rg_lpm4_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow4 SEC(".maps");

/* Trusted IPv6 prefixes. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RG_MAX_ACL6);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rg_lpm6_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow6 SEC(".maps");

/* Denied IPv4 prefixes: SMTP from them is dropped. Value: free for user
 * space (e.g. a reason); the data plane only tests presence. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RG_MAX_ACL4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rg_lpm4_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny4 SEC(".maps");

/* Denied IPv6 prefixes. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RG_MAX_ACL6);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rg_lpm6_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny6 SEC(".maps");

/* ratelimit and flows are arrays the programs hash into themselves
 * (rg_hash): an array lookup is inlined by the verifier, while a hash or
 * LRU lookup is four kernel calls (lookup, jhash, bucket walk, memcmp),
 * each paying a return-thunk on CPUs with return-stack mitigations; on the
 * benchmark machine that was ~30 ns of a clean SMTP packet's ~110. Both
 * tables may forget: a forgotten bucket starts full, a forgotten flow is
 * sampled afresh, so a collision never drops a packet or hides one. */

/* Per-source SYN token buckets, direct-mapped by rg_src_slot: a source
 * whose slot another source took is forgotten (starts full again). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RG_MAX_RATELIMIT);
	__type(key, __u32);
	__type(value, struct rg_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ratelimit SEC(".maps");

/* Sampled flows, RG_FLOW_WAYS-way set-associative (see struct rg_flow);
 * user space sets RG_FLOW_STOP. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RG_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct rg_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

/* Sample records (struct rg_sample + payload) for relayguardd. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RG_RINGBUF_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} samples SEC(".maps");

/* The ACL generation (struct rg_acl_mark): user space adds 1 through a
 * shared mapping (an atomic add, so no two writers undo each other)
 * after each change of bans, allow, deny or config. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} acl_gen SEC(".maps");

/* The global SYN cap: one bucket shared by all CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rg_bucket);
} rg_gsyn SEC(".maps");

/* Per-CPU scratch: the clock cache (see rg_now) and the buffer a sample
 * record is built in before bpf_ringbuf_output, so records are exactly as
 * long as their payload. RG_SCRATCH_PAYLOAD is a power of two >=
 * RG_SAMPLE_PAYLOAD_MAX, so a length masked with RG_SCRATCH_PAYLOAD - 1 is
 * provably inside the buffer. */
#define RG_SCRATCH_PAYLOAD 2048

struct rg_percpu {
	__u64 clock_jiffies; /* jiffy in which clock_ns was read */
	__u64 clock_ns;	     /* boot clock at the first packet of that jiffy */
	__u64 gsyn_until;    /* this CPU's lot of global SYN tokens lapses */
	__u32 gsyn_left;     /* tokens of the lot not spent yet */
	__u32 pad;
	__u8 rec[sizeof(struct rg_sample) + RG_SCRATCH_PAYLOAD];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rg_percpu);
} rg_scratch SEC(".maps");

#endif
