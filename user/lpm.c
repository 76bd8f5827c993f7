// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* LPM trie keys (see lpm.h). */
#include <string.h>
#include <sys/socket.h>

#include "lpm.h"

size_t lpm_key(const struct prefix *p, union lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	if (p->family == AF_INET) {
		k->v4.prefixlen = p->len;
		memcpy(&k->v4.addr, p->addr, 4);
		return sizeof(k->v4);
	}
	k->v6.prefixlen = p->len;
	memcpy(k->v6.addr, p->addr, 16);
	return sizeof(k->v6);
}

void lpm_prefix(int family, const void *key, struct prefix *p)
{
	const struct rg_lpm4_key *k4 = key;
	const struct rg_lpm6_key *k6 = key;

	memset(p, 0, sizeof(*p));
	p->family = family;
	if (family == AF_INET) {
		p->len = k4->prefixlen;
		memcpy(p->addr, &k4->addr, 4);
	} else {
		p->len = k6->prefixlen;
		memcpy(p->addr, k6->addr, 16);
	}
}
