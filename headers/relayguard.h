/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one contract between relayguard's BPF programs and user space: map
 * names, map key/value layouts, the runtime config, the counters, the
 * ring-buffer sample record, reason codes and flag bits. Nothing else.
 *
 * Byte order: addresses, ports and sequence numbers in map keys and sample
 * records are kept as they are on the wire (network order), so that neither
 * side converts on the fast path. Times are CLOCK_BOOTTIME nanoseconds
 * (bpf_ktime_get_boot_ns), which keep counting through suspend.
 */
#ifndef RELAYGUARD_H
#define RELAYGUARD_H

#include <linux/types.h>

/* Bumped whenever a struct below changes layout: a pinned map from another
 * ABI is refused rather than misread. */
#define RG_ABI_VERSION 5

/* Map sizes; each can be overridden at build time. */
#ifndef RG_MAX_BANS4
#define RG_MAX_BANS4 (1U << 21)
#endif
#ifndef RG_MAX_BANS6
#define RG_MAX_BANS6 (1U << 18)
#endif
#ifndef RG_MAX_ACL4
#define RG_MAX_ACL4 (1U << 16)
#endif
#ifndef RG_MAX_ACL6
#define RG_MAX_ACL6 (1U << 16)
#endif
#ifndef RG_MAX_RATELIMIT
#define RG_MAX_RATELIMIT (1U << 18)
#endif
#ifndef RG_MAX_FLOWS
#define RG_MAX_FLOWS (1U << 18)
#endif
#ifndef RG_RINGBUF_BYTES
#define RG_RINGBUF_BYTES (8U << 20)
#endif

#define RG_MAX_SMTP_PORTS	8
#define RG_DEFAULT_SMTP_PORT	25
#define RG_DEFAULT_IPV6_PREFIX	64
#define RG_DEFAULT_SAMPLE_BYTES 4096

/* TCP flags (byte 13 of the header), as rg_sample.tcp_flags carries them. */
#define RG_TCP_FIN 0x01
#define RG_TCP_SYN 0x02
#define RG_TCP_RST 0x04
#define RG_TCP_PSH 0x08
#define RG_TCP_ACK 0x10
#define RG_TCP_URG 0x20
/* Payload bytes one sample record can carry; longer segments are split
 * into several records by offset. */
#define RG_SAMPLE_PAYLOAD_MAX 1536

/* Pinned map names (under the pin dir, default /sys/fs/bpf/relayguard). */
#define RG_PIN_DIR_DEFAULT "/sys/fs/bpf/relayguard"
#define RG_MAP_STATS	   "stats"
#define RG_MAP_CONFIG	   "config"
#define RG_MAP_BANS4	   "bans4"
#define RG_MAP_BANS6	   "bans6"
#define RG_MAP_ALLOW4	   "allow4"
#define RG_MAP_ALLOW6	   "allow6"
#define RG_MAP_DENY4	   "deny4"
#define RG_MAP_DENY6	   "deny6"
#define RG_MAP_RATELIMIT   "ratelimit"
#define RG_MAP_FLOWS	   "flows"
#define RG_MAP_SAMPLES	   "samples"
#define RG_MAP_ACL_GEN	   "acl_gen"

/* config.flags */
enum rg_config_flags {
	RG_CFG_MONITOR = 1U << 0,    /* count would-be drops, drop nothing */
	RG_CFG_SAMPLE_OFF = 1U << 1, /* no sampling at all */
};

/* The single entry of `config` (ARRAY, key 0). All-zero means "defaults":
 * port 25, no rate limit, /64, sample_bytes default, enforce. */
struct rg_config {
	__u32 abi_version; /* RG_ABI_VERSION once user space wrote it */
	__u32 flags;	   /* enum rg_config_flags */
	__u16 smtp_ports[RG_MAX_SMTP_PORTS]; /* network order */
	__u8 n_smtp_ports;		     /* 0: RG_DEFAULT_SMTP_PORT only */
	__u8 ipv6_prefix; /* bans and rate limits group IPv6 by this; 0: 64 */
	__u16 pad;
	__u32 syn_rate;	 /* per source, SYN/s; 0: unlimited */
	__u32 syn_burst; /* SYNs a rested source may send at once; 0: = rate */
	__u32 global_syn_rate;	/* all sources together, SYN/s; 0: unlimited */
	__u32 global_syn_burst; /* 0: = global_syn_rate */
	__u32 sample_bytes;	/* per flow and direction; 0: default */
	__u32 hash_seed; /* keys rg_hash (flows, ratelimit); set once by the
			  * loader, kept by every writer of `config` */
};

