// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The source table reuses the flow table's LRU and idle expiry: a source
 * group is stored under a flow key that holds only its address and
 * family (no ports, no server), which no real flow has. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "flow.h"
#include "srctable.h"

struct src_table {
	struct flow_table *by_group;
};

struct src_table *src_table_new(unsigned int max_sources, size_t user_size)
{
	struct flow_table_params params = {
		.max_flows = max_sources,
		.user_size = user_size,
	};
	struct src_table *t = calloc(1, sizeof(*t));

	if (t)
		t->by_group = flow_table_new(&params);
	if (t && t->by_group)
		return t;
	free(t);
	return NULL;
}

void src_table_free(struct src_table *t)
{
	if (t)
		flow_table_free(t->by_group);
	free(t);
}

void *src_table_get(struct src_table *t, const struct prefix *src,
		    unsigned int ipv6_prefix, uint64_t now_ns)
{
	struct prefix group = *src;
	struct rg_flow_key key;
	struct flow *f;

	if (group.family == AF_INET6) {
		group.len = ipv6_prefix;
		prefix_mask(&group);
	}
	flow_key_client(&key, &group, 0);
	f = flow_get(t->by_group, &key, now_ns, true, NULL);
	return f ? flow_user(f) : NULL;
}

void src_table_expire(struct src_table *t, uint64_t now_ns, uint64_t idle_ns)
{
	flow_expire(t->by_group, now_ns, idle_ns);
}
