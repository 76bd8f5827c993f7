/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The map layouts of RG_ABI_VERSION 4 (release fe46631) that ABI 5
 * changed, as that release's headers/relayguard.h had them: what the
 * migration (migrate.c) reads from maps an ABI-4 data plane pinned. ABI 5
 * appended the banned mark and its pending hits to the SYN bucket; every
 * other layout is that of relayguard.h.
 */
#ifndef RG_ABI4_H
#define RG_ABI4_H

#include <linux/types.h>

#include "relayguard.h"

struct rg4_bucket {
	__u64 tat_ns;
	__u64 drops;
	struct rg_src_key src;
	struct rg_acl_mark clean;
};

#endif /* RG_ABI4_H */