/* Counters: one struct in a one-entry PERCPU_ARRAY, so bpftool prints names.
 * Every packet XDP sees ends in exactly one of the verdict counters
 * (pass_*, drop_*); monitor_* count drops that monitor mode did not do. */
struct rg_stats {
	__u64 packets;	       /* every packet the XDP program saw */
	__u64 pass_not_smtp;   /* not TCP to an SMTP port: passed after parse */
	__u64 pass_unparsed;   /* truncated or malformed headers: passed */
	__u64 pass_fragment;   /* non-first IPv4/IPv6 fragment: passed */
	__u64 pass_allow;      /* source in allow4/allow6 */
	__u64 pass_smtp;       /* SMTP packet from a clean source */
	__u64 pass_monitor;    /* would have been dropped, monitor mode */
	__u64 drop_deny;       /* source in deny4/deny6 */
	__u64 drop_ban;	       /* source banned, ban not expired */
	__u64 drop_syn_rate;   /* SYN over the per-source token bucket */
	__u64 drop_syn_global; /* SYN over the global token bucket */
	__u64 monitor_deny; /* the would-be drops of monitor mode, by cause */
	__u64 monitor_ban;
	__u64 monitor_syn_rate;
	__u64 monitor_syn_global;
	__u64 ban_expired;    /* banned source whose ban had expired: passed */
	__u64 ratelimit_full; /* no room for a new source's bucket */
	__u64 flow_full;      /* no room for a new flow entry: not sampled */
	__u64 sample_records; /* records written to `samples`, ingress */
	__u64 sample_bytes;   /* payload bytes in those records */
	__u64 sample_ringbuf_full; /* record lost: ring buffer full */
	__u64 sample_budget_done;  /* payload not sampled: budget spent */
	__u64 sample_stopped; /* payload not sampled: user space said stop */
	__u64 egress_packets; /* packets the TC egress program saw */
	__u64 egress_smtp;    /* of those, from an SMTP port */
	__u64 egress_sample_records;
	__u64 egress_sample_bytes;
	__u64 egress_ringbuf_full;
	__u64 egress_budget_done; /* reply payload not sampled: budget spent */
	__u64 egress_stopped; /* reply payload not sampled: user space said stop
			       */
	__u64 egress_flow_full; /* no room for a new flow entry on egress */
	/* A first IP fragment to an SMTP port without the whole TCP header
	 * (options included), source neither allowed, banned nor denied:
	 * dropped (RFC 1858/3128 tiny fragment; no real stack sends one). */
	__u64 drop_frag_tiny;
	__u64 monitor_frag_tiny; /* the same in monitor mode: passed */
	__u64 sample_paused;	 /* client payload not sampled: paused (body) */
	__u64 sample_retrans;	 /* client payload not sampled: all of it below
				  * the server's ack (a retransmission) */
	/* A first IP fragment to an SMTP port with the whole TCP header (the
	 * rest of its datagram is payload), on a flow whose client side is
	 * sampled (not paused for a body, not stopped) or unknown, from a
	 * source not allowed: dropped (commands are never fragmented by an
	 * honest stack; the daemon would see only a part). */
	__u64 drop_frag_payload;
	__u64 monitor_frag_payload; /* the same in monitor mode: passed */
	/* SMTP packets whose source was judged from a mark (struct
	 * rg_acl_mark) instead of the ban, deny and allow lookups. */
	__u64 acl_cached;
};

/* What a verdict on a source is valid for: the ACL generation (the one
 * __u64 of the `acl_gen` map, low 32 bits) and the epoch (boot clock >>
 * RG_ACL_EPOCH_SHIFT, plus 1 so that a zeroed mark never matches). The
 * data plane stamps a mark on an entry it reads anyway (a flow, a ban, a
 * SYN bucket) and skips the lookups while the mark is current. Every
 * writer of bans, allow, deny or config in relayguard bumps `acl_gen`
 * after its change, so the next packet looks up again; a write that does
 * not bump it (bpftool) holds within one epoch (~1.07 s). */
#define RG_ACL_EPOCH_SHIFT 30

struct rg_acl_mark {
	__u32 gen;
	__u32 epoch;
};

/* bans4 key: the IPv4 address (network order). bans6 key: the address
 * masked to config.ipv6_prefix. allow/deny are LPM tries. */
