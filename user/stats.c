// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "promtext.h"
#include "stats.h"

#define F(field, text)                                                         \
	{                                                                      \
#field, offsetof(struct rg_stats, field), text                 \
	}

/* One line per counter of struct rg_stats, in struct order. */
const struct stats_field stats_fields[] = {
	F(packets, "Packets seen by the XDP program."),
	F(pass_not_smtp, "Packets passed: not TCP to an SMTP port."),
	F(pass_unparsed, "Packets passed: truncated or malformed headers."),
	F(pass_fragment, "Packets passed: non-first IP fragments."),
	F(pass_allow, "Packets passed: source in the allow list."),
	F(pass_smtp, "SMTP packets passed from clean sources."),
	F(pass_monitor, "Packets passed that enforce mode would have dropped."),
	F(drop_deny, "Packets dropped: source in the deny list."),
	F(drop_ban, "Packets dropped: source banned."),
	F(drop_syn_rate, "SYNs dropped: over the per-source rate."),
	F(drop_syn_global, "SYNs dropped: over the global SYN rate."),
	F(monitor_deny, "Would-be drops in monitor mode: deny list."),
	F(monitor_ban, "Would-be drops in monitor mode: ban."),
	F(monitor_syn_rate, "Would-be drops in monitor mode: per-source rate."),
	F(monitor_syn_global, "Would-be drops in monitor mode: global rate."),
	F(ban_expired, "Packets from sources whose ban had expired."),
	F(ratelimit_full, "New sources without room in the ratelimit map."),
	F(flow_full, "New flows without room in the flows map (not sampled)."),
	F(sample_records, "Ingress sample records written."),
	F(sample_bytes, "Ingress payload bytes sampled."),
	F(sample_ringbuf_full,
	  "Ingress sample records lost: ring buffer full."),
	F(sample_budget_done, "Ingress payloads not sampled: budget spent."),
	F(sample_stopped,
	  "Ingress payloads not sampled: stopped by user space."),
	F(egress_packets, "Packets seen by the TC egress program."),
	F(egress_smtp, "Egress packets from an SMTP port."),
	F(egress_sample_records, "Egress sample records written."),
	F(egress_sample_bytes, "Egress payload bytes sampled."),
	F(egress_ringbuf_full, "Egress sample records lost: ring buffer full."),
	F(egress_budget_done,
	  "Egress payloads not sampled: budget spent (0: replies have none)."),
	F(egress_stopped,
	  "Egress payloads not sampled: stopped by user space."),
	F(egress_flow_full, "Egress flows without room in the flows map."),
	F(drop_frag_tiny,
	  "First fragments to an SMTP port without a whole TCP header: dropped."),
	F(monitor_frag_tiny,
	  "Would-be drops in monitor mode: tiny first fragment."),
	F(sample_paused,
	  "Ingress payloads not sampled: paused (message body)."),
	F(sample_retrans,
	  "Ingress payloads not sampled: retransmission of acknowledged bytes."),
	F(drop_frag_payload,
	  "First fragments of client segments on sampled flows: dropped."),
	F(monitor_frag_payload,
	  "Would-be drops in monitor mode: first fragment with payload."),
	F(acl_cached,
	  "SMTP packets judged by a current mark, without ACL lookups."),
};

const size_t stats_n_fields = ARRAY_LEN(stats_fields);

/* A counter added to struct rg_stats without a line above fails here. */
_Static_assert(ARRAY_LEN(stats_fields) ==
		       sizeof(struct rg_stats) / sizeof(__u64),
	       "stats_fields must list every struct rg_stats counter");

uint64_t stats_value(const struct rg_stats *s, const struct stats_field *f)
{
	uint64_t v;

	memcpy(&v, (const char *)s + f->offset, sizeof(v));
	return v;
}

int stats_read(int stats_fd, struct rg_stats *sum)
{
	size_t stride = (sizeof(struct rg_stats) + 7) & ~(size_t)7;
	int ncpu = libbpf_num_possible_cpus();
	unsigned char *vals;
	__u32 key = 0;
	size_t i;
	int cpu, err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, stride);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(stats_fd, &key, vals)) {
		err = -errno;
		log_err("cannot read map stats: %s", log_strerror(err));
		goto out;
	}
	memset(sum, 0, sizeof(*sum));
	for (cpu = 0; cpu < ncpu; cpu++) {
		const struct rg_stats *s = (void *)(vals + cpu * stride);

		for (i = 0; i < stats_n_fields; i++) {
			uint64_t v = stats_value(sum, &stats_fields[i]) +
				     stats_value(s, &stats_fields[i]);

			memcpy((char *)sum + stats_fields[i].offset, &v,
			       sizeof(v));
		}
	}
out:
	free(vals);
	return err;
}

void stats_print_prometheus(const struct rg_stats *s, FILE *out)
{
	const struct stats_field *f;
	size_t i;

	for (i = 0; i < stats_n_fields; i++) {
		f = &stats_fields[i];
		prom_family(out, "counter", f->help, "%s_total", f->name);
		fprintf(out, "relayguard_%s_total %" PRIu64 "\n", f->name,
			stats_value(s, f));
	}
}
