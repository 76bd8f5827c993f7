/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The map layouts of RG_ABI_VERSION 3 (release f6e39ff) that ABI 4
 * changed, as that release's headers/relayguard.h had them: what the
 * migration (migrate.c) reads from maps an ABI-3 data plane pinned. The
 * layouts ABI 4 kept (config, the allow/deny keys and values, the ban and
 * source keys, rg_flow_key) are those of relayguard.h.
 */
#ifndef RG_ABI3_H
#define RG_ABI3_H

#include <linux/types.h>

#include "relayguard.h"

struct rg3_stats {
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
};

struct rg3_ban {
	__u64 expires_ns; /* boot clock; 0 = permanent */
	__u64 hits; /* packets dropped (or would-be, monitor) by this ban */
	__u64 created_ns;   /* boot clock, when user space pushed it */
	__u64 first_hit_ns; /* boot clock of the first drop; 0: none yet */
	__u32 reason;	    /* enum rg_reason */
	__u32 offences;	    /* how many bans this source has had (escalation) */
	__u8 origin;	    /* enum rg_origin */
	char origin_tag[RG_ORIGIN_TAG_LEN]; /* see RG_ORIGIN_TAG_LEN */
};

struct rg3_bucket {
	__u64 tat_ns;	       /* theoretical arrival time, boot clock */
	__u64 drops;	       /* SYNs over the limit (or would-be, monitor) */
	struct rg_src_key src; /* whose bucket this slot holds */
};

struct rg3_flow {
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
	__u32 pad;
};

#endif /* RG_ABI3_H */