struct rg_ip6 {
	__u8 addr[16];
};

/* A ban of a whole /48 (ipv6_escalate) in bans6, where the group prefix is
 * longer than /48 and at most /64: its key is the /48 with its last 64
 * bits all ones, which no group key (bits past the group clear) has. The
 * data plane looks it up when the source's group is not banned. */
#define RG_BAN6_WIDE_PREFIX 48
#define RG_BAN6_WIDE_TAG    0xffffffffU /* key words 2 and 3 */

struct rg_lpm4_key {
	__u32 prefixlen;
	__u32 addr; /* network order */
};

struct rg_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Why a source is banned. Names (user space) are the snake_case of these. */
enum rg_reason {
	RG_REASON_NONE = 0,
	RG_REASON_MANUAL,	  /* operator, relayguardctl ban add */
	RG_REASON_RELAY_ATTEMPT,  /* foreign recipient asked, server refused */
	RG_REASON_RELAY_ACCEPTED, /* foreign recipient asked, server accepted */
	RG_REASON_RELAY_PROBE,	  /* percent hack, source route, bang path... */
	RG_REASON_PREGREET,	  /* talked before the greeting */
	RG_REASON_NON_SMTP,	  /* HTTP, proxy probes, binary on port 25 */
	RG_REASON_AUTH_FAILURE,	  /* repeated 535 */
	RG_REASON_TOO_MANY_RCPTS,
	RG_REASON_SESSION_RATE,	     /* too many sessions per minute */
	RG_REASON_ABUSE_SCORE,	     /* weighted signals over the threshold */
	RG_REASON_IMPORTED,	     /* relayguardctl ban import */
	RG_REASON_ENVELOPE_PADDING,  /* sampling budget spent before a RCPT */
	RG_REASON_STREAM_CONFLICT,   /* two versions of the same bytes, urgent
				      * data: the MTA reads another stream */
	RG_REASON_UNAUTH_PIPELINING, /* message body before the 354 */
	RG_REASON_IPV6_ROTATION,     /* ipv6_escalate prefixes of one /48 */
	RG_REASON_MAX,
};

/* Where a ban came from (rg_ban.origin). Names (user space): "local", or
 * "crowdsec:" and the decision's origin as the CrowdSec LAPI sent it. */
enum rg_origin {
	RG_ORIGIN_LOCAL = 0,   /* this gateway: relayguardd or relayguardctl */
	RG_ORIGIN_CS_CROWDSEC, /* LAPI decision of origin "crowdsec" */
	RG_ORIGIN_CS_CSCLI,    /* "cscli" */
	RG_ORIGIN_CS_CSCLI_IMPORT, /* "cscli-import" */
	RG_ORIGIN_CS_CAPI,	   /* "CAPI" */
	RG_ORIGIN_CS_LISTS,	   /* "lists"; origin_tag: the list's name */
	RG_ORIGIN_CS_CONSOLE,	   /* "console" */
	RG_ORIGIN_CS_OTHER,	   /* origin_tag: the origin string */
	RG_ORIGIN_MAX,
};

/* The first bytes of a list name or unknown origin, NUL-padded. */
#define RG_ORIGIN_TAG_LEN 7

/* bans4/bans6 value. */
struct rg_ban {
	__u64 expires_ns; /* boot clock; 0 = permanent */
	__u64 hits; /* packets dropped (or would-be, monitor) by this ban */
	__u64 created_ns;   /* boot clock, when user space pushed it */
	__u64 first_hit_ns; /* boot clock of the first drop; 0: none yet */
	__u32 reason;	    /* enum rg_reason */
	__u32 offences;	    /* how many bans this source has had (escalation) */
	__u8 origin;	    /* enum rg_origin */
	char origin_tag[RG_ORIGIN_TAG_LEN]; /* see RG_ORIGIN_TAG_LEN */
	/* Set by the data plane: the source was found in no allow entry. */
	struct rg_acl_mark not_allowed;
};

/* A source grouped like bans (v4 /32, v6 by prefix); family tells which.
 * Aligned so that rg_hash reads it as 64-bit words. */
struct rg_src_key {
	__u8 family; /* AF_INET or AF_INET6; 0: none (a free slot) */
	__u8 pad[3];
	__u8 addr[16]; /* v4 in the first 4 bytes */
} __attribute__((aligned(8)));

