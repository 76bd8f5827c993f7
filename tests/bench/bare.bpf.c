/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The baseline of the benchmark: an XDP program that does nothing. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bare_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
