// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IPv6 /64 rotation: see escalate.h. */
#include <bpf/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "escalate.h"

struct member {
	uint8_t group[16]; /* the banned group's address */
	uint64_t at_ns;
};

struct slot {
	uint8_t net[6]; /* the /48 */
	bool used;
	unsigned int n;
	uint64_t last_ns;
	struct member m[ESCALATE_MAX_MEMBERS];
};

struct escalate {
	struct slot slots[ESCALATE_MAX_48S];
};

struct escalate *escalate_new(void)
{
	return calloc(1, sizeof(struct escalate));
}

void escalate_free(struct escalate *e)
{
	free(e);
}

/* The slot of net: its own, else a free one, else the least recently
 * banned (forgotten). */
static struct slot *slot_for(struct escalate *e, const uint8_t *net)
{
	struct slot *s, *victim = &e->slots[0];

	for (s = e->slots; s < e->slots + ESCALATE_MAX_48S; s++) {
		if (s->used && !memcmp(s->net, net, 6))
			return s;
		if (!s->used ? victim->used
			     : victim->used && s->last_ns < victim->last_ns)
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->net, net, 6);
	victim->used = true;
	return victim;
}

/* Keep the members banned within the window, this group's older entry
 * dropped (it is noted anew). */
static void prune(struct slot *s, const uint8_t *group, uint64_t window_ns,
		  uint64_t now_ns)
{
	unsigned int i, kept = 0;

	for (i = 0; i < s->n; i++) {
		if (now_ns - s->m[i].at_ns >= window_ns ||
		    !memcmp(s->m[i].group, group, 16))
			continue;
		s->m[kept++] = s->m[i];
	}
	s->n = kept;
}

bool escalate_note(struct escalate *e, const struct prefix *source,
		   unsigned int need, uint64_t window_ns, uint64_t now_ns,
		   struct prefix *wide)
{
	struct slot *s;

	if (!need || source->family != AF_INET6 ||
	    source->len <= RG_BAN6_WIDE_PREFIX)
		return false;
	if (need > ESCALATE_MAX_MEMBERS)
		need = ESCALATE_MAX_MEMBERS;
	s = slot_for(e, source->addr);
	prune(s, source->addr, window_ns, now_ns);
	if (s->n == ESCALATE_MAX_MEMBERS) /* need < MAX: never reached */
		s->n--;
	memcpy(s->m[s->n].group, source->addr, 16);
	s->m[s->n++].at_ns = now_ns;
	s->last_ns = now_ns;
	if (s->n < need)
		return false;
	memset(wide, 0, sizeof(*wide));
	wide->family = AF_INET6;
	wide->len = RG_BAN6_WIDE_PREFIX;
	memcpy(wide->addr, source->addr, 6);
	s->n = 0;
	return true;
}

/* An allow6 entry overlapping wide: the trie holds prefixes, walked whole
 * (allow lists are short). */
static bool allow_overlaps(const struct rg_maps *maps,
			   const struct prefix *wide)
{
	struct rg_lpm6_key key, next;
	struct prefix p = { .family = AF_INET6 };
	void *prev = NULL;

	if (!maps || maps->allow6 < 0)
		return false;
	while (!bpf_map_get_next_key(maps->allow6, prev, &next)) {
		p.len = next.prefixlen > 128 ? 128 : next.prefixlen;
		memcpy(p.addr, next.addr, 16);
		if (prefix_overlaps(&p, wide))
			return true;
		key = next;
		prev = &key;
	}
	return false;
}

enum ban_outcome escalate_exempt(const struct rg_conf *conf,
				 const struct rg_maps *maps,
				 const struct prefix *wide)
{
	if (conf_trusted_overlaps(conf, wide))
		return BAN_TRUSTED;
	return allow_overlaps(maps, wide) ? BAN_ALLOWED : BAN_ADDED;
}