/* ratelimit (ARRAY, slot rg_src_slot(src)) value, and the one entry of the
 * global SYN cap: a token bucket kept as GCRA (generic cell rate algorithm). A
 * SYN at time t conforms when tat_ns - t <= (burst - 1) * interval, and moves
 * tat_ns to max(tat_ns, t) + interval (interval = 1e9 / rate). One 64-bit word,
 * updated with compare-and-swap, so the bucket stays exact across CPUs
 * without a lock. A tat_ns in the past means a full bucket. */
struct rg_bucket {
	__u64 tat_ns;	       /* theoretical arrival time, boot clock */
	__u64 drops;	       /* SYNs over the limit (or would-be, monitor) */
	struct rg_src_key src; /* whose bucket this slot holds */
	/* Set by the data plane: src is neither denied nor allowed. */
	struct rg_acl_mark clean;
	/* Set by the data plane: src is banned, not allowed, and its ban
	 * lasts past the mark's epoch; its SYNs are dropped on the mark. */
	struct rg_acl_mark banned;
	/* SYNs dropped on the banned mark not yet added to the ban's hits
	 * (the data plane adds them at its next look at the ban; user
	 * space adds them when it shows the ban). */
	__u64 ban_hits;
};

/* A flow, always oriented client -> server, whatever the direction of
 * the packet, so both programs find the same entry. */
struct rg_flow_key {
	__u8 client[16]; /* v4 in the first 4 bytes, rest zero */
	__u8 server[16];
	__u16 client_port; /* network order */
	__u16 server_port; /* network order */
	__u8 family;	   /* 0: none (a free slot) */
	__u8 pad[3];
} __attribute__((aligned(8)));

/* flows.flags. STOP, STOP_IN and PAUSE_IN are written by user space (read,
 * modify, write the entry); WIN_IN and SRV_ACK by the programs. */
enum rg_flow_flags {
	RG_FLOW_STOP = 1U << 0,	    /* stop sampling both directions for good */
	RG_FLOW_PAUSE_IN = 1U << 1, /* a message body: no client payload
				     * sampled until user space resumes */
	RG_FLOW_WIN_IN = 1U << 2,   /* win_in holds the client window start */
	RG_FLOW_SRV_ACK = 1U << 3,  /* srv_ack holds the server's ack */
	RG_FLOW_SEEN_IN = 1U << 4,  /* the client has sent payload (set by
				     * XDP; a later pure ACK is not recorded) */
	RG_FLOW_STOP_IN = 1U << 5,  /* the client is banned: no client payload
				     * sampled for good, the server's still */
};

/* flows (ARRAY of RG_MAX_FLOWS entries) is a set-associative table: a
 * flow lives in one of the RG_FLOW_WAYS slots from rg_flow_set_first(key);
 * a new flow takes a free slot of its set, else the least recently seen
 * one (flow_full counts those seen in the last RG_FLOW_IDLE_NS). */
#define RG_FLOW_WAYS	4
#define RG_FLOW_IDLE_NS (300ULL * 1000000000ULL)

struct rg_flow {
	struct rg_flow_key key; /* the flow in this slot */
	__u32 sampled_in;	/* payload bytes sampled client -> server */
	__u32 sampled_out;	/* payload bytes sampled server -> client */
	__u32 flags;		/* enum rg_flow_flags */
	/* Client seq (host order) where the current mail transaction's
	 * sampling window starts: user space moves it when it resumes
	 * sampling after a message body (RG_FLOW_WIN_IN set). */
	__u32 win_in;
	__u64 last_ns; /* last packet seen, boot clock */
	/* Highest ack (host order) the server has sent, seen on egress
	 * (RG_FLOW_SRV_ACK set): client bytes below it are retransmissions
	 * of what the server already holds. */
	__u32 srv_ack;
	/* Set by XDP: the client is neither banned nor denied (nor, for a
	 * packet, allowed to be counted as pass_allow). */
	struct rg_acl_mark clean;
	__u32 pad;
};

/* Sample record in the `samples` ring buffer. */
enum rg_sample_dir {
	RG_DIR_IN = 0,	/* client -> server, XDP ingress */
	RG_DIR_OUT = 1, /* server -> client, TC egress */
};

struct rg_sample {
	__u64 ts_ns; /* boot clock */
	struct rg_flow_key flow;
	__u32 seq;	   /* TCP seq of payload[0], network order */
	__u32 ack;	   /* network order */
	__u16 payload_len; /* bytes in payload[] */
	__u8 dir;	   /* enum rg_sample_dir */
	__u8 tcp_flags;	   /* TCP flags byte 13: RG_TCP_* */
	__u32 ifindex;
	__u8 payload[]; /* payload_len bytes */
};

/* A record is struct rg_sample and its payload_len bytes, except that one
 * of 1 to RG_SAMPLE_SMALL payload bytes has the fixed size
 * RG_SAMPLE_SMALL_RECORD (the data plane writes it in place: cheaper than
 * a copy at its exact size); the bytes past payload_len mean nothing. */
#define RG_SAMPLE_SMALL	       64
#define RG_SAMPLE_SMALL_RECORD (sizeof(struct rg_sample) + RG_SAMPLE_SMALL)

static inline __u32 rg_record_size(const struct rg_sample *s)
{
	if (s->payload_len && s->payload_len <= RG_SAMPLE_SMALL)
		return RG_SAMPLE_SMALL_RECORD;
	return sizeof(*s) + s->payload_len;
}

/* The slot hash of `flows` and `ratelimit`, shared so that user space
 * finds the slot the data plane uses: the key's 64-bit words folded by
 * multiply and xor-shift, keyed by config.hash_seed so that nobody outside
 * can aim keys at one set. */
static inline __u64 rg_hash_step(__u64 h, __u64 w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static inline __u32 rg_hash(const void *key, unsigned int words, __u32 seed)
{
	__u64 h = seed, w;
	unsigned int i;

	for (i = 0; i < words; i++) {
		__builtin_memcpy(&w, (const __u8 *)key + 8 * i, 8);
		h = rg_hash_step(h, w);
	}
	return (__u32)(h >> 32);
}

_Static_assert((RG_MAX_FLOWS & (RG_MAX_FLOWS - 1)) == 0 &&
		       RG_MAX_FLOWS >= RG_FLOW_WAYS,
	       "RG_MAX_FLOWS: a power of two, at least one set");
_Static_assert((RG_MAX_RATELIMIT & (RG_MAX_RATELIMIT - 1)) == 0,
	       "RG_MAX_RATELIMIT: a power of two");

/* The first of the RG_FLOW_WAYS slots where key's flow may live. */
static inline __u32 rg_flow_set_first(const struct rg_flow_key *key, __u32 seed)
{
	__u32 sets = RG_MAX_FLOWS / RG_FLOW_WAYS;

	return (rg_hash(key, sizeof(*key) / 8, seed) & (sets - 1)) *
	       RG_FLOW_WAYS;
}

/* The ratelimit slot of an IPv4 source: one multiply, its top half
 * (every address bit reaches it). A SYN waits for this hash before its
 * bucket is read: three rounds of rg_hash cost a banned source's SYN
 * ~10% on the benchmark machine. */
static inline __u32 rg_src_slot4(__u32 addr, __u32 seed)
{
	__u64 h = ((__u64)seed << 32 | (seed ^ addr)) * 0x9e3779b97f4a7c15ULL;

	return (__u32)(h >> 32) & (RG_MAX_RATELIMIT - 1);
}

/* The ratelimit slot of a source given as the three 64-bit words of its
 * struct rg_src_key (little-endian: the family in the low byte of the
 * first, an IPv4 address in its top half), as the data plane keeps it in
 * registers. */
static inline __u32 rg_src_slot_words(const __u64 *w, __u32 seed)
{
	__u64 h;

	if ((w[0] & 0xff) == 2 /* AF_INET */)
		return rg_src_slot4((__u32)(w[0] >> 32), seed);
	h = rg_hash_step(rg_hash_step(rg_hash_step(seed, w[0]), w[1]), w[2]);
	return (__u32)(h >> 32) & (RG_MAX_RATELIMIT - 1);
}

/* The ratelimit slot of a source (direct-mapped). */
static inline __u32 rg_src_slot(const struct rg_src_key *src, __u32 seed)
{
	__u64 w[3];

	__builtin_memcpy(w, src, sizeof(w));
	return rg_src_slot_words(w, seed);
}

/* allow4/allow6 value: who wrote the entry (the data plane only tests
 * presence). relayguardd removes on reload only the trusted_networks
 * entries it wrote, never an operator's. */
enum rg_allow_origin {
	RG_ALLOW_OPERATOR = 1, /* relayguardctl allow add|import */
	RG_ALLOW_TRUSTED = 2,  /* relayguardd, from trusted_networks */
};

#endif /* RELAYGUARD_H */
